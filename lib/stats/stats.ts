/**
 * Processing statistics: counters, durations and throughput of a server run
 * ({@link ProcessingStats}) or of a whole database ({@link snapshotFromRows}),
 * as a JSON-safe {@link StatsSnapshot}, and the Spanish report that both the
 * server's clients and `stats --db` print ({@link renderReport}).
 *
 * Memory stays bounded however many orders go through: durations go into a
 * {@link Histogram}, recent intervals into a ring buffer, the rest are
 * counters. Pure: no I/O; the clock is injectable.
 *
 * @module
 */

import { Histogram } from "./histogram.ts";
import { type Interval, maxOverlapOfRanges, renderTimeline } from "./timeline.ts";
import type { OrderRow } from "../store/types.ts";

export type { OrderRow };

/** How an order ends. */
export type FinalState = "listo" | "fallido";

/** An order that has just ended, as the server reports it to {@link ProcessingStats}. */
export interface FinishedOrder {
  id: number;
  /** Worker that processed it; `null` if it never reached one. */
  worker: number | null;
  estado: FinalState;
  /** Epoch ms when processing started; `null` if it failed before starting. */
  inicio: number | null;
  /** Epoch ms when it ended. */
  fin: number;
}

/** Statistics of a run or a database, safe to send as JSON. */
export interface StatsSnapshot {
  /** ISO-8601 UTC start of the report's window. */
  desde: string;
  /** ISO-8601 UTC end of the report's window. */
  hasta: string;
  /** Orders admitted. */
  recibidos: number;
  /** Orders a previous run left unfinished, taken up again by this one. */
  recuperados: number;
  listos: number;
  fallidos: number;
  /** Orders waiting now (supplied by the caller). */
  enCola: number;
  /** Orders being processed now (supplied by the caller). */
  enProceso: number;
  /** Rejections by `codigo` (`limite`, `pedido_invalido`, `json_invalido`…). */
  rechazos: Record<string, number>;
  /** Durations in seconds of the `listo` orders; `null` if there are none. */
  duracion: { min: number; media: number; p50: number; p95: number; max: number } | null;
  /** Finished orders per second between the first `inicio` and the last `fin`; `null` if none or a span of 0. */
  rendimiento: number | null;
  /** Most orders in process at one instant. */
  maxSimultaneos: number;
  /** Finished orders per worker number. */
  porWorker: Record<string, number>;
  /** The most recent finished intervals (bounded), oldest first, for the timeline. */
  intervalos: Interval[];
}

/** Options of {@link ProcessingStats}. */
export interface ProcessingStatsOptions {
  /** How many recent intervals to keep for the timeline. @default 2000 */
  timelineCapacity?: number;
  /** Clock in epoch ms. @default Date.now */
  now?: () => number;
}

/** Options of {@link snapshotFromRows}. */
export interface SnapshotFromRowsOptions {
  /** How many recent intervals to put in the snapshot. @default 2000 */
  timelineCapacity?: number;
  /** Clock in epoch ms, used only for the window when no row has a date. @default Date.now */
  now?: () => number;
}

/** Options of {@link renderReport}. */
export interface ReportOptions {
  /** Columns of the timeline's bars. @default 60 */
  width?: number;
}

const DEFAULT_TIMELINE_CAPACITY = 2000;

function checkCapacity(capacity: number): number {
  if (!Number.isSafeInteger(capacity) || capacity < 0) {
    throw new RangeError(`Capacidad inválida para la línea de tiempo: ${capacity}`);
  }
  return capacity;
}

/** Seconds rounded to the microsecond, so JSON stays short. */
function seconds(ms: number): number {
  return Math.round(ms * 1000) / 1e6;
}

function durationOf(h: Histogram): StatsSnapshot["duracion"] {
  if (h.count === 0) return null;
  return {
    min: seconds(h.min),
    media: seconds(h.mean),
    p50: seconds(h.percentile(0.5)),
    p95: seconds(h.percentile(0.95)),
    max: seconds(h.max),
  };
}

function throughput(finished: number, firstInicio: number, lastFin: number): number | null {
  const span = lastFin - firstInicio;
  if (finished < 1 || !Number.isFinite(span) || span <= 0) return null;
  return finished / (span / 1000);
}

function recordOf(map: ReadonlyMap<string | number, number>): Record<string, number> {
  return Object.fromEntries([...map].map(([k, v]) => [String(k), v]));
}

/**
 * Statistics of one server run: the server reports admissions, rejections,
 * finished orders and its in-process count, and sends {@link snapshot} to
 * whoever asks. Memory is bounded (histogram, ring buffer, counters).
 *
 * @example
 * ```ts
 * const t0 = Date.now();
 * const stats = new ProcessingStats();
 * stats.recordAdmitted();
 * stats.observeInProcess(1);
 * stats.recordFinished({ id: 1, worker: 1, estado: "listo", inicio: t0, fin: t0 + 2000 });
 * const snap = stats.snapshot({ enCola: 0, enProceso: 0 });
 * console.log(renderReport(snap));
 * ```
 */
export class ProcessingStats {
  readonly #now: () => number;
  readonly #desde: number;
  readonly #capacity: number;
  #recibidos = 0;
  #recuperados = 0;
  #listos = 0;
  #fallidos = 0;
  readonly #rechazos = new Map<string, number>();
  readonly #duraciones = new Histogram();
  #firstInicio = Infinity;
  #lastFin = -Infinity;
  #maxSimultaneos = 0;
  readonly #porWorker = new Map<number, number>();
  /** Ring buffer of recent intervals; `#next` is where the next one goes. */
  readonly #ring: Interval[] = [];
  #next = 0;

  /**
   * Starts the report's window now.
   *
   * @throws {RangeError} if `timelineCapacity` is not a non-negative integer.
   */
  constructor(options: ProcessingStatsOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#capacity = checkCapacity(options.timelineCapacity ?? DEFAULT_TIMELINE_CAPACITY);
    this.#desde = this.#now();
  }

  /** Counts an order admitted into the queue. */
  recordAdmitted(): void {
    this.#recibidos++;
  }

  /** Counts an order a previous run left unfinished and this run queued again. */
  recordRecovered(): void {
    this.#recuperados++;
  }

  /**
   * Counts a rejected request by its `codigo`.
   *
   * @example
   * ```ts
   * const stats = new ProcessingStats();
   * stats.recordRejected("limite");
   * ```
   */
  recordRejected(codigo: string): void {
    this.#rechazos.set(codigo, (this.#rechazos.get(codigo) ?? 0) + 1);
  }

  /**
   * Counts an order that ended: its state, its worker, its duration (for
   * `listo` orders that started; a `fin` before `inicio` counts as 0 ms) and
   * its interval for the timeline (if it had a worker and started).
   *
   * @throws {RangeError} if `estado` is not final or a date is not finite.
   */
  recordFinished(order: FinishedOrder): void {
    const { worker, estado, inicio, fin } = order;
    if (estado !== "listo" && estado !== "fallido") {
      throw new RangeError(`Estado final inválido: ${String(estado)}`);
    }
    if (!Number.isFinite(fin) || (inicio !== null && !Number.isFinite(inicio))) {
      throw new RangeError(`Fechas inválidas para el pedido #${order.id}`);
    }
    if (estado === "listo") this.#listos++;
    else this.#fallidos++;
    this.#lastFin = Math.max(this.#lastFin, fin);
    if (worker !== null) this.#porWorker.set(worker, (this.#porWorker.get(worker) ?? 0) + 1);
    if (inicio === null) return;
    this.#firstInicio = Math.min(this.#firstInicio, inicio);
    if (estado === "listo") this.#duraciones.record(Math.max(0, fin - inicio));
    if (worker !== null && this.#capacity > 0) {
      const interval = { worker, inicio, fin: Math.max(fin, inicio) };
      if (this.#ring.length < this.#capacity) this.#ring.push(interval);
      else this.#ring[this.#next] = interval;
      this.#next = (this.#next + 1) % this.#capacity;
    }
  }

  /** Reports how many orders are in process right now; the maximum is kept. */
  observeInProcess(count: number): void {
    if (count > this.#maxSimultaneos) this.#maxSimultaneos = count;
  }

  /**
   * The statistics so far, from construction until now, with the current
   * queue and in-process counts supplied by the caller (the latter also
   * counts as an observation for `maxSimultaneos`). The result is a fresh
   * plain value: JSON-safe, and changing it does not affect this object.
   *
   * @example
   * ```ts
   * const stats = new ProcessingStats();
   * const json = JSON.stringify(stats.snapshot({ enCola: 3, enProceso: 2 }));
   * ```
   */
  snapshot(current: { enCola: number; enProceso: number }): StatsSnapshot {
    const ordered = this.#ring.length < this.#capacity
      ? this.#ring
      : [...this.#ring.slice(this.#next), ...this.#ring.slice(0, this.#next)];
    return {
      desde: new Date(this.#desde).toISOString(),
      hasta: new Date(this.#now()).toISOString(),
      recibidos: this.#recibidos,
      recuperados: this.#recuperados,
      listos: this.#listos,
      fallidos: this.#fallidos,
      enCola: current.enCola,
      enProceso: current.enProceso,
      rechazos: recordOf(this.#rechazos),
      duracion: durationOf(this.#duraciones),
      rendimiento: throughput(this.#listos + this.#fallidos, this.#firstInicio, this.#lastFin),
      maxSimultaneos: Math.max(this.#maxSimultaneos, current.enProceso),
      porWorker: recordOf(new Map([...this.#porWorker].sort(([a], [b]) => a - b))),
      intervalos: ordered.map((it) => ({ worker: it.worker, inicio: it.inicio, fin: it.fin })),
    };
  }
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
    porWorker: recordOf(new Map([...porWorker].sort(([a], [b]) => a - b))),
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

function plural(n: number, singular: string, pluralForm: string): string {
  return `${n} ${n === 1 ? singular : pluralForm}`;
}

/**
 * The Spanish report of a snapshot, as the server's clients and
 * `stats --db` print it: one line per figure, durations in seconds with 3
 * decimals, then the timeline of the snapshot's intervals. Lines are joined
 * by `\n`, without a final newline.
 *
 * @example
 * ```ts
 * const stats = new ProcessingStats();
 * console.log(renderReport(stats.snapshot({ enCola: 0, enProceso: 0 }), { width: 40 }));
 * // 📊 Estadísticas de procesamiento (2026-11-28T10:00:00.000Z → 2026-11-28T10:00:09.412Z)
 * //   Pedidos: 6 recibidos · 6 listos · 0 fallidos · 0 en cola · 0 en proceso
 * //   Rechazos: limite 4 · pedido_invalido 1
 * //   Duración (s): mín 2.001 · media 2.003 · p50 2.002 · p95 2.006 · máx 2.006
 * //   Rendimiento: 1.47 pedidos/s
 * //   Máximo en paralelo: 3 pedidos a la vez
 * //   Por worker: #1 2 · #2 2 · #3 2
 * //   Línea de tiempo:
 * //     worker 1 │████…│ 2 pedidos
 * //     …
 * ```
 */
export function renderReport(snapshot: StatsSnapshot, options: ReportOptions = {}): string {
  const s = snapshot;
  const lines = [`📊 Estadísticas de procesamiento (${s.desde} → ${s.hasta})`];
  lines.push(
    "  Pedidos: " + [
      plural(s.recibidos, "recibido", "recibidos"),
      ...(s.recuperados > 0 ? [plural(s.recuperados, "recuperado", "recuperados")] : []),
      plural(s.listos, "listo", "listos"),
      plural(s.fallidos, "fallido", "fallidos"),
      `${s.enCola} en cola`,
      `${s.enProceso} en proceso`,
    ].join(" · "),
  );

  const rechazos = Object.entries(s.rechazos)
    .filter(([, n]) => n > 0)
    .sort(([a, n], [b, m]) => m - n || (a < b ? -1 : a > b ? 1 : 0));
  lines.push(
    "  Rechazos: " +
      (rechazos.length === 0 ? "ninguno" : rechazos.map(([c, n]) => `${c} ${n}`).join(" · ")),
  );

  const d = s.duracion;
  lines.push(
    "  Duración (s): " +
      (d === null ? "sin pedidos listos" : [
        `mín ${d.min.toFixed(3)}`,
        `media ${d.media.toFixed(3)}`,
        `p50 ${d.p50.toFixed(3)}`,
        `p95 ${d.p95.toFixed(3)}`,
        `máx ${d.max.toFixed(3)}`,
      ].join(" · ")),
  );
  lines.push(
    "  Rendimiento: " +
      (s.rendimiento === null ? "sin datos" : `${s.rendimiento.toFixed(2)} pedidos/s`),
  );
  lines.push(
    `  Máximo en paralelo: ${plural(s.maxSimultaneos, "pedido", "pedidos")} a la vez`,
  );

  const workers = Object.entries(s.porWorker).sort(([a], [b]) => Number(a) - Number(b));
  lines.push(
    "  Por worker: " +
      (workers.length === 0 ? "ninguno" : workers.map(([w, n]) => `#${w} ${n}`).join(" · ")),
  );

  lines.push("  Línea de tiempo:");
  const timelineOptions = options.width === undefined ? {} : { width: options.width };
  for (const line of renderTimeline(s.intervalos, timelineOptions).split("\n")) {
    lines.push(`    ${line}`);
  }
  return lines.join("\n");
}
