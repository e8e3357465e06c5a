import assert from "node:assert/strict";
import { seededRandom } from "./random.ts";

Deno.test("seededRandom repeats for a seed, differs across seeds, and stays in [0, 1)", () => {
  const take = (seed: number) => {
    const random = seededRandom(seed);
    return Array.from({ length: 1000 }, () => random());
  };
  assert.deepEqual(take(7), take(7));
  assert.notDeepEqual(take(7), take(8));
  const values = take(123);
  assert.ok(values.every((v) => v >= 0 && v < 1));
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
});
