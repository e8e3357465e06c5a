/**
 * Throughput and latency second by second, for the dashboard's charts: a
 * bounded ring of samples, each what happened since the one before,
 * computed from cumulative totals. Pure: no I/O.
 *
 * @module
 */
import { type BucketTotals, difference, quantile } from "./buckets.ts";

/** Mean and 95th percentile of some seconds, or `null` when nothing was measured. */
export type Latency = { media: number; p95: number } | null;

/** What happened in one interval, as rates per second and latencies in seconds. */
export interface Sample {
  /** Epoch ms at the end of the interval. */
  t: number;
  /** Orders finished (`listo` or `fallido`) per second. */
  terminados: number;
  /** Orders accepted per second; `null` where unknown (a report from a database). */
  recibidos: number | null;
  /** Processing time of the orders that finished `listo`. */
  duracion: Latency;
  /** Time from receipt to first start of the orders that started. */
  espera: Latency;
}

/** Running totals at one instant, as the recorder keeps them. */
export interface Totals {
  terminados: number;
  recibidos: number;
  duracion: BucketTotals;
  espera: BucketTotals;
}

function latency(totals: BucketTotals): Latency {
  if (totals.count <= 0) return null;
  return { media: totals.sum / totals.count, p95: quantile(totals, 0.95) ?? 0 };
}

/**
 * @example
 * ```ts
 * const history = new History(300);
 * history.record(Date.now(), totals); // once a second
 * history.samples(); // oldest first
 * ```
 */
export class History {
  readonly #capacity: number;
  readonly #samples: Sample[] = [];
  #previous: { at: number; totals: Totals } | undefined;

  /** @throws {RangeError} if `capacity` is not a positive integer */
  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`Capacidad inválida para el historial: ${capacity}`);
    }
    this.#capacity = capacity;
  }

  /**
   * Adds the sample for the time since the previous call. The first call
   * only sets the starting point, and a call whose clock has not moved on is
   * ignored: both return `undefined`.
   */
  record(at: number, totals: Totals): Sample | undefined {
    const previous = this.#previous;
    if (previous && at <= previous.at) return undefined;
    this.#previous = { at, totals };
    if (!previous) return undefined;
    const seconds = (at - previous.at) / 1000;
    const sample: Sample = {
      t: at,
      terminados: (totals.terminados - previous.totals.terminados) / seconds,
      recibidos: (totals.recibidos - previous.totals.recibidos) / seconds,
      duracion: latency(difference(totals.duracion, previous.totals.duracion)),
      espera: latency(difference(totals.espera, previous.totals.espera)),
    };
    this.#samples.push(sample);
    if (this.#samples.length > this.#capacity) this.#samples.shift();
    return sample;
  }

  /** Every kept sample, oldest first (a copy). */
  samples(): Sample[] {
    return [...this.#samples];
  }
}
