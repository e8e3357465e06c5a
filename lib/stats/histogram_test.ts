import assert from "node:assert/strict";
import fc from "fast-check";
import { Histogram, quantileRank } from "./histogram.ts";

/** The exact nearest-rank quantile of an ascending array. */
function exactPercentile(sorted: readonly number[], q: number): number {
  const value = sorted[quantileRank(q, sorted.length) - 1];
  assert.ok(value !== undefined);
  return value;
}

function assertWithin1Percent(actual: number, expected: number, context: string): void {
  const error = Math.abs(actual - expected);
  assert.ok(
    error <= expected * 0.01,
    `${context}: ${actual} no está dentro del 1 % de ${expected}`,
  );
}

function histogramOf(values: readonly number[]): Histogram {
  const h = new Histogram();
  for (const v of values) h.record(v);
  return h;
}

/** Values spread over the whole range on a log scale, 0.001 ms .. 1 h. */
const logUniformValue = fc
  .double({ min: Math.log(0.001), max: Math.log(3_600_000), noNaN: true })
  .map(Math.exp)
  .map((v) => Math.min(v, 3_600_000));
const linearValue = fc.double({ min: 0.001, max: 5_000, noNaN: true });
const quantiles = [0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];

Deno.test("an empty histogram has count 0 and NaN for min, max, mean and percentiles", () => {
  const h = new Histogram();
  assert.equal(h.count, 0);
  assert.ok(Number.isNaN(h.min));
  assert.ok(Number.isNaN(h.max));
  assert.ok(Number.isNaN(h.mean));
  assert.ok(Number.isNaN(h.percentile(0.5)));
  assert.ok(Number.isNaN(h.percentile(0)));
  assert.ok(Number.isNaN(h.percentile(1)));
});

Deno.test("percentiles are within 1% of the exact sorted-array percentiles on random data", () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(logUniformValue, linearValue), { minLength: 1, maxLength: 400 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      (values, q) => {
        const h = histogramOf(values);
        const sorted = [...values].sort((a, b) => a - b);
        for (const quantile of [...quantiles, q]) {
          assertWithin1Percent(
            h.percentile(quantile),
            exactPercentile(sorted, quantile),
            `q=${quantile}`,
          );
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("min, max and mean are exact", () => {
  fc.assert(
    fc.property(fc.array(logUniformValue, { minLength: 1, maxLength: 200 }), (values) => {
      const h = histogramOf(values);
      assert.equal(h.count, values.length);
      assert.equal(h.min, Math.min(...values));
      assert.equal(h.max, Math.max(...values));
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      assert.ok(Math.abs(h.mean - mean) <= Math.abs(mean) * 1e-12);
    }),
  );
});

Deno.test("percentile 0 is the minimum and percentile 1 the maximum, exactly", () => {
  const h = histogramOf([7.123, 2.5, 1999.75, 40]);
  assert.equal(h.percentile(0), 2.5);
  assert.equal(h.percentile(1), 1999.75);
});

Deno.test("a known latency sample gives p50, p90, p99 and p99.9 within 1%", () => {
  const h = new Histogram();
  for (let ms = 1; ms <= 10_000; ms++) h.record(ms / 10); // 0.1 ms .. 1000 ms
  assert.equal(h.count, 10_000);
  assertWithin1Percent(h.percentile(0.5), 500, "p50");
  assertWithin1Percent(h.percentile(0.9), 900, "p90");
  assertWithin1Percent(h.percentile(0.99), 990, "p99");
  assertWithin1Percent(h.percentile(0.999), 999, "p99.9");
  assert.ok(Math.abs(h.mean - 500.05) < 1e-9);
});

Deno.test("recording with a count equals recording the value that many times", () => {
  const a = new Histogram();
  a.record(12.5, 3);
  a.record(80, 0);
  a.record(3);
  const b = histogramOf([12.5, 12.5, 12.5, 3]);
  assert.equal(a.count, 4);
  for (const q of quantiles) assert.equal(a.percentile(q), b.percentile(q));
  assert.equal(a.mean, b.mean);
});

Deno.test("merging equals recording both sets of values in one histogram", () => {
  fc.assert(
    fc.property(
      fc.array(logUniformValue, { maxLength: 150 }),
      fc.array(linearValue, { maxLength: 150 }),
      (left, right) => {
        const merged = histogramOf(left);
        merged.merge(histogramOf(right));
        const both = histogramOf([...left, ...right]);
        assert.equal(merged.count, both.count);
        assert.deepEqual([merged.min, merged.max], [both.min, both.max]);
        for (const q of quantiles) assert.equal(merged.percentile(q), both.percentile(q));
        if (both.count > 0) assert.ok(Math.abs(merged.mean - both.mean) <= both.mean * 1e-12);
        else assert.ok(Number.isNaN(merged.mean));
      },
    ),
  );
});

Deno.test("merging leaves the other histogram unchanged and merging an empty one changes nothing", () => {
  const a = histogramOf([1, 2, 3]);
  const b = histogramOf([10, 20]);
  a.merge(b);
  a.merge(new Histogram());
  assert.equal(a.count, 5);
  assert.equal(a.max, 20);
  assert.equal(b.count, 2);
  assert.equal(b.min, 10);
});

Deno.test("reset empties the histogram and it can be reused", () => {
  const h = histogramOf([5, 6, 7]);
  h.reset();
  assert.equal(h.count, 0);
  assert.ok(Number.isNaN(h.percentile(0.5)));
  h.record(42);
  assert.equal(h.min, 42);
  assert.equal(h.max, 42);
  assertWithin1Percent(h.percentile(0.5), 42, "p50 after reset");
});

Deno.test("values beyond one hour are counted at the top while min, max and mean stay exact", () => {
  const h = new Histogram();
  h.record(1);
  h.record(7_200_000, 3); // two hours
  assert.equal(h.count, 4);
  assert.equal(h.max, 7_200_000);
  assert.equal(h.mean, (1 + 3 * 7_200_000) / 4);
  assertWithin1Percent(h.percentile(0.5), Histogram.HIGHEST, "clamped p50");
  assert.equal(h.percentile(1), 7_200_000);
});

Deno.test("zero and values below the lowest bucket are recorded and reported within min and max", () => {
  const h = histogramOf([0, 0, 0]);
  assert.equal(h.percentile(0.5), 0);
  h.record(0.0001);
  assert.ok(h.percentile(0.9) >= 0 && h.percentile(0.9) <= 0.0001);
});

Deno.test("a million values of the same magnitude keep percentiles accurate", () => {
  const h = new Histogram();
  for (let i = 0; i < 1_000_000; i++) h.record(2000 + (i % 1000) / 100);
  assert.equal(h.count, 1_000_000);
  assertWithin1Percent(h.percentile(0.5), 2004.99, "p50");
  assert.equal(h.min, 2000);
  assert.equal(h.max, 2009.99);
});

Deno.test("invalid values, counts and quantiles are rejected with a RangeError", () => {
  const h = new Histogram();
  assert.throws(() => h.record(-1), RangeError);
  assert.throws(() => h.record(NaN), RangeError);
  assert.throws(() => h.record(Infinity), RangeError);
  assert.throws(() => h.record(1, -1), RangeError);
  assert.throws(() => h.record(1, 1.5), RangeError);
  assert.throws(() => h.percentile(1.5), RangeError);
  assert.throws(() => h.percentile(NaN), RangeError);
  assert.equal(h.count, 0);
});
