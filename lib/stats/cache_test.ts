import assert from "node:assert/strict";
import { SnapshotCache } from "./cache.ts";
import { ProcessingStats } from "./live.ts";

const T0 = Date.UTC(2026, 10, 28, 10, 0, 0);
const IDLE = { enCola: 0, enProceso: 0 };

/** Statistics and a cache on one clock the test moves. */
function setUp(options: { intervalos?: number } = {}) {
  let clock = T0;
  const now = () => clock;
  const stats = new ProcessingStats({ now });
  const cache = new SnapshotCache(stats, { ...options, now });
  let id = 0;
  const finish = (count: number) => {
    for (let i = 0; i < count; i++) {
      id++;
      stats.recordFinished({ id, worker: 1, estado: "listo", inicio: clock, fin: clock + 5 });
    }
  };
  return { stats, cache, finish, advance: (ms: number) => clock += ms };
}

Deno.test("requests with nothing recorded in between share one snapshot and one JSON", () => {
  const { cache, finish } = setUp();
  finish(2000);
  for (const intervalos of [false, true]) {
    const first = cache.get(IDLE, { intervalos });
    for (let i = 0; i < 1000; i++) assert.equal(cache.get(IDLE, { intervalos }), first);
  }
});

Deno.test("a shared snapshot's JSON is its serialisation, with and without intervals", () => {
  const { stats, cache, finish } = setUp();
  finish(3);
  stats.recordRejected("limite");
  const without = cache.get({ enCola: 2, enProceso: 1 }, { intervalos: false });
  assert.equal(without.json, JSON.stringify(without.snapshot));
  assert.equal(without.snapshot.intervalos, undefined);
  const withIntervals = cache.get({ enCola: 2, enProceso: 1 }, { intervalos: true });
  assert.equal(withIntervals.json, JSON.stringify(withIntervals.snapshot));
  assert.deepEqual(JSON.parse(withIntervals.json), stats.snapshot({ enCola: 2, enProceso: 1 }));
});

Deno.test("a shared snapshot is frozen throughout, so no reply can change another's", () => {
  const { stats, cache, finish } = setUp();
  finish(1);
  stats.recordRejected("limite");
  const { snapshot } = cache.get(IDLE, { intervalos: true });
  assert.throws(() => (snapshot as { listos: number }).listos = 9, TypeError);
  assert.throws(() => (snapshot.rechazos as Record<string, number>).limite = 9, TypeError);
  assert.throws(() => (snapshot.intervalos as unknown as { fin: number }[])[0]!.fin = 9, TypeError);
  assert.throws(() => (snapshot.intervalos as unknown[]).push(1), TypeError);
});

Deno.test("the figures are never stale: what was recorded before a request is in its reply", () => {
  const { stats, cache } = setUp();
  assert.equal(cache.get(IDLE, { intervalos: false }).snapshot.recibidos, 0);
  stats.recordAdmitted();
  assert.equal(cache.get(IDLE, { intervalos: false }).snapshot.recibidos, 1);
  stats.recordRejected("pedido_invalido");
  assert.deepEqual(cache.get(IDLE, { intervalos: true }).snapshot.rechazos, {
    pedido_invalido: 1,
  });
  assert.equal(cache.get({ enCola: 3, enProceso: 0 }, { intervalos: false }).snapshot.enCola, 3);
});

Deno.test("the intervals are built at most once per 250 ms while orders keep finishing", () => {
  const { cache, finish, advance } = setUp();
  finish(10);
  const first = cache.get(IDLE, { intervalos: true }).snapshot;
  advance(100);
  finish(10);
  const second = cache.get(IDLE, { intervalos: true }).snapshot;
  assert.equal(second.listos, 20, "the figures follow");
  assert.equal(second.intervalos, first.intervalos, "the intervals wait");
  advance(150);
  const third = cache.get(IDLE, { intervalos: true }).snapshot;
  assert.equal(third.intervalos?.length, 20);
});

Deno.test("a snapshot carries only the most recent intervals, 500 by default", () => {
  const { cache, finish } = setUp();
  finish(2000);
  const { snapshot } = cache.get(IDLE, { intervalos: true });
  assert.equal(snapshot.intervalos?.length, 500);
  assert.equal(snapshot.listos, 2000);
  const few = setUp({ intervalos: 3 });
  few.finish(10);
  const latest = few.cache.get(IDLE, { intervalos: true }).snapshot.intervalos;
  assert.equal(latest?.length, 3);
});

Deno.test("with nothing recorded, the window's end still moves on every 250 ms", () => {
  const { cache, advance } = setUp();
  const first = cache.get(IDLE, { intervalos: false }).snapshot;
  advance(249);
  assert.equal(cache.get(IDLE, { intervalos: false }).snapshot, first);
  advance(1);
  assert.equal(cache.get(IDLE, { intervalos: false }).snapshot.hasta, "2026-11-28T10:00:00.250Z");
});

Deno.test("invalid cache options are rejected with a RangeError", () => {
  const stats = new ProcessingStats();
  assert.throws(() => new SnapshotCache(stats, { intervalos: -1 }), RangeError);
  assert.throws(() => new SnapshotCache(stats, { maxAgeMs: 0.5 }), RangeError);
});
