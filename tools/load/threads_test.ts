import assert from "node:assert/strict";
import { LatencyBatch, splitEvenly } from "./threads.ts";

Deno.test("latencies leave in full batches, and the rest is taken at the end", () => {
  const sent: number[][] = [];
  const batch = new LatencyBatch(3, (samples) => sent.push([...samples]));
  for (const ms of [1, 2, 3, 4, 5, 6, 7]) batch.record(ms);
  assert.deepEqual(sent, [[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual([...batch.take()], [7]);
  assert.deepEqual([...batch.take()], []);
});

Deno.test("a batch handed over is never written again", () => {
  const sent: Float64Array[] = [];
  const batch = new LatencyBatch(2, (samples) => sent.push(samples));
  batch.record(1);
  batch.record(2);
  batch.record(3);
  batch.record(4);
  assert.deepEqual(sent.map((samples) => [...samples]), [[1, 2], [3, 4]]);
});

Deno.test("connections are split over threads as evenly as whole numbers allow", () => {
  assert.deepEqual(splitEvenly(50, 4), [13, 13, 12, 12]);
  assert.deepEqual(splitEvenly(2, 2), [1, 1]);
  assert.deepEqual(splitEvenly(7, 1), [7]);
  for (let total = 1; total < 40; total++) {
    for (let parts = 1; parts <= total; parts++) {
      const shares = splitEvenly(total, parts);
      assert.equal(shares.reduce((a, b) => a + b, 0), total);
      assert.ok(Math.max(...shares) - Math.min(...shares) <= 1);
    }
  }
});
