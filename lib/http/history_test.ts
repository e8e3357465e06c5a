import assert from "node:assert/strict";
import { BucketCounts } from "./buckets.ts";
import { History, type Totals } from "./history.ts";

function totalsWith(terminados: number, recibidos: number, durations: number[]): Totals {
  const duracion = new BucketCounts([0.5, 1, 2]);
  for (const d of durations) duracion.record(d);
  return {
    terminados,
    recibidos,
    duracion: duracion.totals(),
    espera: new BucketCounts([0.5, 1, 2]).totals(),
  };
}

Deno.test("each sample is the rate and latency of what happened since the previous one", () => {
  const history = new History(10);
  assert.equal(history.record(1_000, totalsWith(0, 0, [])), undefined, "the first sets the start");
  const sample = history.record(3_000, totalsWith(10, 20, [0.8, 0.8, 0.8, 0.8]));
  assert.deepEqual(sample?.t, 3_000);
  assert.equal(sample?.terminados, 5);
  assert.equal(sample?.recibidos, 10);
  assert.ok(Math.abs(sample!.duracion!.media - 0.8) < 1e-9);
  assert.ok(sample!.duracion!.p95 > 0.5 && sample!.duracion!.p95 <= 1);
  assert.equal(sample?.espera, null, "nothing started: no latency rather than zero");
  const next = history.record(4_000, totalsWith(10, 20, [0.8, 0.8, 0.8, 0.8]));
  assert.equal(next?.terminados, 0);
  assert.equal(next?.duracion, null);
});

Deno.test("the history keeps only its capacity, oldest first, and ignores a clock that did not move", () => {
  const history = new History(2);
  for (let t = 0; t <= 4; t++) history.record(t * 1000, totalsWith(t, t, []));
  assert.equal(history.record(4_000, totalsWith(9, 9, [])), undefined);
  assert.deepEqual(history.samples().map((s) => s.t), [3_000, 4_000]);
  assert.throws(() => new History(0), RangeError);
});
