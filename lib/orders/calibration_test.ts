import assert from "node:assert/strict";
import {
  calibrateCpu,
  type CalibrationRound,
  iterationsFor,
  iterationsPerMs,
} from "./calibration.ts";
import { sandboxedWorker } from "./pool.ts";

const WORKER_URL = new URL("../../worker.ts", import.meta.url);

Deno.test("the calibration keeps the best round, each timed by its shorter clock", () => {
  const rounds: CalibrationRound[] = [
    { iterations: 1_000_000, wallMs: 20, cpuMs: 21 }, // 50,000 per ms
    { iterations: 3_000_000, wallMs: 20, cpuMs: 10 }, // waited for a core: 300,000 per ms
    { iterations: 2_000_000, wallMs: 20, cpuMs: 40 }, // other threads busy too: 100,000 per ms
  ];
  assert.equal(iterationsPerMs(rounds), 300_000);
  assert.equal(iterationsPerMs(rounds.slice(0, 1)), 50_000);
  assert.equal(iterationsPerMs([{ iterations: 500, wallMs: 2, cpuMs: 0 }]), 250, "no CPU time");
});

Deno.test("a calibration with no usable round is an error, not a rate of zero or infinity", () => {
  for (
    const rounds of [
      [],
      [{ iterations: 0, wallMs: 20, cpuMs: 20 }],
      [{ iterations: 1000, wallMs: 0, cpuMs: 0 }],
    ]
  ) {
    assert.throws(() => iterationsPerMs(rounds), RangeError);
  }
});

Deno.test("an order's iterations are its milliseconds at the calibrated rate, rounded", () => {
  assert.equal(iterationsFor(20, 150_000.4), 3_000_008);
  assert.equal(iterationsFor(2000, 123_456.789), 246_913_578);
  assert.equal(iterationsFor(0, 150_000), 0);
  assert.equal(iterationsFor(1, 0.4), 0);
});

Deno.test("a real worker calibrates to a positive, finite rate", async () => {
  const perMs = await calibrateCpu(WORKER_URL, sandboxedWorker);
  assert.ok(Number.isFinite(perMs) && perMs > 0, `${perMs} iterations per ms`);
});

Deno.test("a worker that cannot calibrate stops the calibration with one line saying why", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pedidos-calibracion-" });
  try {
    const broken = `${dir}/worker.ts`;
    await Deno.writeTextFile(broken, 'throw new Error("este worker no arranca");\n');
    await assert.rejects(
      () => calibrateCpu(new URL(`file://${broken}`), sandboxedWorker),
      (error: Error) => {
        assert.match(
          error.message,
          /^no se pudo calibrar el trabajo cpu: el worker falló: .*este worker no arranca/,
        );
        assert.equal(error.message.includes("\n"), false);
        return true;
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
