import assert from "node:assert/strict";
import {
  type FinishedOrder,
  type OrderRow,
  ProcessingStats,
  renderReport,
  snapshotFromRows,
  type StatsSnapshot,
} from "./stats.ts";

const T0 = Date.UTC(2026, 10, 28, 10, 0, 0);
const iso = (offsetMs: number) => new Date(T0 + offsetMs).toISOString();

function assertWithin1Percent(actual: number | undefined, expected: number): void {
  assert.ok(actual !== undefined);
  assert.ok(Math.abs(actual - expected) <= expected * 0.01, `${actual} vs ${expected}`);
}

/** Three workers, two orders each (2.001 … 2.005 s), and one that failed before starting. */
function knownRun(): { stats: ProcessingStats; setClock: (ms: number) => void } {
  let clock = T0;
  const stats = new ProcessingStats({ now: () => clock });
  const finished: FinishedOrder[] = [
    { id: 1, worker: 1, estado: "listo", inicio: T0, fin: T0 + 2001 },
    { id: 2, worker: 2, estado: "listo", inicio: T0 + 100, fin: T0 + 2103 },
    { id: 3, worker: 3, estado: "listo", inicio: T0 + 200, fin: T0 + 2204 },
    { id: 4, worker: 1, estado: "listo", inicio: T0 + 2001, fin: T0 + 4003 },
    { id: 5, worker: 2, estado: "listo", inicio: T0 + 2103, fin: T0 + 4106 },
    { id: 6, worker: 3, estado: "listo", inicio: T0 + 2204, fin: T0 + 4209 },
    { id: 7, worker: null, estado: "fallido", inicio: null, fin: T0 + 5000 },
  ];
  for (let i = 0; i < 7; i++) stats.recordAdmitted();
  for (const codigo of ["limite", "limite", "pedido_invalido", "limite", "limite"]) {
    stats.recordRejected(codigo);
  }
  for (const n of [1, 2, 3, 2, 3, 1, 0]) stats.observeInProcess(n);
  for (const order of finished) stats.recordFinished(order);
  return { stats, setClock: (ms) => clock = ms };
}

Deno.test("a known run gives exact counts, min, max and mean, and p50 and p95 within 1%", () => {
  const { stats, setClock } = knownRun();
  setClock(T0 + 9412);
  const snap = stats.snapshot({ enCola: 2, enProceso: 1 });
  assert.equal(snap.desde, "2026-11-28T10:00:00.000Z");
  assert.equal(snap.hasta, "2026-11-28T10:00:09.412Z");
  assert.equal(snap.recibidos, 7);
  assert.equal(snap.listos, 6);
  assert.equal(snap.fallidos, 1);
  assert.equal(snap.enCola, 2);
  assert.equal(snap.enProceso, 1);
  assert.deepEqual(snap.rechazos, { limite: 4, pedido_invalido: 1 });
  assert.equal(snap.duracion?.min, 2.001);
  assert.equal(snap.duracion?.max, 2.005);
  assert.equal(snap.duracion?.media, 2.003);
  assertWithin1Percent(snap.duracion?.p50, 2.003);
  assertWithin1Percent(snap.duracion?.p95, 2.005);
  assert.equal(snap.rendimiento, 7 / 5); // 7 finished between T0 and T0 + 5 s
  assert.equal(snap.maxSimultaneos, 3);
  assert.deepEqual(snap.porWorker, { "1": 2, "2": 2, "3": 2 });
  assert.deepEqual(snap.intervalos, [
    { worker: 1, inicio: T0, fin: T0 + 2001 },
    { worker: 2, inicio: T0 + 100, fin: T0 + 2103 },
    { worker: 3, inicio: T0 + 200, fin: T0 + 2204 },
    { worker: 1, inicio: T0 + 2001, fin: T0 + 4003 },
    { worker: 2, inicio: T0 + 2103, fin: T0 + 4106 },
    { worker: 3, inicio: T0 + 2204, fin: T0 + 4209 },
  ]);
});

Deno.test("a fresh run has no durations, no throughput and no intervals", () => {
  const stats = new ProcessingStats({ now: () => T0 });
  const snap = stats.snapshot({ enCola: 0, enProceso: 0 });
  assert.equal(snap.desde, snap.hasta);
  assert.equal(snap.recibidos, 0);
  assert.equal(snap.duracion, null);
  assert.equal(snap.rendimiento, null);
  assert.equal(snap.maxSimultaneos, 0);
  assert.deepEqual(snap.rechazos, {});
  assert.deepEqual(snap.porWorker, {});
  assert.deepEqual(snap.intervalos, []);
});

Deno.test("throughput is null when the only finished orders span 0 ms", () => {
  const stats = new ProcessingStats({ now: () => T0 });
  stats.recordFinished({ id: 1, worker: 1, estado: "listo", inicio: T0, fin: T0 });
  const snap = stats.snapshot({ enCola: 0, enProceso: 0 });
  assert.equal(snap.rendimiento, null);
  assert.deepEqual(snap.duracion, { min: 0, media: 0, p50: 0, p95: 0, max: 0 });
});

Deno.test("the in-process count given to snapshot also counts towards the maximum", () => {
  const stats = new ProcessingStats({ now: () => T0 });
  stats.observeInProcess(2);
  assert.equal(stats.snapshot({ enCola: 0, enProceso: 1 }).maxSimultaneos, 2);
  assert.equal(stats.snapshot({ enCola: 0, enProceso: 4 }).maxSimultaneos, 4);
});

function finishMany(stats: ProcessingStats, n: number): void {
  for (let i = 0; i < n; i++) {
    stats.recordFinished({
      id: i + 1,
      worker: (i % 4) + 1,
      estado: "listo",
      inicio: T0 + i * 10,
      fin: T0 + i * 10 + 5,
    });
  }
}

Deno.test("the timeline keeps only the most recent intervals up to its capacity, oldest first", () => {
  const stats = new ProcessingStats({ timelineCapacity: 100, now: () => T0 });
  finishMany(stats, 10_000);
  const { intervalos, listos } = stats.snapshot({ enCola: 0, enProceso: 0 });
  assert.equal(listos, 10_000);
  assert.equal(intervalos.length, 100);
  assert.deepEqual(intervalos[0], { worker: 1, inicio: T0 + 99_000, fin: T0 + 99_005 });
  assert.deepEqual(intervalos[99], { worker: 4, inicio: T0 + 99_990, fin: T0 + 99_995 });
  assert.ok(intervalos.every((it, i) => i === 0 || it.inicio > (intervalos[i - 1]?.inicio ?? 0)));
});

Deno.test("the timeline capacity is 2000 by default", () => {
  const stats = new ProcessingStats({ now: () => T0 });
  finishMany(stats, 10_000);
  const { intervalos } = stats.snapshot({ enCola: 0, enProceso: 0 });
  assert.equal(intervalos.length, 2000);
  assert.equal(intervalos[1999]?.inicio, T0 + 99_990);
});

Deno.test("a million finished orders keep the snapshot bounded", () => {
  const stats = new ProcessingStats({ now: () => T0 });
  finishMany(stats, 1_000_000);
  const snap = stats.snapshot({ enCola: 0, enProceso: 0 });
  assert.equal(snap.listos, 1_000_000);
  assert.equal(snap.intervalos.length, 2000);
  assert.deepEqual(snap.duracion, { min: 0.005, media: 0.005, p50: 0.005, p95: 0.005, max: 0.005 });
  assert.ok(JSON.stringify(snap).length < 200_000);
});

Deno.test("a snapshot round-trips through JSON and renders identically", () => {
  const { stats } = knownRun();
  const snap = stats.snapshot({ enCola: 0, enProceso: 0 });
  const back = JSON.parse(JSON.stringify(snap)) as StatsSnapshot;
  assert.deepEqual(back, snap);
  assert.equal(renderReport(back), renderReport(snap));
  assert.equal(renderReport(back, { width: 20 }), renderReport(snap, { width: 20 }));
});

Deno.test("changing a snapshot does not change the statistics", () => {
  const { stats } = knownRun();
  const first = stats.snapshot({ enCola: 0, enProceso: 0 });
  first.intervalos.length = 0;
  first.rechazos["limite"] = 99;
  const second = stats.snapshot({ enCola: 0, enProceso: 0 });
  assert.equal(second.intervalos.length, 6);
  assert.equal(second.rechazos["limite"], 4);
});

Deno.test("invalid finished orders and capacities are rejected with a RangeError", () => {
  const stats = new ProcessingStats({ now: () => T0 });
  assert.throws(
    () => stats.recordFinished({ id: 1, worker: 1, estado: "listo", inicio: T0, fin: NaN }),
    RangeError,
  );
  assert.throws(() => new ProcessingStats({ timelineCapacity: -1 }), RangeError);
});

Deno.test("a snapshot of rows refuses a timeline capacity that is not a whole number", async () => {
  await assert.rejects(snapshotFromRows([], { timelineCapacity: 1.5 }), RangeError);
});

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

const sample: StatsSnapshot = {
  desde: "2026-11-28T10:00:00.000Z",
  hasta: "2026-11-28T10:00:09.412Z",
  recibidos: 6,
  recuperados: 0,
  listos: 6,
  fallidos: 0,
  enCola: 0,
  enProceso: 0,
  rechazos: { pedido_invalido: 1, limite: 4 },
  duracion: { min: 2.001, media: 2.0032, p50: 2.002, p95: 2.006, max: 2.006 },
  rendimiento: 1.4705,
  maxSimultaneos: 3,
  porWorker: { "1": 2, "2": 2, "3": 2 },
  intervalos: [
    { worker: 2, inicio: T0, fin: T0 + 2000 },
    { worker: 1, inicio: T0, fin: T0 + 1000 },
    { worker: 1, inicio: T0 + 3000, fin: T0 + 4000 },
    { worker: 2, inicio: T0 + 2000, fin: T0 + 4000 },
    { worker: 3, inicio: T0 + 1000, fin: T0 + 3000 },
    { worker: 3, inicio: T0 + 3000, fin: T0 + 4000 },
  ],
};

Deno.test("the report shows every figure on its own line, then the timeline indented", () => {
  assert.equal(
    renderReport(sample, { width: 8 }),
    [
      "📊 Estadísticas de procesamiento (2026-11-28T10:00:00.000Z → 2026-11-28T10:00:09.412Z)",
      "  Pedidos: 6 recibidos · 6 listos · 0 fallidos · 0 en cola · 0 en proceso",
      "  Rechazos: limite 4 · pedido_invalido 1",
      "  Duración (s): mín 2.001 · media 2.003 · p50 2.002 · p95 2.006 · máx 2.006",
      "  Rendimiento: 1.47 pedidos/s",
      "  Máximo en paralelo: 3 pedidos a la vez",
      "  Por worker: #1 2 · #2 2 · #3 2",
      "  Línea de tiempo:",
      "    worker 1 │██····██│ 2 pedidos",
      "    worker 2 │████████│ 2 pedidos",
      "    worker 3 │··██████│ 2 pedidos",
      "              0 s … 4.00 s",
    ].join("\n"),
  );
});

Deno.test("the report's timeline is 60 columns wide by default", () => {
  const lines = renderReport(sample).split("\n");
  assert.equal(
    lines[8],
    `    worker 1 │${"█".repeat(15)}${"·".repeat(30)}${"█".repeat(15)}│ 2 pedidos`,
  );
});

Deno.test("a report with nothing measured says so in Spanish, with singular words for one", () => {
  const empty: StatsSnapshot = {
    ...sample,
    recibidos: 1,
    listos: 0,
    fallidos: 1,
    enCola: 0,
    enProceso: 0,
    rechazos: { limite: 0 },
    duracion: null,
    rendimiento: null,
    maxSimultaneos: 1,
    porWorker: {},
    intervalos: [],
  };
  const lines = renderReport(empty).split("\n");
  assert.deepEqual(lines.slice(1), [
    "  Pedidos: 1 recibido · 0 listos · 1 fallido · 0 en cola · 0 en proceso",
    "  Rechazos: ninguno",
    "  Duración (s): sin pedidos listos",
    "  Rendimiento: sin datos",
    "  Máximo en paralelo: 1 pedido a la vez",
    "  Por worker: ninguno",
    "  Línea de tiempo:",
    "    (sin pedidos procesados)",
  ]);
});

Deno.test("the report of a known run shows its measured figures", () => {
  const { stats, setClock } = knownRun();
  setClock(T0 + 9412);
  const snap = stats.snapshot({ enCola: 2, enProceso: 1 });
  const lines = renderReport(snap).split("\n");
  assert.equal(
    lines[1],
    "  Pedidos: 7 recibidos · 6 listos · 1 fallido · 2 en cola · 1 en proceso",
  );
  assert.equal(lines[2], "  Rechazos: limite 4 · pedido_invalido 1");
  assert.match(
    lines[3] ?? "",
    /^ {2}Duración \(s\): mín 2\.001 · media 2\.003 · p50 2\.0\d\d · p95 2\.005 · máx 2\.005$/,
  );
  assert.equal(lines[4], "  Rendimiento: 1.40 pedidos/s");
  assert.equal(lines[5], "  Máximo en paralelo: 3 pedidos a la vez");
  assert.equal(lines[6], "  Por worker: #1 2 · #2 2 · #3 2");
  assert.equal(lines.length, 8 + 3 + 1);
});

Deno.test("orders recovered from a previous run are counted apart and shown only when present", () => {
  const stats = new ProcessingStats();
  stats.recordRecovered();
  stats.recordRecovered();
  stats.recordAdmitted();
  const snap = stats.snapshot({ enCola: 0, enProceso: 0 });
  assert.equal(snap.recibidos, 1);
  assert.equal(snap.recuperados, 2);
  assert.match(renderReport(snap), /Pedidos: 1 recibido · 2 recuperados · 0 listos/);
  assert.doesNotMatch(renderReport({ ...snap, recuperados: 0 }), /recuperado/);
});
