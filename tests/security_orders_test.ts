/**
 * Order data goes only to whom it belongs, over both loopbacks: a stranger
 * walking ids gets no personal data; the order's key or an operator token
 * gets the whole order; statistics and the report carry aggregates only; and
 * a client written as the seed's Python ones still works without tokens.
 *
 * @module
 */
import assert from "node:assert/strict";
import { LOOPBACKS, order, startTestServer, tempDir, TestClient, waitFor } from "./helpers.ts";
import { row } from "./server_helpers.ts";
import { TOKENS, writeTokens } from "./security_helpers.ts";
import { renderReport } from "../lib/stats/report.ts";

const PERSONAL = ["cliente", "productos", "direccion", "worker", "motivo_fallo"];
const PUBLIC_KEYS = [
  "duracion",
  "estado",
  "fecha_fin",
  "fecha_inicio",
  "fecha_recibido",
  "id",
  "intentos",
];

for (const host of LOOPBACKS) {
  Deno.test(`walking ids over ${host} gives a stranger states and times, and no personal data`, async () => {
    await using t = await startTestServer({ workMs: 5 });
    await using owner = await TestClient.open(t.port, "127.0.0.1");
    const ids: number[] = [];
    for (const cliente of ["Ana Secreta", "Benito Privado", "Carla Oculta"]) {
      const reply = await owner.request(
        order({ cliente, direccion: `Calle de ${cliente}`, clave: crypto.randomUUID() }),
      );
      ids.push(reply.id as number);
    }
    await waitFor(
      async () =>
        (await Promise.all(ids.map((id) => row(t.db, id)))).every((r) => r?.estado === "listo"),
      "orders done",
    );

    await using stranger = await TestClient.open(t.port, host);
    for (let id = 1; id <= ids.length + 2; id++) {
      const reply = await stranger.request({ tipo: "estado", id });
      if (id > ids.length) {
        assert.equal(reply.codigo, "no_encontrado");
        continue;
      }
      assert.equal(reply.ok, true, JSON.stringify(reply));
      const pedido = reply.pedido as Record<string, unknown>;
      assert.deepEqual(Object.keys(pedido).toSorted(), PUBLIC_KEYS);
      assert.equal(pedido.estado, "listo");
      assert.equal(pedido.intentos, 1);
      const text = JSON.stringify(reply);
      for (const secret of ["Secreta", "Privado", "Oculta", "pan", "Calle"]) {
        assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
      }
    }
  });

  Deno.test(`the order's key over ${host}, with its id or alone, shows the whole order; another key does not`, async () => {
    await using t = await startTestServer({ workMs: 5 });
    await using owner = await TestClient.open(t.port, host);
    const mine = await owner.request(order({ cliente: "Dueña", clave: "clave-duena-1" }));
    const theirs = await owner.request(order({ cliente: "Otro", clave: "clave-otro-2" }));

    await using other = await TestClient.open(t.port, host === "::1" ? "127.0.0.1" : "::1");
    const byIdAndKey = await other.request({ tipo: "estado", id: mine.id, clave: "clave-duena-1" });
    assert.equal((byIdAndKey.pedido as Record<string, unknown>).cliente, "Dueña");
    const byKey = await other.request({ tipo: "estado", clave: "clave-duena-1" });
    assert.equal(byKey.ok, true);
    assert.equal((byKey.pedido as Record<string, unknown>).id, mine.id);
    assert.equal((byKey.pedido as Record<string, unknown>).direccion, "Calle Falsa 123");

    const wrongKey = await other.request({ tipo: "estado", id: mine.id, clave: "clave-otro-2" });
    assert.equal(wrongKey.ok, true, "the state is public");
    for (const field of PERSONAL) {
      assert.ok(!(field in (wrongKey.pedido as object)), `${field} shown for another order's key`);
    }
    assert.notEqual(theirs.id, mine.id);
    const unknownKey = await other.request({ tipo: "estado", clave: "nadie-la-uso" });
    assert.equal(unknownKey.codigo, "no_encontrado");
  });

  Deno.test(`an operator token over ${host} sees any order whole; a cliente token only with the key`, async () => {
    await using dir = await tempDir();
    await using t = await startTestServer({ tokensFile: await writeTokens(dir.path) });
    await using sender = await TestClient.open(t.port, host);
    assert.equal((await sender.request({ tipo: "auth", token: TOKENS.cliente })).ok, true);
    const sent = await sender.request(order({ cliente: "Con token", clave: "k-token" }));
    assert.equal(sent.ok, true);

    await using cliente = await TestClient.open(t.port, host);
    assert.equal((await cliente.request({ tipo: "auth", token: TOKENS.cliente })).rol, "cliente");
    const blind = await cliente.request({ tipo: "estado", id: sent.id });
    assert.equal((blind.pedido as Record<string, unknown>).cliente, undefined);
    const proven = await cliente.request({ tipo: "estado", id: sent.id, clave: "k-token" });
    assert.equal((proven.pedido as Record<string, unknown>).cliente, "Con token");

    await using operador = await TestClient.open(t.port, host);
    assert.equal(
      (await operador.request({ tipo: "auth", token: TOKENS.operador })).rol,
      "operador",
    );
    const full = await operador.request({ tipo: "estado", id: sent.id });
    assert.equal((full.pedido as Record<string, unknown>).cliente, "Con token");
    assert.deepEqual((full.pedido as Record<string, unknown>).productos, ["pan", "leche"]);
  });
}

Deno.test("the statistics and the shutdown report carry aggregates only, no names", async () => {
  await using t = await startTestServer({ workMs: 5 });
  await using client = await TestClient.open(t.port, "::1");
  const names = ["Nombre Muy Reconocible", "Avenida Inconfundible 9", "producto-delator"];
  const reply = await client.request(
    order({ cliente: names[0], direccion: names[1], productos: [names[2]] }),
  );
  await waitFor(
    async () => (await row(t.db, reply.id as number))?.estado === "listo",
    "the order done",
  );
  const stats = JSON.stringify(await client.request({ tipo: "estadisticas" }));
  client.close();
  const summary = await t.server.shutdown();
  const report = renderReport(summary.snapshot) + JSON.stringify(summary.snapshot);
  for (const name of names) {
    assert.ok(!stats.includes(name), `${name} in estadisticas`);
    assert.ok(!report.includes(name), `${name} in the report`);
  }
  assert.equal(summary.snapshot.listos, 1);
});

const PYTHON = await (async () => {
  try {
    return (await new Deno.Command("python3", { args: ["--version"], stdout: "null" }).output())
      .success;
  } catch {
    return false;
  }
})();
if (!PYTHON) console.log("python3 no está instalado: se omite la prueba del cliente Python");

// The seed's client, as its design describes it: connect, read the greeting,
// send one raw JSON object without a newline, read the reply.
const SEED_CLIENT = `
import json, socket, sys
host, port = sys.argv[1], int(sys.argv[2])
with socket.create_connection((host, port)) as s:
    s.recv(1024)
    pedido = {"cliente": "Python", "productos": ["pan"], "dirección": "Calle 1"}
    s.sendall(json.dumps(pedido).encode())
    print(s.recv(1024).decode().strip())
`;

Deno.test({
  name: "a client written as the seed's Python ones still works on a server without tokens",
  ignore: !PYTHON,
  async fn() {
    await using t = await startTestServer();
    for (const host of LOOPBACKS) {
      const output = await new Deno.Command("python3", {
        args: ["-c", SEED_CLIENT, host, String(t.port)],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stdout = new TextDecoder().decode(output.stdout);
      assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
      const reply = JSON.parse(stdout);
      assert.equal(reply.ok, true, stdout);
      assert.match(reply.mensaje, /^✅ Pedido encolado #\d+$/);
    }
  },
});
