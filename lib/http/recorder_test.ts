import assert from "node:assert/strict";
import { MetricsRecorder } from "./recorder.ts";

Deno.test("answers are counted by result, outcomes, retries and recoveries apart", () => {
  const recorder = new MetricsRecorder();
  for (const result of ["accepted", "accepted", "duplicate", "limite", "json_invalido", "limite"]) {
    recorder.received(result);
  }
  recorder.recovered(3);
  recorder.retried();
  recorder.finished(1, 1, "listo", 0, 10);
  recorder.finished(2, 2, "fallido", null, 20);
  assert.deepEqual(recorder.counts(), {
    received: { accepted: 2, duplicate: 1, limite: 2, json_invalido: 1 },
    recovered: 3,
    retries: 1,
    listos: 1,
    fallidos: 1,
  });
  assert.equal(recorder.finishedCount, 2);
});

Deno.test("durations of listo orders and first-attempt queue waits go into their histograms in seconds", () => {
  const recorder = new MetricsRecorder();
  recorder.started(1, 1, 1_000, 900);
  recorder.finished(1, 1, "listo", 1_000, 1_800);
  recorder.started(2, 1, 2_000, undefined);
  recorder.finished(2, 1, "fallido", null, 2_500);
  const { duration, queueWait } = recorder.histograms();
  assert.equal(duration.count, 1);
  assert.ok(Math.abs(duration.sum - 0.8) < 1e-9);
  assert.equal(queueWait.count, 1, "a retry or a recovered order has no receipt to measure from");
  assert.ok(Math.abs(queueWait.sum - 0.1) < 1e-9);
});

Deno.test("the timeline keeps the last orders, oldest first, and what each worker is on now", () => {
  const recorder = new MetricsRecorder({ timelineCapacity: 3 });
  for (let id = 1; id <= 5; id++) {
    recorder.started(id, id % 2 + 1, id * 100, undefined);
    recorder.finished(id, id % 2 + 1, "listo", id * 100, id * 100 + 50);
  }
  recorder.started(6, 2, 700, undefined);
  const timeline = recorder.timeline();
  assert.equal(timeline.hasta, 5);
  assert.deepEqual(timeline.pedidos.map((p) => p.id), [3, 4, 5]);
  assert.deepEqual(timeline.pedidos[0], {
    id: 3,
    worker: 2,
    inicio: 300,
    fin: 350,
    estado: "listo",
  });
  assert.deepEqual(timeline.enProceso, [
    { id: 6, worker: 2, inicio: 700, fin: null, estado: "en proceso" },
  ]);
  assert.deepEqual(recorder.timeline(4).pedidos.map((p) => p.id), [5], "only what is newer");
  assert.deepEqual(recorder.timeline(5).pedidos, []);
});

Deno.test("a failed order takes its start from its worker's last start, when it is that order", () => {
  const recorder = new MetricsRecorder();
  recorder.started(7, 1, 1_000, undefined);
  recorder.finished(7, 1, "fallido", null, 1_300);
  recorder.finished(8, 2, "fallido", null, 1_400);
  const [seven, eight] = recorder.timeline().pedidos;
  assert.equal(seven?.inicio, 1_000);
  assert.equal(eight?.inicio, null);
  assert.deepEqual(recorder.timeline().enProceso, []);
});

Deno.test("a failed commit makes the store failing until one succeeds or the hold time passes", () => {
  let now = 0;
  const recorder = new MetricsRecorder({ storeFailureHoldMs: 1000, now: () => now });
  assert.equal(recorder.storeFailing, false);
  recorder.committed(3, false);
  assert.equal(recorder.storeFailing, true);
  now = 999;
  assert.equal(recorder.storeFailing, true);
  recorder.committed(1, true);
  assert.equal(recorder.storeFailing, false);
  recorder.committed(5, false);
  now = 2_000;
  assert.equal(recorder.storeFailing, false, "with no write since, the failure has aged out");
  assert.equal(recorder.histograms().commit.count, 3);
});

Deno.test("the timeline capacity must be a positive integer", () => {
  assert.throws(() => new MetricsRecorder({ timelineCapacity: 0 }), RangeError);
  assert.throws(() => new MetricsRecorder({ timelineCapacity: 1.5 }), RangeError);
});
