import assert from "node:assert/strict";
import { RateMeter, renderProgressBar, renderProgressLine } from "./progress.ts";

Deno.test("the bar fills in proportion and shows count, rate and elapsed time", () => {
  const sample = { done: 250, total: 1000, errors: 0, elapsedMs: 1500, rate: 180 };
  assert.equal(
    renderProgressBar(sample, 20),
    "[#####...............]  25% 250/1000 · 180/s · 1.5 s",
  );
  assert.equal(
    renderProgressBar({ ...sample, done: 1000, errors: 3 }, 10),
    "[##########] 100% 1000/1000 · 180/s · 1.5 s · errores 3",
  );
});

Deno.test("the bar never overflows, even past the total or with no total", () => {
  assert.match(
    renderProgressBar({ done: 5, total: 2, errors: 0, elapsedMs: 0, rate: 0 }, 4),
    /^\[####\] 100%/,
  );
  assert.match(
    renderProgressBar({ done: 0, total: 0, errors: 0, elapsedMs: 0, rate: 0 }, 4),
    /^\[\.\.\.\.\] {3}0%/,
  );
});

Deno.test("the plain line carries the same facts without control characters", () => {
  const line = renderProgressLine({
    done: 250,
    total: 1000,
    errors: 2,
    elapsedMs: 1500,
    rate: 180,
  });
  assert.equal(line, "carga: 1.5 s · 250/1000 (25%) · 180/s · errores 2");
  assert.ok(!line.includes("\r") && !line.includes("\u001b"));
});

Deno.test("the rate meter measures each interval on its own", () => {
  const meter = new RateMeter(0, 0);
  assert.equal(meter.update(500, 1000), 500);
  assert.equal(meter.update(1500, 1500), 2000);
  assert.equal(meter.update(1500, 1500), 0);
});
