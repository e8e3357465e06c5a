import assert from "node:assert/strict";
import { mayReadStatistics, publicView, viewFor } from "./access.ts";
import type { OrderView } from "../wire/protocol.ts";

const ORDER: OrderView = {
  id: 7,
  cliente: "Ana Pérez",
  productos: ["pan"],
  direccion: "Calle Falsa 123",
  estado: "fallido",
  fecha_recibido: "2026-01-01T00:00:00.000Z",
  fecha_inicio: "2026-01-01T00:00:01.000Z",
  fecha_fin: "2026-01-01T00:00:02.000Z",
  duracion: null,
  worker: 2,
  intentos: 3,
  motivo_fallo: "el worker 2 terminó: Ana Pérez",
  resultado: { recibo: "R-7", nota: "para Ana Pérez" },
};

const PUBLIC = {
  id: 7,
  estado: "fallido",
  fecha_recibido: "2026-01-01T00:00:00.000Z",
  fecha_inicio: "2026-01-01T00:00:01.000Z",
  fecha_fin: "2026-01-01T00:00:02.000Z",
  duracion: null,
  intentos: 3,
};

Deno.test("without proof an order shows only its id, state, times and attempts", () => {
  assert.deepEqual(publicView(ORDER), PUBLIC);
  for (const who of ["anonimo", "cliente"] as const) {
    assert.deepEqual(viewFor(ORDER, { who }), PUBLIC);
    assert.deepEqual(viewFor(ORDER, { who, keyOwnerOf: undefined }), PUBLIC);
    assert.deepEqual(viewFor(ORDER, { who, keyOwnerOf: 8 }), PUBLIC, "another order's key");
  }
  assert.ok(!JSON.stringify(publicView(ORDER)).includes("Ana"));
});

Deno.test("the order's own key or an operator token shows the whole order", () => {
  assert.equal(viewFor(ORDER, { who: "anonimo", keyOwnerOf: 7 }), ORDER);
  assert.equal(viewFor(ORDER, { who: "cliente", keyOwnerOf: 7 }), ORDER);
  assert.equal(viewFor(ORDER, { who: "operador" }), ORDER);
});

Deno.test("statistics are for operators, and for everyone on a server without tokens", () => {
  assert.equal(mayReadStatistics("operador"), true);
  assert.equal(mayReadStatistics("anonimo"), true);
  assert.equal(mayReadStatistics("cliente"), false);
});
