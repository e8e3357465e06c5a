/**
 * Live statistics of one server run: the server reports admissions,
 * rejections, finished orders and its in-process count as they happen, and
 * takes a {@link StatsSnapshot} whenever it needs one.
 *
 * Memory stays bounded however many orders go through: durations go into a
 * {@link Histogram}, recent intervals into a ring buffer, the rest are
 * counters. Pure: no I/O; the clock is injectable.
 *
 * @module
 */
import { Histogram } from "./histogram.ts";
import {
  checkCapacity,
  DEFAULT_TIMELINE_CAPACITY,
  durationOf,
  perWorker,
  type StatsFigures,
  type StatsSnapshot,
  throughput,
} from "./snapshot.ts";
import type { Interval } from "./timeline.ts";

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

/** Options of {@link ProcessingStats}. */
export interface ProcessingStatsOptions {
  /** How many recent intervals to keep for the timeline. @default 2000 */
  timelineCapacity?: number;
  /** Clock in epoch ms. @default Date.now */
  now?: () => number;
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
  #version = 0;

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

  /**
   * Changes whenever something is recorded: two equal values mean equal
   * figures and intervals (for the same current counts), so a snapshot
   * taken at the first may still serve at the second.
   */
  get version(): number {
    return this.#version;
  }

  /** Counts an order admitted into the queue. */
  recordAdmitted(): void {
    this.#recibidos++;
    this.#version++;
  }

  /** Counts orders a previous run left unfinished and this run takes up again. */
  recordRecovered(count = 1): void {
    this.#recuperados += count;
    this.#version++;
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
    this.#version++;
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
    this.#version++;
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
    if (count <= this.#maxSimultaneos) return;
    this.#maxSimultaneos = count;
    this.#version++;
  }

  /**
   * The statistics so far, from construction until now, with every interval
   * kept (see {@linkcode figures} and {@linkcode recentIntervals}). The
   * result is a fresh plain value: JSON-safe, and changing it does not
   * affect this object.
   *
   * @example
   * ```ts
   * const stats = new ProcessingStats();
   * const json = JSON.stringify(stats.snapshot({ enCola: 3, enProceso: 2 }));
   * ```
   */
  snapshot(current: { enCola: number; enProceso: number }): StatsSnapshot {
    return { ...this.figures(current), intervalos: this.recentIntervals() };
  }

  /**
   * The figures so far, from construction until now, with the current queue
   * and in-process counts supplied by the caller (the latter also counts as
   * an observation for `maxSimultaneos`). A fresh plain value.
   */
  figures(current: { enCola: number; enProceso: number }): StatsFigures {
    return {
      desde: new Date(this.#desde).toISOString(),
      hasta: new Date(this.#now()).toISOString(),
      recibidos: this.#recibidos,
      recuperados: this.#recuperados,
      listos: this.#listos,
      fallidos: this.#fallidos,
      enCola: current.enCola,
      enProceso: current.enProceso,
      rechazos: Object.fromEntries(this.#rechazos),
      duracion: durationOf(this.#duraciones),
      rendimiento: throughput(this.#listos + this.#fallidos, this.#firstInicio, this.#lastFin),
      maxSimultaneos: Math.max(this.#maxSimultaneos, current.enProceso),
      porWorker: perWorker(this.#porWorker),
    };
  }

  /**
   * The last `limit` intervals kept (all of them by default), oldest first,
   * as fresh objects.
   *
   * @throws {RangeError} if `limit` is not a non-negative integer.
   */
  recentIntervals(limit: number = this.#capacity): Interval[] {
    const count = Math.min(checkCapacity(limit), this.#ring.length);
    const ordered = this.#ring.length < this.#capacity
      ? this.#ring
      : [...this.#ring.slice(this.#next), ...this.#ring.slice(0, this.#next)];
    return ordered.slice(ordered.length - count)
      .map((it) => ({ worker: it.worker, inicio: it.inicio, fin: it.fin }));
  }
}
