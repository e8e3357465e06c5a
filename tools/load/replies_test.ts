import assert from "node:assert/strict";
import { ReplyReader } from "./replies.ts";
import { accepted, encodeLine, failure, finishedEvent, greeting } from "../../lib/wire/protocol.ts";

const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text);

Deno.test("the server's own greeting, replies and events are classified", () => {
  const reader = new ReplyReader();
  const pedido = {
    id: 3,
    cliente: "Ana",
    productos: ["pan"],
    direccion: "Calle 1",
    estado: "listo" as const,
    fecha_recibido: "2025-01-01T00:00:00.000Z",
    fecha_inicio: null,
    fecha_fin: null,
    duracion: 0.5,
    worker: 1,
    intentos: 1,
    motivo_fallo: null,
    resultado: null,
  };
  const text = encodeLine(greeting({ max: 6, libres: 6 }, "1.0.0")) +
    encodeLine(accepted(41)) +
    encodeLine(accepted(42, true)) +
    encodeLine(failure("limite")) +
    encodeLine(failure("pedido_invalido", "falta cliente", { cliente: "falta cliente" })) +
    encodeLine(finishedEvent(pedido));
  assert.deepEqual(reader.push(bytes(text)), [
    { tipo: "saludo" },
    { tipo: "ok", id: 41 },
    { tipo: "ok", id: 42 },
    { tipo: "error", codigo: "limite" },
    { tipo: "error", codigo: "pedido_invalido" },
    { tipo: "evento" },
  ]);
});

Deno.test("lines split across chunks at every byte are put back together", () => {
  const text = encodeLine(accepted(123456)) + encodeLine(failure("json_invalido")) + "\r\n" +
    '{"ok":true,"id":7}\r\n';
  for (let cut = 0; cut <= text.length; cut++) {
    const reader = new ReplyReader();
    const whole = bytes(text);
    const lines = [
      ...reader.push(whole.subarray(0, cut)),
      ...reader.push(whole.subarray(cut)),
    ];
    assert.deepEqual(lines, [
      { tipo: "ok", id: 123456 },
      { tipo: "error", codigo: "json_invalido" },
      { tipo: "ok", id: 7 },
    ], `cut at ${cut}`);
  }
});

Deno.test("other key orders and unknown shapes fall back to JSON, or are unreadable", () => {
  const reader = new ReplyReader();
  assert.deepEqual(
    reader.push(bytes(
      '{"id":5,"ok":true}\n{"codigo":"interno","ok":false}\n{"ok":true}\nhola\n[1]\n{"ok":true,"id":1e3}\n' +
        '{"tipo":"bienvenida","ok":true}\n',
    )),
    [
      { tipo: "ok", id: 5 },
      { tipo: "error", codigo: "interno" },
      { tipo: "ok", id: undefined },
      { tipo: "ilegible", texto: "hola" },
      { tipo: "ilegible", texto: "[1]" },
      { tipo: "ok", id: 1000 },
      { tipo: "saludo" },
    ],
  );
});

Deno.test("an unfinished line waits for more bytes", () => {
  const reader = new ReplyReader();
  assert.deepEqual(reader.push(bytes('{"ok":true,"id":9')), []);
  assert.deepEqual(reader.push(bytes(',"mensaje":"x"}\n')), [{ tipo: "ok", id: 9 }]);
  assert.deepEqual(reader.push(bytes('{"ok":true,"id":10}\n')), [{ tipo: "ok", id: 10 }]);
});
