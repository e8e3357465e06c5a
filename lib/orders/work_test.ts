import assert from "node:assert/strict";
import {
  cancel,
  createCancelCell,
  processOrder,
  sleepBlocking,
  spinCpu,
  stopAfter,
  type WorkResult,
} from "./work.ts";

const pedido = { cliente: "Ana", productos: ["pan"], direccion: "Calle 1" };

Deno.test("processOrder takes the configured time in both modes and reports its own times", () => {
  for (const workMode of ["sleep", "cpu"] as const) {
    const result = processOrder({ id: 9, workMs: 50, workMode, pedido }) as WorkResult;
    assert.equal(result.id, 9);
    assert.ok(result.fin - result.inicio >= 49, `${workMode}: ${result.fin - result.inicio} ms`);
  }
});

Deno.test("a cancelled cell ends sleeping and spinning at once", () => {
  const cell = createCancelCell();
  cancel(cell);
  const started = performance.now();
  sleepBlocking(5000, cell);
  spinCpu(5000, cell);
  assert.ok(performance.now() - started < 1000);
});

Deno.test("zero work returns immediately", () => {
  const result = processOrder({ id: 1, workMs: 0, workMode: "sleep", pedido }) as WorkResult;
  assert.ok(result.fin - result.inicio < 50);
});

Deno.test("after stopAfter, later orders are handed back unstarted, earlier ones run", () => {
  const cell = createCancelCell();
  stopAfter(cell, 2);
  const order = (seq: number) =>
    processOrder({ id: seq, seq, workMs: 0, workMode: "sleep", pedido, cancel: cell });
  assert.equal("fin" in order(2), true);
  assert.deepEqual(order(3), { id: 3, omitido: true });
  stopAfter(cell, 0);
  assert.deepEqual(order(1), { id: 1, omitido: true });
});
