import assert from "node:assert/strict";
import { type OrderRow, snapshotFromRows } from "../stats/replay.ts";
import { reportData, reportPage } from "./report.ts";

const T0 = Date.parse("2026-11-28T10:00:00.000Z");
const iso = (ms: number) => new Date(T0 + ms).toISOString();

function rows(): OrderRow[] {
  return [
    { id: 1, estado: "listo", worker: 1, fecha_inicio: iso(0), fecha_fin: iso(800) },
    { id: 2, estado: "listo", worker: 2, fecha_inicio: iso(200), fecha_fin: iso(900) },
    { id: 3, estado: "fallido", worker: 1, fecha_inicio: iso(800), fecha_fin: iso(2_500) },
    { id: 4, estado: "listo", worker: 2, fecha_inicio: iso(2_000), fecha_fin: iso(2_800) },
    { id: 5, estado: "en proceso", worker: 1, fecha_inicio: iso(2_600), fecha_fin: null },
    { id: 6, estado: "en cola", worker: null, fecha_inicio: null, fecha_fin: null },
  ];
}

Deno.test("the report's timeline holds the finished orders that ended last, oldest first", async () => {
  const data = await reportData(await snapshotFromRows(rows()), rows(), { timelineCapacity: 3 });
  assert.deepEqual(data.linea.pedidos.map((p) => [p.id, p.worker, p.estado]), [
    [2, 2, "listo"],
    [3, 1, "fallido"],
    [4, 2, "listo"],
  ]);
  assert.equal(data.linea.hasta, 4);
  assert.deepEqual(data.linea.enProceso, []);
  assert.equal(data.t, T0 + 2_800);
  assert.equal(data.estadisticas.listos, 3);
  assert.equal("intervalos" in data.estadisticas, false);
});

Deno.test("the report's charts count finished orders per step and the mean duration of listo ones", async () => {
  const data = await reportData(await snapshotFromRows(rows()), rows(), { historyPoints: 300 });
  // 2 s between the first and last end: one-second steps.
  assert.deepEqual(data.historia.map((s) => s.terminados), [2, 2]);
  assert.ok(Math.abs(data.historia[0]!.duracion!.media - 0.75) < 1e-9);
  assert.ok(
    Math.abs(data.historia[1]!.duracion!.media - 0.8) < 1e-9,
    "the fallido one is left out",
  );
  assert.ok(data.historia.every((s) => s.recibidos === null && s.espera === null));
});

Deno.test("an empty database gives an empty report, and the page embeds the data safely", async () => {
  const data = await reportData(await snapshotFromRows([]), []);
  assert.deepEqual(data.historia, []);
  assert.deepEqual(data.linea.pedidos, []);
  const page = reportPage(data, "</script><b>x.db");
  assert.equal(page.includes("</script><b>"), false);
  assert.match(page, /<script type="application\/json" id="datos">\{/);
  assert.match(page, /<title>pedidos · informe de &lt;\/script>&lt;b>x\.db<\/title>/);
});
