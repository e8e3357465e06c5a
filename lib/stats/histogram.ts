/**
 * A log-linear (HDR-style) histogram of non-negative durations in
 * milliseconds, with fixed memory whatever the number of values recorded.
 *
 * Each power of two between {@link Histogram.LOWEST} (2⁻¹⁰ ms ≈ 0.001 ms) and
 * 2²² ms is split into 512 equal sub-buckets, so a bucket is never wider than
 * 1/512 of its lower bound and the value a percentile reports (the bucket's
 * midpoint, kept within `min`..`max`) is within 0.1 % of the true one (±1 ms
 * at 2 s), well inside the 1 % promised. Values below the lowest bucket
 * share one bucket; values above {@link Histogram.HIGHEST} (1 h) are counted
 * as if they were 1 h. `min`, `max` and `mean` are kept exactly apart from
 * the buckets. Pure: no I/O.
 *
 * @example
 * ```ts
 * import { Histogram } from "./histogram.ts";
 * const h = new Histogram();
 * for (const ms of [12, 15, 11, 240]) h.record(ms);
 * h.percentile(0.5); // ≈ 12 (within 1 %)
 * h.max; // 240, exact
 * ```
 *
 * @module
 */

/** log2 of the number of sub-buckets per power of two. */
const SUB_BITS = 9;
/** Sub-buckets per power of two: relative bucket width ≤ 1/512. */
const SUB_COUNT = 1 << SUB_BITS;
/** Exponent of the lowest tracked power of two: 2⁻¹⁰ ms ≈ 0.000977 ms. */
const MIN_EXP = -10;
/** Exponent one past the highest tracked power of two: 2²² ms ≈ 69.9 min. */
const MAX_EXP = 22;
/** Bucket 0 holds values below 2^MIN_EXP (zero included); the rest are log-linear. */
const BUCKETS = 1 + (MAX_EXP - MIN_EXP) * SUB_COUNT;

/** Index of the bucket holding `v` (already clamped to [0, HIGHEST]). */
function bucketOf(v: number): number {
  if (v < 2 ** MIN_EXP) return 0;
  let exp = Math.floor(Math.log2(v));
  // Math.log2 may be off by one ulp next to powers of two: settle it exactly.
  if (2 ** exp > v) exp--;
  else if (2 ** (exp + 1) <= v) exp++;
  // Both operations are exact in binary floating point.
  const sub = Math.floor((v / 2 ** exp - 1) * SUB_COUNT);
  return 1 + (exp - MIN_EXP) * SUB_COUNT + sub;
}

/** The value reported for bucket `i`: its midpoint (bucket 0: half its width). */
function representativeOf(i: number): number {
  if (i === 0) return 2 ** (MIN_EXP - 1);
  const exp = MIN_EXP + Math.floor((i - 1) / SUB_COUNT);
  const sub = (i - 1) % SUB_COUNT;
  return 2 ** exp * (1 + (sub + 0.5) / SUB_COUNT);
}

/**
 * The 1-based rank (nearest-rank method) of quantile `q` among `count`
 * values: `ceil(q · count)`, at least 1, with a tiny tolerance so that
 * floating-point noise (`0.07 * 100 = 7.000000000000001`) does not skip a rank.
 *
 * @example
 * ```ts
 * quantileRank(0.5, 10); // 5
 * quantileRank(0, 10); // 1
 * quantileRank(1, 10); // 10
 * ```
 */
export function quantileRank(q: number, count: number): number {
  const rank = Math.ceil(q * count - count * 1e-12);
  return Math.min(count, Math.max(1, rank));
}

/**
 * Latency/duration histogram in milliseconds with bounded memory (≈ 128 KiB,
 * whatever the count) and ≤ 1 % relative error on percentiles.
 *
 * @example
 * ```ts
 * const latencias = new Histogram();
 * latencias.record(3.2);
 * latencias.record(7.5, 10); // ten values of 7.5 ms
 * latencias.count; // 11
 * latencias.percentile(0.99); // ≈ 7.5
 * ```
 */
export class Histogram {
  /** Values below this (ms) share one bucket; percentiles there are only clamped to min/max. */
  static readonly LOWEST: number = 2 ** MIN_EXP;
  /** Values above this (ms, one hour) are counted at this value for percentiles. */
  static readonly HIGHEST: number = 3_600_000;

  #counts = new Float64Array(BUCKETS);
  #count = 0;
  #sum = 0;
  #min = Infinity;
  #max = -Infinity;

  /**
   * Records `count` occurrences (default 1) of `valueMs`.
   *
   * @throws {RangeError} if `valueMs` is negative or not finite, or `count`
   *   is not a non-negative safe integer.
   *
   * @example
   * ```ts
   * const h = new Histogram();
   * h.record(12.5);
   * h.record(4, 3); // three values of 4 ms
   * h.count; // 4
   * ```
   */
  record(valueMs: number, count = 1): void {
    if (!Number.isFinite(valueMs) || valueMs < 0) {
      throw new RangeError(`Valor inválido para el histograma: ${valueMs} (debe ser ≥ 0 y finito)`);
    }
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new RangeError(`Cantidad inválida para el histograma: ${count}`);
    }
    if (count === 0) return;
    const i = bucketOf(Math.min(valueMs, Histogram.HIGHEST));
    this.#counts[i] = (this.#counts[i] ?? 0) + count;
    this.#count += count;
    this.#sum += valueMs * count;
    if (valueMs < this.#min) this.#min = valueMs;
    if (valueMs > this.#max) this.#max = valueMs;
  }

  /** Number of values recorded. */
  get count(): number {
    return this.#count;
  }

  /** Smallest value recorded, exact; `NaN` when empty. */
  get min(): number {
    return this.#count === 0 ? NaN : this.#min;
  }

  /** Largest value recorded, exact (even beyond {@link Histogram.HIGHEST}); `NaN` when empty. */
  get max(): number {
    return this.#count === 0 ? NaN : this.#max;
  }

  /** Arithmetic mean of the values recorded (exact sum / count); `NaN` when empty. */
  get mean(): number {
    return this.#count === 0 ? NaN : this.#sum / this.#count;
  }

  /**
   * The value at quantile `q` ∈ [0, 1] by the nearest-rank method (see
   * {@link quantileRank}), within 1 % of the exact one for values in
   * [{@link Histogram.LOWEST}, {@link Histogram.HIGHEST}]. `q = 0` gives `min`
   * and `q = 1` gives `max` exactly. `NaN` when empty.
   *
   * @throws {RangeError} if `q` is outside [0, 1] or `NaN`.
   *
   * @example
   * ```ts
   * const h = new Histogram();
   * for (let ms = 1; ms <= 1000; ms++) h.record(ms);
   * h.percentile(0.99); // ≈ 990
   * ```
   */
  percentile(q: number): number {
    if (!(q >= 0 && q <= 1)) {
      throw new RangeError(`Cuantil inválido: ${q} (debe estar entre 0 y 1)`);
    }
    if (this.#count === 0) return NaN;
    const rank = quantileRank(q, this.#count);
    if (rank <= 1) return this.#min;
    if (rank >= this.#count) return this.#max;
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i] ?? 0;
      if (seen >= rank) {
        return Math.min(this.#max, Math.max(this.#min, representativeOf(i)));
      }
    }
    return this.#max; // unreachable: the buckets add up to count
  }

  /**
   * Adds every value of `other` to this histogram, as if they had been
   * recorded here. `other` is left unchanged.
   *
   * @example
   * ```ts
   * const a = new Histogram();
   * const b = new Histogram();
   * a.record(10);
   * b.record(20);
   * a.merge(b);
   * a.count; // 2
   * ```
   */
  merge(other: Histogram): void {
    if (other.#count === 0) return;
    const mine = this.#counts;
    const theirs = other.#counts;
    for (let i = 0; i < BUCKETS; i++) mine[i] = (mine[i] ?? 0) + (theirs[i] ?? 0);
    this.#count += other.#count;
    this.#sum += other.#sum;
    if (other.#min < this.#min) this.#min = other.#min;
    if (other.#max > this.#max) this.#max = other.#max;
  }

  /** Forgets every value recorded, keeping the memory. */
  reset(): void {
    this.#counts.fill(0);
    this.#count = 0;
    this.#sum = 0;
    this.#min = Infinity;
    this.#max = -Infinity;
  }
}
