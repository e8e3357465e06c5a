import assert from "node:assert/strict";
import { humanRenderer, jsonRenderer } from "./output.ts";
import {
  accepted,
  failure,
  finishedEvent,
  type OrderView,
  statusReply,
  TEXTOS,
} from "../wire/protocol.ts";
import { ProcessingStats } from "../stats/live.ts";
import { renderReport } from "../stats/report.ts";

const done: OrderView & { estado: "listo" } = {
  id: 42,
  cliente: "Ana",
  productos: ["pan", "leche"],
  direccion: "Calle Falsa 123",
  estado: "listo",
  fecha_recibido: "2026-11-28T10:00:00.000Z",
  fecha_inicio: "2026-11-28T10:00:00.010Z",
  fecha_fin: "2026-11-28T10:00:02.013Z",
  duracion: 2.003,
  worker: 2,
  intentos: 1,
  motivo_fallo: null,
  resultado: null,
};

Deno.test("human output uses the server's words, with the batch line in front", () => {
  assert.equal(humanRenderer.orderReply(accepted(42), { clave: "k" }), "✅ Pedido encolado #42\n");
  assert.equal(
    humanRenderer.orderReply(failure("limite"), { linea: 3, clave: "k" }),
    `línea 3: ${TEXTOS.limite}\n`,
  );
  assert.equal(
    humanRenderer.orderReply(
      failure("pedido_invalido", "falta cliente", { cliente: "falta cliente" }),
      { clave: "k" },
    ),
    "❌ Pedido inválido: falta cliente\n   cliente: falta cliente\n",
  );
});

Deno.test("a finished order shows its start, end and duration", () => {
  assert.equal(
    humanRenderer.finished(finishedEvent(done)),
    [
      "✅ Pedido #42 listo en 2.003 s",
      "   inicio:   2026-11-28T10:00:00.010Z",
      "   fin:      2026-11-28T10:00:02.013Z",
      "   duración: 2.003 s",
      "",
    ].join("\n"),
  );
  const failed = finishedEvent({
    ...done,
    estado: "fallido",
    fecha_inicio: null,
    duracion: null,
    motivo_fallo: "tiempo agotado",
  });
  assert.match(
    humanRenderer.finished(failed, 7),
    /^línea 7: ❌ Pedido #42 fallido: tiempo agotado\n/,
  );
  assert.match(humanRenderer.finished(failed), /inicio: {3}—\n/);
});

Deno.test("a status shows every field of the order", () => {
  const text = humanRenderer.status(statusReply(done));
  assert.match(text, /^📦 Pedido #42: listo\n/);
  assert.match(text, /productos: +pan, leche\n/);
  assert.match(text, /worker: +2\n/);
  assert.doesNotMatch(text, /motivo/);
  assert.equal(humanRenderer.status(failure("no_encontrado")), `${TEXTOS.no_encontrado}\n`);
});

Deno.test("a processor's result is shown as compact JSON, escaped, when there is one", () => {
  const withResult = { ...done, resultado: { recibo: "R-42", nota: "a\u2028b\u001b" } };
  const row = '   resultado: {"recibo":"R-42","nota":"a\\u2028b\\u001b"}';
  assert.ok(humanRenderer.finished(finishedEvent(withResult)).split("\n").includes(row));
  assert.match(humanRenderer.status(statusReply(withResult)), /\n {3}resultado: \{"recibo"/);
  assert.doesNotMatch(humanRenderer.status(statusReply(done)), /resultado/);
  assert.doesNotMatch(humanRenderer.finished(finishedEvent(done)), /resultado/);
  const json = JSON.parse(jsonRenderer.finished(finishedEvent(withResult)));
  assert.deepEqual(json.pedido.resultado, withResult.resultado);
});

Deno.test("a status without proof shows its state and times and says how to see the rest", () => {
  const {
    cliente: _c,
    productos: _p,
    direccion: _d,
    worker: _w,
    motivo_fallo: _m,
    resultado: _r,
    ...rest
  } = done;
  assert.equal(
    humanRenderer.status(statusReply(rest)),
    [
      "📦 Pedido #42: listo",
      "   recibido:         2026-11-28T10:00:00.000Z",
      "   inicio:           2026-11-28T10:00:00.010Z",
      "   fin:              2026-11-28T10:00:02.013Z",
      "   duración:         2.003 s",
      "   intentos:         1",
      "   datos del pedido: solo con su clave (--clave) o un token de operador",
      "",
    ].join("\n"),
  );
});

Deno.test("statistics are rendered as the server's own report", () => {
  const snapshot = new ProcessingStats().snapshot({ enCola: 1, enProceso: 2 });
  const reply = { ok: true as const, mensaje: "📊", estadisticas: snapshot };
  assert.equal(humanRenderer.stats(reply), renderReport(snapshot) + "\n");
});

Deno.test("the batch summary counts acceptances, rejections by reason and endings", () => {
  assert.equal(
    humanRenderer.summary({
      pedidos: 5,
      aceptados: 3,
      duplicados: 1,
      rechazados: { limite: 1, apagando: 1 },
      sin_respuesta: 0,
      listos: 2,
      fallidos: 1,
    }),
    "Resumen: 5 pedidos · 3 aceptados (1 ya registrado) · 2 rechazados (limite 1, apagando 1) · 2 listos · 1 fallido\n",
  );
  assert.equal(
    humanRenderer.summary({
      pedidos: 1,
      aceptados: 0,
      duplicados: 0,
      rechazados: {},
      sin_respuesta: 1,
    }),
    "Resumen: 1 pedido · 0 aceptados · 0 rechazados · 1 sin respuesta\n",
  );
});

Deno.test("JSON output is the protocol's objects, one per line, with linea and clave", () => {
  assert.deepEqual(
    JSON.parse(jsonRenderer.orderReply(accepted(7, true), { linea: 2, clave: "k" })),
    {
      linea: 2,
      ok: true,
      id: 7,
      duplicado: true,
      mensaje: "✅ Pedido ya registrado #7",
      clave: "k",
    },
  );
  const event = finishedEvent(done);
  assert.deepEqual(JSON.parse(jsonRenderer.finished(event)), event);
  const summary = { pedidos: 0, aceptados: 0, duplicados: 0, rechazados: {}, sin_respuesta: 0 };
  assert.equal(jsonRenderer.summary(summary), JSON.stringify({ resumen: summary }) + "\n");
  for (const text of [jsonRenderer.status(statusReply(done)), jsonRenderer.finished(event)]) {
    assert.equal(text.indexOf("\n"), text.length - 1, "exactly one line");
  }
});

Deno.test("text from the server cannot send control sequences to the terminal", () => {
  const hostile = statusReply({ ...done, cliente: "Ana\x1b[2J" });
  assert.match(humanRenderer.status(hostile), /Ana\\u001b\[2J/);
});
