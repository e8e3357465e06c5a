import assert from "node:assert/strict";
import {
  cpuMark,
  LAG_LIMIT_MS,
  LagProbe,
  quantile,
  saturationReasons,
  toolCpu,
} from "./tool_cpu.ts";

const IDLE = { cores: 0.3, threads: 1, cpus: 2, loopLagMs: 0 };

Deno.test("one thread using 90 % of a core is saturated, 89 % is not", () => {
  assert.deepEqual(saturationReasons({ ...IDLE, cores: 0.89 }), []);
  assert.deepEqual(saturationReasons({ ...IDLE, cores: 0.9 }), [
    "usó 0.90 de 1 núcleo que sus hilos pueden ocupar",
  ]);
});

Deno.test("the cores a run can use are its driving threads, bounded by the machine's cores", () => {
  // Three threads on two cores can use two.
  assert.deepEqual(saturationReasons({ ...IDLE, cores: 1.5, threads: 3 }), []);
  assert.deepEqual(saturationReasons({ ...IDLE, cores: 1.85, threads: 3 }), [
    "usó 1.85 de 2 núcleos que sus hilos pueden ocupar",
  ]);
  // Two threads on eight cores are saturated at 1.8.
  assert.equal(saturationReasons({ ...IDLE, cores: 1.8, threads: 2, cpus: 8 }).length, 1);
  assert.equal(saturationReasons({ ...IDLE, cores: 1.7, threads: 2, cpus: 8 }).length, 0);
});

Deno.test("a loop late by the limit at its 90th percentile is saturated, whatever its CPU", () => {
  assert.deepEqual(saturationReasons({ ...IDLE, loopLagMs: LAG_LIMIT_MS - 0.1 }), []);
  assert.deepEqual(saturationReasons({ ...IDLE, loopLagMs: 12.34 }), [
    "su bucle de eventos iba con retraso: p90 12.3 ms (límite 10 ms)",
  ]);
  assert.equal(saturationReasons({ ...IDLE, cores: 1, loopLagMs: 50 }).length, 2);
});

Deno.test("CPU per order and cores come from the two marks over the same span", () => {
  const cpu = toolCpu({
    from: { cpuUs: 1_000_000, wallMs: 500 },
    to: { cpuUs: 1_600_000, wallMs: 1500 },
    orders: 20_000,
    threads: 2,
    cpus: 2,
    lagSamplesMs: [0, 0, 3, 0, 40],
  });
  assert.equal(cpu.seconds, 0.6);
  assert.equal(cpu.usPerOrder, 30);
  assert.equal(cpu.cores, 0.6);
  assert.equal(cpu.loopLagMs, 40);
  assert.equal(cpu.loopLagMaxMs, 40);
  assert.deepEqual(cpu.saturation, [
    "su bucle de eventos iba con retraso: p90 40.0 ms (límite 10 ms)",
  ]);
});

Deno.test("one late tick among many does not make the loop late", () => {
  const samples = [...Array(19).fill(0.5), 200];
  const cpu = toolCpu({
    from: { cpuUs: 0, wallMs: 0 },
    to: { cpuUs: 100_000, wallMs: 2000 },
    orders: 100,
    threads: 1,
    cpus: 2,
    lagSamplesMs: samples,
  });
  assert.equal(cpu.loopLagMs, 0.5);
  assert.equal(cpu.loopLagMaxMs, 200);
  assert.deepEqual(cpu.saturation, []);
});

Deno.test("a run with no orders and no time reports zeros, not NaN", () => {
  const mark = { cpuUs: 5, wallMs: 5 };
  const cpu = toolCpu({ from: mark, to: mark, orders: 0, threads: 1, cpus: 1, lagSamplesMs: [] });
  assert.deepEqual(
    [cpu.seconds, cpu.usPerOrder, cpu.cores, cpu.loopLagMs, cpu.loopLagMaxMs],
    [0, 0, 0, 0, 0],
  );
});

Deno.test("quantile takes the nearest rank", () => {
  assert.equal(quantile([5, 1, 4, 2, 3], 0.5), 3);
  assert.equal(quantile([5, 1, 4, 2, 3], 0.9), 5);
  assert.equal(quantile([], 0.9), 0);
});

Deno.test("the lag probe measures how late each tick came after the previous one", () => {
  const probe = new LagProbe(50, 1000);
  probe.tick(1050);
  probe.tick(1120);
  probe.tick(1160);
  assert.deepEqual(probe.samples, [0, 20, 0]);
});

Deno.test("the process's CPU clock counts a worker thread's work", async () => {
  const before = cpuMark();
  const code = "const t = performance.now(); while (performance.now() - t < 300); postMessage(0);";
  const worker = new Worker(
    URL.createObjectURL(new Blob([code], { type: "text/javascript" })),
    { type: "module" },
  );
  try {
    await new Promise((resolve) => worker.onmessage = resolve);
  } finally {
    worker.terminate();
  }
  const after = cpuMark();
  // The main thread only waited; nearly all of at least 300 ms of CPU is the worker's.
  assert.ok(after.cpuUs - before.cpuUs >= 250_000, `${after.cpuUs - before.cpuUs} µs`);
  assert.ok(after.wallMs - before.wallMs >= 300);
});
