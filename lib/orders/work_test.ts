import assert from "node:assert/strict";
import {
  burnCpu,
  cancel,
  cpuKernel,
  createCancelCell,
  KERNEL_CHUNK,
  KERNEL_SEED,
  processOrder,
  readProgress,
  sleepBlocking,
  stopAfter,
  timeKernel,
  type WorkMode,
  type WorkResult,
} from "./work.ts";

const pedido = { cliente: "Ana", productos: ["pan"], direccion: "Calle 1", recibido: 0 };

Deno.test("processOrder sleeps the configured time and reports its own times", () => {
  const result = processOrder({ id: 9, workMs: 50, workMode: "sleep", pedido }) as WorkResult;
  assert.equal(result.id, 9);
  assert.ok(result.fin - result.inicio >= 49, `${result.fin - result.inicio} ms`);
});

Deno.test("the kernel is a fixed function of its state and count, and runs in any split", () => {
  assert.equal(cpuKernel(KERNEL_SEED, 0), KERNEL_SEED);
  const values = [1, 2, 3, 1000].map((count) => cpuKernel(KERNEL_SEED, count));
  assert.equal(new Set(values).size, values.length, "each count gives its own value");
  for (const value of values) assert.ok(Number.isInteger(value) && value === (value | 0));
  assert.equal(cpuKernel(KERNEL_SEED, 1000), values[3]);
  assert.equal(cpuKernel(cpuKernel(KERNEL_SEED, 400), 600), values[3]);
  assert.notEqual(cpuKernel(0, 1), 0, "0 is not a fixed point");
});

Deno.test("the cpu work runs exactly its iterations of the kernel, chunk by chunk", () => {
  const iterations = 2 * KERNEL_CHUNK + 5;
  assert.equal(burnCpu(iterations), cpuKernel(KERNEL_SEED, iterations));
  assert.equal(burnCpu(KERNEL_CHUNK), cpuKernel(KERNEL_SEED, KERNEL_CHUNK));
  assert.equal(burnCpu(0), KERNEL_SEED);
});

Deno.test("a calibration round runs whole chunks of the kernel for at least its window", () => {
  for (const windowMs of [0, 5]) {
    const { iteraciones, ms } = timeKernel(windowMs);
    assert.ok(iteraciones > 0 && iteraciones % KERNEL_CHUNK === 0, `${iteraciones} iterations`);
    assert.ok(ms >= windowMs, `${ms} ms`);
  }
});

Deno.test("a cancelled cell ends sleeping at once, and the cpu work before its first chunk", () => {
  const cell = createCancelCell();
  cancel(cell);
  const started = performance.now();
  sleepBlocking(5000, cell);
  assert.ok(performance.now() - started < 1000);
  assert.equal(burnCpu(Number.MAX_SAFE_INTEGER, cell), KERNEL_SEED);
});

Deno.test("cpu work without its calibrated iterations is refused before it starts", () => {
  const cell = createCancelCell();
  assert.throws(
    () => processOrder({ id: 2, seq: 1, workMs: 20, workMode: "cpu", pedido, cancel: cell }),
    /^Error: trabajo cpu sin calibrar/,
  );
  assert.deepEqual(readProgress(cell), { running: 0, startedAt: 0, finished: 0 });
  const done = processOrder({ id: 3, workMs: 20, workMode: "cpu", cpuIterations: 0, pedido });
  assert.equal("fin" in done, true);
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

for (const workMode of ["sleep", "cpu"] satisfies WorkMode[]) {
  Deno.test(`a worker's cell shows the ${workMode} order it is running and since when, and a cancel ends it`, async () => {
    const cell = createCancelCell();
    const worker = new Worker(new URL("../../worker.ts", import.meta.url), { type: "module" });
    try {
      const answered = new Promise((resolve) => worker.onmessage = resolve);
      const sentAt = Date.now();
      worker.postMessage({
        id: 1,
        seq: 7,
        // Far more than a test lasts, in either mode: only the cancel ends it.
        workMs: 600_000,
        workMode,
        cpuIterations: Number.MAX_SAFE_INTEGER,
        pedido,
        cancel: cell,
      });
      while (readProgress(cell).running !== 7) await new Promise((r) => setTimeout(r, 5));
      assert.ok(readProgress(cell).startedAt >= sentAt);
      assert.equal(readProgress(cell).finished, 0);
      cancel(cell);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const outcome = await Promise.race([
        answered.then(() => "answered"),
        new Promise((resolve) => timer = setTimeout(() => resolve("still running"), 20_000)),
      ]);
      clearTimeout(timer);
      assert.equal(outcome, "answered");
      assert.deepEqual([readProgress(cell).running, readProgress(cell).finished], [0, 7]);
    } finally {
      worker.terminate();
    }
  });
}
