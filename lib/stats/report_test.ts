import assert from "node:assert/strict";
import { renderReport } from "./report.ts";
import type { StatsSnapshot } from "./snapshot.ts";

const T0 = Date.UTC(2026, 10, 28, 10, 0, 0);

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

Deno.test("a report of statistics sent without their intervals has no timeline", () => {
  const { intervalos: _, ...figures } = sample;
  const lines = renderReport(figures).split("\n");
  assert.equal(lines.length, 7);
  assert.equal(lines[6], "  Por worker: #1 2 · #2 2 · #3 2");
});
