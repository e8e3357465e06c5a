/**
 * The metrics' side of the order service: counts what the service reports
 * (see {@linkcode OrderObserver}) into plain numbers, fixed-bucket
 * histograms and a ring of the most recent orders for the timeline. Every
 * call is a few additions and array writes, with no allocation once warm,
 * so it costs nothing measurable at tens of thousands of orders a second.
 * Everything else (Prometheus, the dashboard) reads from here when asked.
 * Pure: no I/O; the clock is injectable.
 *
 * @module
 */
import type { OrderObserver, Outcome } from "../orders/observer.ts";
import {
  BucketCounts,
  type BucketTotals,
  COMMIT_SECONDS_BOUNDS,
  ORDER_SECONDS_BOUNDS,
} from "./buckets.ts";

/** One order on the timeline; `fin` is `null` while it is in process. */
export interface TimelineEntry {
  id: number;
  worker: number;
  /** Epoch ms; `null` for a failed order whose attempt's start is not known. */
  inicio: number | null;
  fin: number | null;
  estado: Outcome | "en proceso";
}

/** The timeline's recent orders, and those in process now. */
export interface Timeline {
  /** Orders finished so far in this run: pass it back as `since` to get only newer ones. */
  hasta: number;
  /** How many finished orders the timeline keeps. */
  capacidad: number;
  /** Finished orders, oldest first: at most the ring's capacity. */
  pedidos: TimelineEntry[];
  /** The order each busy worker is on, by worker number. */
  enProceso: TimelineEntry[];
}

/** Plain counters, as Prometheus exposes them. */
export interface RecorderCounts {
  /** Answers to submitted orders by result: `accepted`, `duplicate`, or a `codigo`. */
  received: Record<string, number>;
  recovered: number;
  retries: number;
  listos: number;
  fallidos: number;
}

/** Options of {@link MetricsRecorder}. */
export interface MetricsRecorderOptions {
  /** How many finished orders the timeline keeps. @default 500 */
  timelineCapacity?: number;
  /** How long a failed store transaction keeps the server not ready. @default 10000 */
  storeFailureHoldMs?: number;
  /** Clock in epoch ms. @default Date.now */
  now?: () => number;
}

const OUTCOMES: readonly Outcome[] = ["listo", "fallido"];

/**
 * @example
 * ```ts
 * const recorder = new MetricsRecorder();
 * recorder.received("accepted");
 * recorder.started(1, 1, 1000, 990);
 * recorder.finished(1, 1, "listo", 1000, 1800);
 * recorder.timeline().pedidos; // [{ id: 1, worker: 1, inicio: 1000, fin: 1800, estado: "listo" }]
 * ```
 */
export class MetricsRecorder implements OrderObserver {
  readonly duration: BucketCounts = new BucketCounts(ORDER_SECONDS_BOUNDS);
  readonly queueWait: BucketCounts = new BucketCounts(ORDER_SECONDS_BOUNDS);
  readonly commit: BucketCounts = new BucketCounts(COMMIT_SECONDS_BOUNDS);
  readonly #now: () => number;
  readonly #holdMs: number;
  readonly #received = new Map<string, number>();
  #recovered = 0;
  #retries = 0;
  readonly #outcomes = [0, 0];
  #lastCommitFailedAt = -Infinity;
  #lastCommitOk = true;
  // The ring of finished orders, as parallel typed arrays: no object per order.
  readonly #capacity: number;
  readonly #ids: Float64Array;
  readonly #workers: Int32Array;
  readonly #inicios: Float64Array;
  readonly #fines: Float64Array;
  readonly #estados: Uint8Array;
  #written = 0;
  /** By worker number: the order it started last and when, until that order ends. */
  readonly #runningId: number[] = [];
  readonly #runningSince: number[] = [];

  /** @throws {RangeError} if `timelineCapacity` is not a positive integer */
  constructor(options: MetricsRecorderOptions = {}) {
    const capacity = options.timelineCapacity ?? 500;
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`Capacidad inválida para la línea de tiempo: ${capacity}`);
    }
    this.#capacity = capacity;
    this.#ids = new Float64Array(capacity);
    this.#workers = new Int32Array(capacity);
    this.#inicios = new Float64Array(capacity);
    this.#fines = new Float64Array(capacity);
    this.#estados = new Uint8Array(capacity);
    this.#holdMs = options.storeFailureHoldMs ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  received(result: string): void {
    this.#received.set(result, (this.#received.get(result) ?? 0) + 1);
  }

  recovered(count: number): void {
    this.#recovered += count;
  }

  started(id: number, worker: number, at: number, receivedAt: number | undefined): void {
    this.#runningId[worker] = id;
    this.#runningSince[worker] = at;
    if (receivedAt !== undefined) this.queueWait.record((at - receivedAt) / 1000);
  }

  finished(id: number, worker: number, outcome: Outcome, inicio: number | null, fin: number): void {
    let start = inicio;
    if (this.#runningId[worker] === id) {
      start ??= this.#runningSince[worker] ?? null;
      this.#runningId[worker] = -1;
    }
    const estado = outcome === "listo" ? 0 : 1;
    this.#outcomes[estado]!++;
    if (outcome === "listo" && start !== null) this.duration.record((fin - start) / 1000);
    const slot = this.#written % this.#capacity;
    this.#ids[slot] = id;
    this.#workers[slot] = worker;
    this.#inicios[slot] = start ?? NaN;
    this.#fines[slot] = fin;
    this.#estados[slot] = estado;
    this.#written++;
  }

  retried(): void {
    this.#retries++;
  }

  committed(ms: number, ok: boolean): void {
    this.commit.record(ms / 1000);
    this.#lastCommitOk = ok;
    if (!ok) this.#lastCommitFailedAt = this.#now();
  }

  /** Whether the store failed its last transaction less than the hold time ago. */
  get storeFailing(): boolean {
    return !this.#lastCommitOk && this.#now() - this.#lastCommitFailedAt < this.#holdMs;
  }

  /** The counters so far. */
  counts(): RecorderCounts {
    return {
      received: Object.fromEntries(this.#received),
      recovered: this.#recovered,
      retries: this.#retries,
      listos: this.#outcomes[0]!,
      fallidos: this.#outcomes[1]!,
    };
  }

  /** Orders finished so far, `listo` or `fallido`. */
  get finishedCount(): number {
    return this.#outcomes[0]! + this.#outcomes[1]!;
  }

  /** The three histograms' totals so far. */
  histograms(): { duration: BucketTotals; queueWait: BucketTotals; commit: BucketTotals } {
    return {
      duration: this.duration.totals(),
      queueWait: this.queueWait.totals(),
      commit: this.commit.totals(),
    };
  }

  /**
   * The recent finished orders (those finished after the first `since`, if
   * given, and at most the ring's capacity), and the orders in process.
   */
  timeline(since = 0): Timeline {
    const first = Math.max(since, this.#written - this.#capacity, 0);
    const pedidos: TimelineEntry[] = [];
    for (let n = first; n < this.#written; n++) {
      const slot = n % this.#capacity;
      const inicio = this.#inicios[slot]!;
      pedidos.push({
        id: this.#ids[slot]!,
        worker: this.#workers[slot]!,
        inicio: Number.isNaN(inicio) ? null : inicio,
        fin: this.#fines[slot]!,
        estado: OUTCOMES[this.#estados[slot]!]!,
      });
    }
    const enProceso: TimelineEntry[] = [];
    this.#runningId.forEach((id, worker) => {
      if (id >= 0) {
        enProceso.push({
          id,
          worker,
          inicio: this.#runningSince[worker]!,
          fin: null,
          estado: "en proceso",
        });
      }
    });
    return { hasta: this.#written, capacidad: this.#capacity, pedidos, enProceso };
  }
}
