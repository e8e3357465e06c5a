import assert from "node:assert/strict";
import {
  accepted,
  CODIGOS,
  encodeLine,
  failure,
  finishedEvent,
  greeting,
  invalidRequest,
  MAX_GREETING_BYTES,
  type OrderView,
  statisticsReply,
  TEXTOS,
} from "./protocol.ts";

const order: OrderView = {
  id: 7,
  cliente: "Ana",
  productos: ["pan"],
  direccion: "Calle 1",
  estado: "listo",
  fecha_recibido: "2026-11-28T10:00:00.000Z",
  fecha_inicio: "2026-11-28T10:00:00.010Z",
  fecha_fin: "2026-11-28T10:00:02.011Z",
  duracion: 2.001,
  worker: 2,
  intentos: 1,
  motivo_fallo: null,
  resultado: null,
};

Deno.test("the greeting is one line that fits a legacy 1024-byte read, even at large capacities", () => {
  const line = encodeLine(greeting({ max: 1_000_000, libres: 999_999 }, "10.20.30"));
  const bytes = new TextEncoder().encode(line);
  assert.ok(bytes.length < MAX_GREETING_BYTES, `${bytes.length} bytes`);
  assert.equal(line.indexOf("\n"), line.length - 1);
  assert.match(JSON.parse(line).mensaje, /Bienvenido/);
});

Deno.test("replies keep the seed's words", () => {
  assert.deepEqual(accepted(42), { ok: true, id: 42, mensaje: "✅ Pedido encolado #42" });
  assert.deepEqual(failure("limite"), {
    ok: false,
    codigo: "limite",
    mensaje: "❌ Límite de pedidos alcanzado. Intente más tarde.",
  });
  assert.equal(failure("json_invalido", "falta }").mensaje, "❌ JSON inválido: falta }");
  assert.equal(accepted(42, true).duplicado, true);
});

Deno.test("every codigo has a text and failures carry per-field errores only when given", () => {
  for (const codigo of CODIGOS) assert.match(TEXTOS[codigo], /^❌ /);
  assert.deepEqual(failure("pedido_invalido", "x", { cliente: "falta cliente" }).errores, {
    cliente: "falta cliente",
  });
  assert.equal("errores" in failure("interno"), false);
});

Deno.test("a finished event is told apart from replies: it has evento and never ok", () => {
  const event = JSON.parse(encodeLine(finishedEvent({ ...order, estado: "listo" })));
  assert.equal(event.evento, "terminado");
  assert.equal("ok" in event, false);
  assert.equal(event.mensaje, "✅ Pedido #7 listo en 2.001 s");
  const failed = finishedEvent({ ...order, estado: "fallido", motivo_fallo: "tiempo agotado" });
  assert.equal(failed.mensaje, "❌ Pedido #7 fallido: tiempo agotado");
});

Deno.test("a statistics reply's line reuses the snapshot's JSON and equals its own serialisation", () => {
  const estadisticas = Object.freeze({ recibidos: 3, rechazos: { limite: 1 }, mensaje: 'é\n"' });
  const json = JSON.stringify(estadisticas);
  const reply = statisticsReply(estadisticas, json);
  assert.equal(reply.mensaje, "📊 Estadísticas del servidor");
  assert.equal(encodeLine(reply), JSON.stringify(reply) + "\n");
  assert.equal(statisticsReply(estadisticas, json), reply, "one reply per shared snapshot");
  // The line is the JSON given, not a new serialisation: it comes from the cache.
  const other = { recibidos: 3 };
  assert.equal(
    encodeLine(statisticsReply(other, '{"recibidos":3.0}')),
    '{"ok":true,"mensaje":"📊 Estadísticas del servidor","estadisticas":{"recibidos":3.0}}\n',
  );
});

Deno.test("an invalid request's message names its only error, or counts them", () => {
  assert.deepEqual(invalidRequest({ cliente: "falta cliente" }), {
    ok: false,
    codigo: "pedido_invalido",
    mensaje: "❌ Pedido inválido: falta cliente",
    errores: { cliente: "falta cliente" },
  });
  const two = invalidRequest({ cliente: "falta cliente", direccion: "falta direccion" });
  assert.equal(two.mensaje, "❌ Pedido inválido: 2 errores");
  assert.deepEqual(two.errores, { cliente: "falta cliente", direccion: "falta direccion" });
});
