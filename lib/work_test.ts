import assert from "node:assert/strict";
import { cancel, createCancelCell, processOrder, sleepBlocking, spinCpu } from "./work.ts";

const pedido = { cliente: "Ana", productos: ["pan"], direccion: "Calle 1" };

Deno.test("processOrder takes the configured time in both modes and reports its own times", () => {
  for (const workMode of ["sleep", "cpu"] as const) {
    const result = processOrder({ id: 9, workMs: 50, workMode, pedido });
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
  const result = processOrder({ id: 1, workMs: 0, workMode: "sleep", pedido });
  assert.ok(result.fin - result.inicio < 50);
});
