import assert from "node:assert/strict";
import { handleMessage, isRead, type RequestContext, type RequestService } from "./handlers.ts";
import { ConnectionAuth } from "./auth.ts";
import { parseTokens } from "../auth/tokens.ts";
import type { OrderListener } from "../orders/service.ts";
import { accepted, failure, type OrderView, statusReply } from "../wire/protocol.ts";
import type { Order } from "../wire/schema.ts";
import type { StatsSnapshot } from "../stats/snapshot.ts";

/** The one order the recording service knows, id 7, sent with key `k-7`. */
const STORED: OrderView = {
  id: 7,
  cliente: "Ana",
  productos: ["pan"],
  direccion: "Calle 1",
  estado: "listo",
  fecha_recibido: "2026-01-01T00:00:00.000Z",
  fecha_inicio: "2026-01-01T00:00:00.010Z",
  fecha_fin: "2026-01-01T00:00:01.010Z",
  duracion: 1,
  worker: 1,
  intentos: 1,
  motivo_fallo: null,
  resultado: null,
};

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
    status(id, view) {
      calls.status.push(id);
      return Promise.resolve(
        id === STORED.id ? statusReply(view(STORED)) : failure("no_encontrado"),
      );
    },
    idForKey: (clave) => Promise.resolve(clave === "k-7" ? STORED.id : undefined),
    statistics: () => ({ snapshot, json: JSON.stringify(snapshot) }),
    recordRejected(codigo) {
      calls.rejected.push(codigo);
    },
  };
  return { service, calls, snapshot };
}

const listener: OrderListener = { open: true, wants: () => true, watch() {}, notify() {} };
const context: RequestContext = { listener, auth: new ConnectionAuth(undefined) };
const TOKENS = parseTokens("cliente cliente-0123456789abcdef\noperador operador-0123456789abcdef");
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

Deno.test("estado shows the whole order only with its key or to an operator; a key alone finds it", async () => {
  const { service, calls } = recordingService();
  const blind = await handleMessage({ tipo: "estado", id: 7 }, context, service);
  assert.equal(blind.ok && blind.pedido && "cliente" in blind.pedido, false);
  const otherKey = await handleMessage({ tipo: "estado", id: 7, clave: "k-8" }, context, service);
  assert.equal(otherKey.ok && otherKey.pedido && "cliente" in otherKey.pedido, false);
  const proven = await handleMessage({ tipo: "estado", id: 7, clave: "k-7" }, context, service);
  assert.deepEqual(proven.ok && proven.pedido, STORED);
  const byKey = await handleMessage({ tipo: "estado", clave: "k-7" }, context, service);
  assert.deepEqual(byKey.ok && byKey.pedido, STORED);
  const unknown = await handleMessage({ tipo: "estado", clave: "k-9" }, context, service);
  assert.equal(!unknown.ok && unknown.codigo, "no_encontrado");
  assert.deepEqual(calls.status, [7, 7, 7, 7], "an unknown key asks for no order");

  const operator = { listener, auth: new ConnectionAuth(TOKENS) };
  await handleMessage({ tipo: "auth", token: "operador-0123456789abcdef" }, operator, service);
  const seen = await handleMessage({ tipo: "estado", id: 7 }, operator, service);
  assert.deepEqual(seen.ok && seen.pedido, STORED);
});

Deno.test("with tokens, only auth is answered before it, and a cliente may not read statistics", async () => {
  const { service, calls } = recordingService();
  const guarded = { listener, auth: new ConnectionAuth(TOKENS) };
  for (const message of [ORDER, { tipo: "estado", id: 7 }, { tipo: "estadisticas" }]) {
    const reply = await handleMessage(message, guarded, service);
    assert.equal(!reply.ok && reply.codigo, "no_autorizado");
  }
  assert.deepEqual([calls.submitted.length, calls.status.length], [0, 0], "nothing reached");
  const auth = await handleMessage(
    { tipo: "auth", token: "cliente-0123456789abcdef" },
    guarded,
    service,
  );
  assert.equal(auth.ok && auth.rol, "cliente");
  assert.equal((await handleMessage(ORDER, guarded, service)).ok, true);
  const stats = await handleMessage({ tipo: "estadisticas" }, guarded, service);
  assert.equal(!stats.ok && stats.codigo, "no_autorizado");
  const wrong = await handleMessage({ tipo: "auth", token: "adivina-adivina" }, guarded, service);
  assert.equal(!wrong.ok && wrong.codigo, "no_autorizado");
  assert.equal(guarded.auth.hangUp, true, "the connection is to be closed");
  assert.deepEqual(calls.rejected, Array(5).fill("no_autorizado"), "each refusal is counted");
});

Deno.test("only estado and estadisticas are reads; an order, with or without tipo, is a write", () => {
  assert.equal(isRead({ tipo: "estado", id: 1 }), true);
  assert.equal(isRead({ tipo: "estadisticas" }), true);
  assert.equal(isRead({ tipo: "pedido", ...ORDER }), false);
  assert.equal(isRead(ORDER), false);
  assert.equal(isRead({ tipo: "compra" }), false);
  assert.equal(isRead({ tipo: ["estado"] }), false);
  assert.equal(isRead({ tipo: "auth", token: "t" }), false, "auth is answered at once, in order");
});
