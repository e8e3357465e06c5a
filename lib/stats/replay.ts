/**
 * Statistics of a whole database, replayed from its stored rows (for
 * `stats --db`): the same {@link StatsSnapshot} a live run produces, built
 * in one pass over the rows. Pure: reads only the rows it is given.
 *
 * @module
 */
import { Histogram } from "./histogram.ts";
import {
  checkCapacity,
  DEFAULT_TIMELINE_CAPACITY,
  durationOf,
  perWorker,
  type StatsSnapshot,
  throughput,
} from "./snapshot.ts";
import { type Interval, maxOverlapOfRanges } from "./timeline.ts";
import type { OrderRow } from "../store/types.ts";

export type { OrderRow };

/** Options of {@link snapshotFromRows}. */
export interface SnapshotFromRowsOptions {
  /** How many recent intervals to put in the snapshot. @default 2000 */
  timelineCapacity?: number;
  /** Clock in epoch ms, used only for the window when no row has a date. @default Date.now */
  now?: () => number;
}

/** Epoch ms of an ISO date, or `null` if absent or unreadable. */
function parseDate(iso: string | null): number | null {
  if (iso === null) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * Builds a snapshot of a whole database's rows (for `stats --db`): counts by
 * state (`en cola` and `en proceso` included; every row counts as
 * `recibidos`; unknown states count only there), durations of `listo` rows,
 * throughput, `maxSimultaneos` from the overlap of all rows' intervals (an
 * `en proceso` row without `fecha_fin` is still open), finished orders per
 * worker and the `timelineCapacity` intervals that ended last. Rejections are
 * not stored, so `rechazos` is empty. The window goes from the earliest to the
 * latest date found (both `now()` if none). Unreadable dates count as `null`.
 *
 * Reads `rows` once, as a store's read side streams them; keeps three
 * numbers per row that has started, so a million rows take a few tens of MB.
 *
 * @throws {RangeError} if `timelineCapacity` is not a non-negative integer.
 *
 * @example
 * ```ts
 * const snap = await snapshotFromRows([
 *   { id: 1, estado: "listo", worker: 1, fecha_inicio: "2026-11-28T10:00:00.000Z", fecha_fin: "2026-11-28T10:00:02.000Z" },
 *   { id: 2, estado: "en cola", worker: null, fecha_inicio: null, fecha_fin: null },
 * ]);
 * snap.listos; // 1
 * snap.enCola; // 1
 * ```
 */
export async function snapshotFromRows(
  rows: Iterable<OrderRow> | AsyncIterable<OrderRow>,
  options: SnapshotFromRowsOptions = {},
): Promise<StatsSnapshot> {
  const capacity = checkCapacity(options.timelineCapacity ?? DEFAULT_TIMELINE_CAPACITY);
  let recibidos = 0, listos = 0, fallidos = 0, enCola = 0, enProceso = 0;
  let earliest = Infinity, latest = -Infinity;
  let firstInicio = Infinity, lastFin = -Infinity;
  const duraciones = new Histogram();
  const porWorker = new Map<number, number>();
  // Parallel lists of every started row's interval; worker NaN when absent,
  // fin Infinity for an order still in process.
  const inicios: number[] = [];
  const fines: number[] = [];
  const workers: number[] = [];

  for await (const row of rows) {
    recibidos++;
    const inicio = parseDate(row.fecha_inicio);
    const fin = parseDate(row.fecha_fin);
    for (const t of [inicio, fin]) {
      if (t !== null) {
        earliest = Math.min(earliest, t);
        latest = Math.max(latest, t);
      }
    }
    const finished = row.estado === "listo" || row.estado === "fallido";
    if (row.estado === "listo") listos++;
    else if (row.estado === "fallido") fallidos++;
    else if (row.estado === "en cola") enCola++;
    else if (row.estado === "en proceso") enProceso++;

    if (finished) {
      if (row.worker !== null) porWorker.set(row.worker, (porWorker.get(row.worker) ?? 0) + 1);
      if (fin !== null) lastFin = Math.max(lastFin, fin);
      if (inicio !== null) firstInicio = Math.min(firstInicio, inicio);
      if (row.estado === "listo" && inicio !== null && fin !== null) {
        duraciones.record(Math.max(0, fin - inicio));
      }
    }
    if (inicio !== null && (fin !== null || row.estado === "en proceso")) {
      inicios.push(inicio);
      fines.push(fin === null ? Infinity : Math.max(fin, inicio));
      workers.push(row.worker ?? NaN);
    }
  }

  const now = options.now ?? Date.now;
  if (earliest === Infinity) earliest = latest = now();

  return {
    desde: new Date(earliest).toISOString(),
    hasta: new Date(latest).toISOString(),
    recibidos,
    recuperados: 0,
    listos,
    fallidos,
    enCola,
    enProceso,
    rechazos: {},
    duracion: durationOf(duraciones),
    rendimiento: throughput(listos + fallidos, firstInicio, lastFin),
    maxSimultaneos: maxOverlapOfRanges(inicios, fines),
    porWorker: perWorker(porWorker),
    intervalos: latestIntervals(inicios, fines, workers, capacity),
  };
}

/** The `capacity` drawable intervals that ended last, sorted by `fin` then `inicio`. */
function latestIntervals(
  inicios: readonly number[],
  fines: readonly number[],
  workers: readonly number[],
  capacity: number,
): Interval[] {
  const drawable: number[] = [];
  for (let i = 0; i < fines.length; i++) {
    if (Number.isFinite(fines[i]) && !Number.isNaN(workers[i])) drawable.push(i);
  }
  let chosen = drawable;
  if (drawable.length > capacity) {
    chosen = [];
    if (capacity > 0) {
      // Only the last `capacity` ends make it: find the threshold in O(n log n)
      // on a typed array, then keep what ends after it, ties up to capacity.
      const ends = Float64Array.from(drawable, (i) => fines[i] ?? 0).sort();
      const threshold = ends[ends.length - capacity] ?? -Infinity;
      let ties = capacity - ends.filter((f) => f > threshold).length;
      for (const i of drawable) {
        const f = fines[i] ?? 0;
        if (f > threshold) chosen.push(i);
        else if (f === threshold && ties > 0) {
          chosen.push(i);
          ties--;
        }
      }
    }
  }
  return chosen
    .map((i) => ({ worker: workers[i] ?? 0, inicio: inicios[i] ?? 0, fin: fines[i] ?? 0 }))
    .sort((a, b) => a.fin - b.fin || a.inicio - b.inicio || a.worker - b.worker);
}
