import assert from "node:assert/strict";
import { handleMessage, isRead, type RequestContext, type RequestService } from "./handlers.ts";
import type { OrderListener } from "../orders/service.ts";
import { accepted, failure } from "../wire/protocol.ts";
import type { Order } from "../wire/schema.ts";
import type { StatsSnapshot } from "../stats/snapshot.ts";

/** A service that records what it is asked and answers with fixed replies. */
function recordingService() {
  const calls = {
    submitted: [] as { order: Order; listener: OrderListener | undefined }[],
    status: [] as number[],
    rejected: [] as string[],
  };
  const snapshot = { recibidos: 3 } as StatsSnapshot;
  const service: RequestService = {
    submit(order, listener) {
      calls.submitted.push({ order, listener });
      return Promise.resolve(accepted(1));
    },
    status(id) {
      calls.status.push(id);
      return Promise.resolve(failure("no_encontrado"));
    },
    statistics: () => ({ snapshot, json: JSON.stringify(snapshot) }),
    recordRejected(codigo) {
      calls.rejected.push(codigo);
    },
  };
  return { service, calls, snapshot };
}

const listener: OrderListener = { open: true, wants: () => true, watch() {}, notify() {} };
const context: RequestContext = { listener };
const ORDER = { cliente: "Ana", productos: ["pan"], direccion: "Calle 1" };

Deno.test("an order is submitted validated and trimmed, with the listener only when it asks avisar", async () => {
  const { service, calls } = recordingService();
  assert.deepEqual(
    await handleMessage({ ...ORDER, cliente: " Ana " }, context, service),
    accepted(1),
  );
  await handleMessage({ ...ORDER, tipo: "pedido", avisar: true, clave: "k" }, context, service);
  await handleMessage({ ...ORDER, avisar: false }, context, service);
  assert.deepEqual(calls.submitted.map((call) => call.listener), [undefined, listener, undefined]);
  assert.equal(calls.submitted[0]!.order.cliente, "Ana");
  assert.equal(calls.submitted[1]!.order.clave, "k");
});

Deno.test("estado asks for the id given; estadisticas answers this run's snapshot", async () => {
  const { service, calls, snapshot } = recordingService();
  const status = await handleMessage({ tipo: "estado", id: 42 }, context, service);
  assert.equal(!status.ok && status.codigo, "no_encontrado");
  assert.deepEqual(calls.status, [42]);
  const stats = await handleMessage({ tipo: "estadisticas" }, context, service);
  assert.equal(stats.ok, true);
  assert.equal(stats.ok && stats.estadisticas, snapshot);
});

Deno.test("an invalid request is pedido_invalido naming each field, counted, and reaches no one", async () => {
  const { service, calls } = recordingService();
  const one = await handleMessage({ ...ORDER, productos: [] }, context, service);
  assert.equal(!one.ok && one.codigo, "pedido_invalido");
  assert.ok(!one.ok && one.errores?.["productos"]);
  assert.ok(!one.ok && one.mensaje.endsWith(one.errores!["productos"]!), "one field: its message");
  const two = await handleMessage({ productos: "pan", direccion: 1 }, context, service);
  assert.ok(!two.ok && /\d+ errores$/.test(two.mensaje), "several fields: how many");
  const unknown = await handleMessage({ tipo: "compra" }, context, service);
  assert.ok(!unknown.ok && unknown.errores?.["tipo"]);
  assert.deepEqual(calls.rejected, ["pedido_invalido", "pedido_invalido", "pedido_invalido"]);
  assert.deepEqual([calls.submitted.length, calls.status.length], [0, 0]);
});

Deno.test("only estado and estadisticas are reads; an order, with or without tipo, is a write", () => {
  assert.equal(isRead({ tipo: "estado", id: 1 }), true);
  assert.equal(isRead({ tipo: "estadisticas" }), true);
  assert.equal(isRead({ tipo: "pedido", ...ORDER }), false);
  assert.equal(isRead(ORDER), false);
  assert.equal(isRead({ tipo: "compra" }), false);
  assert.equal(isRead({ tipo: ["estado"] }), false);
});
