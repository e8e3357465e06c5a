import assert from "node:assert/strict";
import { BucketCounts, difference, quantile } from "./buckets.ts";

Deno.test("values go into the first bucket whose bound they do not exceed", () => {
  const h = new BucketCounts([0.1, 1, 10]);
  for (const v of [0, 0.1, 0.10001, 1, 9.9, 10, 11, 1e9]) h.record(v);
  const totals = h.totals();
  assert.deepEqual(totals.counts, [2, 2, 2, 2]);
  assert.equal(totals.count, 8);
  assert.ok(Math.abs(totals.sum - (0.1 + 0.10001 + 1 + 9.9 + 10 + 11 + 1e9)) < 1e-6);
});

Deno.test("negative and non-finite values count as zero, so a clock stepping back cannot corrupt the sum", () => {
  const h = new BucketCounts([1]);
  h.record(-5);
  h.record(NaN);
  h.record(Infinity);
  assert.deepEqual(h.totals(), { bounds: [1], counts: [3, 0], sum: 0, count: 3 });
});

Deno.test("bounds must be finite and strictly ascending", () => {
  assert.throws(() => new BucketCounts([]), RangeError);
  assert.throws(() => new BucketCounts([1, 1]), RangeError);
  assert.throws(() => new BucketCounts([2, 1]), RangeError);
  assert.throws(() => new BucketCounts([1, Infinity]), RangeError);
});

Deno.test("totals are a copy: recording later does not change them", () => {
  const h = new BucketCounts([1]);
  const before = h.totals();
  h.record(0.5);
  assert.equal(before.count, 0);
  assert.deepEqual(difference(h.totals(), before), {
    bounds: [1],
    counts: [1, 0],
    sum: 0.5,
    count: 1,
  });
});

Deno.test("quantiles interpolate within the bucket as histogram_quantile does", () => {
  const h = new BucketCounts([1, 2, 4]);
  for (let i = 0; i < 10; i++) h.record(1.5);
  const totals = h.totals();
  assert.equal(quantile(totals, 0.5), 1.5);
  assert.equal(quantile(totals, 1), 2);
  assert.equal(quantile(totals, 0), 1);
  h.record(100);
  assert.equal(quantile(h.totals(), 1), 4, "above the last bound reports the last bound");
  assert.equal(quantile(new BucketCounts([1]).totals(), 0.5), null);
});
