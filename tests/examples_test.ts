/**
 * The example processor in `examples/`, run as the docs say: a real server
 * with `--processor examples/procesar_http.ts`, granted one variable and one
 * host, in front of a real HTTP service on loopback.
 *
 * @module
 */
import assert from "node:assert/strict";
import { order, startTestServer, TestClient } from "./helpers.ts";

const EXAMPLE = new URL("../examples/procesar_http.ts", import.meta.url).pathname;

Deno.test("examples/procesar_http.ts posts each order to the shop's service and stores its answer", async () => {
  const received: { key: string | null; body: Record<string, unknown> }[] = [];
  let status = 201;
  await using service = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      received.push({ key: request.headers.get("idempotency-key"), body: await request.json() });
      return status === 201
        ? Response.json({ envio: `E-${received.length}` }, { status })
        : new Response("caído", { status, statusText: "Service Unavailable" });
    },
  );
  const host = `127.0.0.1:${service.addr.port}`;
  Deno.env.set("PEDIDOS_API", `http://${host}/pedidos`);
  try {
    await using t = await startTestServer({
      workers: 1,
      retries: 0,
      processor: { file: EXAMPLE, grants: { net: [host], read: [], env: ["PEDIDOS_API"] } },
    });
    await using client = await TestClient.open(t.port);
    const reply = await client.request(order({ avisar: true }));
    const event = await client.readJson(20_000);
    assert.equal(event.estado, "listo");
    assert.deepEqual((event.pedido as Record<string, unknown>).resultado, { envio: "E-1" });
    assert.equal(received[0]!.key, `pedido-${reply.id}`);
    assert.equal(received[0]!.body.id, reply.id);
    assert.deepEqual(received[0]!.body.productos, ["pan", "leche"]);

    status = 503;
    await client.request(order({ avisar: true }));
    const failed = await client.readJson(20_000);
    assert.equal(failed.estado, "fallido");
    assert.equal(
      (failed.pedido as Record<string, unknown>).motivo_fallo,
      "el procesador falló: el servicio respondió 503 Service Unavailable",
    );
  } finally {
    Deno.env.delete("PEDIDOS_API");
  }
});
