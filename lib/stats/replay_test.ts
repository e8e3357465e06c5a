import assert from "node:assert/strict";
import { type OrderRow, snapshotFromRows } from "./replay.ts";

const T0 = Date.UTC(2026, 10, 28, 10, 0, 0);
const iso = (offsetMs: number) => new Date(T0 + offsetMs).toISOString();

const mixedRows: OrderRow[] = [
  { id: 1, estado: "listo", worker: 1, fecha_inicio: iso(0), fecha_fin: iso(2000) },
  { id: 2, estado: "listo", worker: 2, fecha_inicio: iso(1000), fecha_fin: iso(4000) },
  { id: 3, estado: "fallido", worker: 1, fecha_inicio: iso(2000), fecha_fin: iso(2500) },
  { id: 4, estado: "fallido", worker: null, fecha_inicio: null, fecha_fin: iso(5000) },
  { id: 5, estado: "en proceso", worker: 2, fecha_inicio: iso(4500), fecha_fin: null },
  { id: 6, estado: "en cola", worker: null, fecha_inicio: null, fecha_fin: null },
  { id: 7, estado: "en cola", worker: null, fecha_inicio: null, fecha_fin: null },
];

Deno.test("a snapshot of database rows counts every state and measures the finished ones", async () => {
  const snap = await snapshotFromRows(mixedRows);
  assert.deepEqual(snap, {
    desde: "2026-11-28T10:00:00.000Z",
    hasta: "2026-11-28T10:00:05.000Z",
    recibidos: 7,
    recuperados: 0,
    listos: 2,
    fallidos: 2,
    enCola: 2,
    enProceso: 1,
    rechazos: {},
    duracion: { min: 2, media: 2.5, p50: 2, p95: 3, max: 3 },
    rendimiento: 4 / 5,
    maxSimultaneos: 2,
    porWorker: { "1": 2, "2": 1 },
    intervalos: [
      { worker: 1, inicio: T0, fin: T0 + 2000 },
      { worker: 1, inicio: T0 + 2000, fin: T0 + 2500 },
      { worker: 2, inicio: T0 + 1000, fin: T0 + 4000 },
    ],
  });
});

Deno.test("orders still in process count as open for the maximum in parallel", async () => {
  const snap = await snapshotFromRows([
    ...mixedRows,
    { id: 8, estado: "en proceso", worker: 3, fecha_inicio: iso(4600), fecha_fin: null },
    { id: 9, estado: "listo", worker: 1, fecha_inicio: iso(4550), fecha_fin: iso(4700) },
  ]);
  assert.equal(snap.maxSimultaneos, 3);
  assert.equal(snap.enProceso, 2);
});

Deno.test("a snapshot of rows keeps only the intervals that ended last, whatever the row order", async () => {
  const rows: OrderRow[] = [5, 1, 4, 2, 3].map((n) => ({
    id: n,
    estado: "listo",
    worker: n,
    fecha_inicio: iso(n * 1000 - 500),
    fecha_fin: iso(n * 1000),
  }));
  const snap = await snapshotFromRows(rows, { timelineCapacity: 2 });
  assert.deepEqual(snap.intervalos.map((it) => it.worker), [4, 5]);
  assert.equal((await snapshotFromRows(rows, { timelineCapacity: 0 })).intervalos.length, 0);
});

Deno.test("a snapshot of no rows uses the clock for its window and has nothing to measure", async () => {
  const snap = await snapshotFromRows([], { now: () => T0 });
  assert.equal(snap.desde, "2026-11-28T10:00:00.000Z");
  assert.equal(snap.hasta, "2026-11-28T10:00:00.000Z");
  assert.equal(snap.recibidos, 0);
  assert.equal(snap.duracion, null);
  assert.equal(snap.rendimiento, null);
  assert.equal(snap.maxSimultaneos, 0);
});

Deno.test("a timeline capacity that is not a non-negative integer is rejected with a RangeError", async () => {
  await assert.rejects(snapshotFromRows([], { timelineCapacity: 1.5 }), RangeError);
  await assert.rejects(snapshotFromRows([], { timelineCapacity: -1 }), RangeError);
});
