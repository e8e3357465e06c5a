/**
 * Fixed-bucket histograms cheap enough to feed once per order at tens of
 * thousands of orders a second: one comparison loop and three additions,
 * no allocation. prom-client's own `observe` costs about 40 times as much
 * (it hashes labels and allocates on every call), so orders land here and
 * the Prometheus histograms read these totals when scraped. Pure: no I/O.
 *
 * @module
 */

/** Upper bounds (seconds) for order durations and queue waits: 1 ms to 1 min, 1-2-5 steps. */
export const ORDER_SECONDS_BOUNDS: readonly number[] = [
  0.001,
  0.002,
  0.005,
  0.01,
  0.02,
  0.05,
  0.1,
  0.2,
  0.5,
  1,
  2,
  5,
  10,
  20,
  60,
];

/** Upper bounds (seconds) for one store transaction: 0.1 ms to 1 s. */
export const COMMIT_SECONDS_BOUNDS: readonly number[] = [
  0.0001,
  0.0002,
  0.0005,
  0.001,
  0.002,
  0.005,
  0.01,
  0.02,
  0.05,
  0.1,
  0.2,
  0.5,
  1,
];

/** What a {@link BucketCounts} holds at one moment; counts are per bucket, not cumulative. */
export interface BucketTotals {
  /** The buckets' upper bounds, ascending. */
  bounds: readonly number[];
  /** One count per bound, then one for values above the last bound. */
  counts: readonly number[];
  sum: number;
  count: number;
}

/**
 * Counts values into buckets with fixed upper bounds (a value equal to a
 * bound goes into that bound's bucket, as Prometheus's `le` means).
 *
 * @example
 * ```ts
 * const h = new BucketCounts([0.1, 1]);
 * h.record(0.05);
 * h.record(3);
 * h.totals().counts; // [1, 0, 1]
 * ```
 */
export class BucketCounts {
  readonly bounds: readonly number[];
  readonly #counts: Float64Array;
  #sum = 0;
  #count = 0;

  /** @throws {RangeError} if the bounds are empty, not finite or not strictly ascending */
  constructor(bounds: readonly number[]) {
    if (
      bounds.length === 0 ||
      bounds.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= bounds[i - 1]!))
    ) {
      throw new RangeError(`Límites de histograma inválidos: ${bounds.join(", ")}`);
    }
    this.bounds = [...bounds];
    this.#counts = new Float64Array(bounds.length + 1);
  }

  /** Adds one value; negative and non-finite values count as 0 (a clock stepping back). */
  record(value: number): void {
    const v = value > 0 && value !== Infinity ? value : 0;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && v > bounds[i]!) i++;
    this.#counts[i]!++;
    this.#sum += v;
    this.#count++;
  }

  /** How many values so far. */
  get count(): number {
    return this.#count;
  }

  /** A copy of everything recorded so far. */
  totals(): BucketTotals {
    return { bounds: this.bounds, counts: [...this.#counts], sum: this.#sum, count: this.#count };
  }
}

/**
 * What was recorded between two totals of the same histogram.
 *
 * @example
 * ```ts
 * const h = new BucketCounts([1]);
 * const before = h.totals();
 * h.record(0.5);
 * difference(h.totals(), before).count; // 1
 * ```
 */
export function difference(later: BucketTotals, earlier: BucketTotals): BucketTotals {
  return {
    bounds: later.bounds,
    counts: later.counts.map((n, i) => n - (earlier.counts[i] ?? 0)),
    sum: later.sum - earlier.sum,
    count: later.count - earlier.count,
  };
}

/**
 * Estimates quantile `q` (0..1) from bucket counts the way Prometheus's
 * `histogram_quantile` does: linear within the bucket that holds the rank,
 * starting from 0 for the first bucket; a rank above the last bound reports
 * the last bound. `null` when nothing was recorded.
 *
 * @example
 * ```ts
 * quantile({ bounds: [1, 2], counts: [0, 4, 0], sum: 6, count: 4 }, 0.5); // 1.5
 * ```
 */
export function quantile(totals: BucketTotals, q: number): number | null {
  if (totals.count <= 0) return null;
  const rank = Math.min(Math.max(q, 0), 1) * totals.count;
  let below = 0;
  for (let i = 0; i < totals.bounds.length; i++) {
    const inBucket = totals.counts[i] ?? 0;
    if (below + inBucket >= rank && inBucket > 0) {
      const lower = i === 0 ? 0 : totals.bounds[i - 1]!;
      const upper = totals.bounds[i]!;
      return lower + (upper - lower) * ((rank - below) / inBucket);
    }
    below += inBucket;
  }
  return totals.bounds[totals.bounds.length - 1]!;
}
