import assert from "node:assert/strict";
import {
  cancel,
  createCancelCell,
  processOrder,
  readProgress,
  sleepBlocking,
  spinCpu,
  stopAfter,
  type WorkResult,
} from "./work.ts";

const pedido = { cliente: "Ana", productos: ["pan"], direccion: "Calle 1", recibido: 0 };

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

Deno.test("processOrder notes in its cell the order it ran and leaves none running", () => {
  const cell = createCancelCell();
  assert.deepEqual(readProgress(cell), { running: 0, startedAt: 0, finished: 0 });
  const before = Date.now();
  processOrder({ id: 5, seq: 3, workMs: 10, workMode: "sleep", pedido, cancel: cell });
  const progress = readProgress(cell);
  assert.equal(progress.running, 0);
  assert.equal(progress.finished, 3);
  assert.ok(progress.startedAt >= before && progress.startedAt <= Date.now());
});

Deno.test("a worker's cell shows the order it is running and since when, while it runs", async () => {
  const cell = createCancelCell();
  const worker = new Worker(new URL("../../worker.ts", import.meta.url), { type: "module" });
  try {
    const answered = new Promise((resolve) => worker.onmessage = resolve);
    const sentAt = Date.now();
    worker.postMessage({ id: 1, seq: 7, workMs: 5000, workMode: "sleep", pedido, cancel: cell });
    while (readProgress(cell).running !== 7) await new Promise((r) => setTimeout(r, 5));
    assert.ok(readProgress(cell).startedAt >= sentAt);
    assert.equal(readProgress(cell).finished, 0);
    cancel(cell);
    await answered;
    assert.deepEqual([readProgress(cell).running, readProgress(cell).finished], [0, 7]);
  } finally {
    worker.terminate();
  }
});
