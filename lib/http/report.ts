/**
 * The dashboard as a standalone file for a finished run (`stats --html`):
 * the same page, with what a live `inicio` event would carry built from the
 * database's rows and embedded, so it opens anywhere with no server and no
 * network. Pure: rows in, HTML out.
 *
 * @module
 */
import type { OrderRow } from "../store/types.ts";
import type { StatsSnapshot } from "../stats/snapshot.ts";
import { BucketCounts, ORDER_SECONDS_BOUNDS, quantile } from "./buckets.ts";
import { dashboardPage } from "./assets/page.ts";
import type { Sample } from "./history.ts";
import type { PageStats } from "./live.ts";
import type { Timeline, TimelineEntry } from "./recorder.ts";

/** What the report page embeds: an `inicio` event without the live occupancy. */
export interface ReportData {
  t: number;
  estadisticas: PageStats;
  muestra: null;
  linea: Timeline;
  historia: Sample[];
}

/** Options of {@link reportData}. */
export interface ReportOptions {
  /** Finished orders drawn on the timeline, the last to end. @default 500 */
  timelineCapacity?: number;
  /** Most points on each chart. @default 300 */
  historyPoints?: number;
}

/**
 * Builds the report's data from a snapshot of the same rows
 * (`snapshotFromRows`) and one more pass over them. Keeps five numbers per
 * finished row. The charts' points each cover `span / historyPoints`, at
 * least one second; the database has no receipt time in its rows' summary,
 * so admissions and queue waits are left out (`null`).
 *
 * @example
 * ```ts
 * const data = reportData(snapshotFromRows(store.rows()), store.rows());
 * await Deno.writeTextFile("informe.html", reportPage(data, "pedidos.db"));
 * ```
 */
export async function reportData(
  snapshot: StatsSnapshot,
  rows: Iterable<OrderRow> | AsyncIterable<OrderRow>,
  options: ReportOptions = {},
): Promise<ReportData> {
  const capacity = options.timelineCapacity ?? 500;
  const points = options.historyPoints ?? 300;
  const ids: number[] = [];
  const workers: number[] = [];
  const inicios: number[] = [];
  const fines: number[] = [];
  const listos: boolean[] = [];
  for await (const row of rows) {
    if (row.estado !== "listo" && row.estado !== "fallido") continue;
    const fin = row.fecha_fin === null ? NaN : Date.parse(row.fecha_fin);
    if (Number.isNaN(fin)) continue;
    const inicio = row.fecha_inicio === null ? NaN : Date.parse(row.fecha_inicio);
    ids.push(row.id);
    workers.push(row.worker ?? 0);
    inicios.push(inicio);
    fines.push(fin);
    listos.push(row.estado === "listo");
  }
  const order = fines.map((_, i) => i).sort((a, b) => fines[a]! - fines[b]! || ids[a]! - ids[b]!);
  const pedidos: TimelineEntry[] = order.slice(Math.max(0, order.length - capacity))
    .filter((i) => workers[i]! > 0)
    .map((i) => ({
      id: ids[i]!,
      worker: workers[i]!,
      inicio: Number.isNaN(inicios[i]!) ? null : inicios[i]!,
      fin: fines[i]!,
      estado: listos[i] ? "listo" : "fallido",
    }));
  const { intervalos: _intervalos, ...estadisticas } = snapshot;
  const last = order.length > 0 ? fines[order[order.length - 1]!]! : Date.parse(snapshot.hasta);
  return {
    t: last,
    estadisticas,
    muestra: null,
    linea: { hasta: order.length, capacidad: capacity, pedidos, enProceso: [] },
    historia: history(order, inicios, fines, listos, points),
  };
}

/**
 * Finished orders per second and processing latency over the run, in at
 * most `points` steps of at least a second; the last step ends with the last
 * order.
 */
function history(
  order: readonly number[],
  inicios: readonly number[],
  fines: readonly number[],
  listos: readonly boolean[],
  points: number,
): Sample[] {
  if (order.length === 0) return [];
  const first = fines[order[0]!]!;
  const span = fines[order[order.length - 1]!]! - first;
  const step = Math.max(1000, Math.ceil(span / points));
  const steps = Math.max(1, Math.ceil(span / step));
  const finished = new Array<number>(steps).fill(0);
  const durations = Array.from({ length: steps }, () => new BucketCounts(ORDER_SECONDS_BOUNDS));
  for (const i of order) {
    const k = Math.min(steps - 1, Math.floor((fines[i]! - first) / step));
    finished[k]!++;
    if (listos[i] && !Number.isNaN(inicios[i]!)) {
      durations[k]!.record((fines[i]! - inicios[i]!) / 1000);
    }
  }
  return finished.map((count, k) => {
    const totals = durations[k]!.totals();
    return {
      t: first + (k + 1) * step,
      terminados: count / (step / 1000),
      recibidos: null,
      duracion: totals.count === 0
        ? null
        : { media: totals.sum / totals.count, p95: quantile(totals, 0.95) ?? 0 },
      espera: null,
    };
  });
}

/** The standalone page for `data`, titled after the database. */
export function reportPage(data: ReportData, db: string): string {
  return dashboardPage(data, `pedidos · informe de ${db}`);
}
