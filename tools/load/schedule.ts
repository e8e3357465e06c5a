/**
 * Open-loop arrivals: order `i` is due at `start + i / rate`, whatever the
 * server did with the orders before it. A caller that falls behind (a slow
 * server, a stalled event loop) takes every overdue order at once, each with
 * its own due time, and measures latency from that due time: a stall then
 * shows in the latencies instead of silently thinning the arrivals
 * (coordinated omission). Pure: the caller passes the clock in.
 *
 * @module
 */

/** A contiguous run of due orders: indices `from` (inclusive) to `to` (exclusive). */
export interface DueRange {
  from: number;
  to: number;
}

/**
 * @example
 * ```ts
 * const schedule = new OpenLoopSchedule({ rate: 1000, durationMs: 10, startMs: 0 });
 * schedule.total; // 10
 * schedule.take(3.5); // { from: 0, to: 4 }: orders due at 0, 1, 2 and 3 ms
 * schedule.dueAt(4); // 4
 * schedule.take(100); // { from: 4, to: 10 }
 * schedule.finished; // true
 * ```
 */
export class OpenLoopSchedule {
  /** Orders per second. */
  readonly rate: number;
  /** Orders in the whole run: those due before `startMs + durationMs`. */
  readonly total: number;
  /** When order 0 is due (same clock as `take`). */
  readonly startMs: number;
  readonly #intervalMs: number;
  #next = 0;

  /** @throws {RangeError} if rate or duration is not positive and finite */
  constructor(options: { rate: number; durationMs: number; startMs: number }) {
    const { rate, durationMs, startMs } = options;
    if (!(rate > 0 && Number.isFinite(rate))) {
      throw new RangeError(`la tasa de llegadas debe ser positiva, no ${rate}`);
    }
    if (!(durationMs > 0 && Number.isFinite(durationMs))) {
      throw new RangeError(`la duración debe ser positiva, no ${durationMs} ms`);
    }
    this.rate = rate;
    this.startMs = startMs;
    this.#intervalMs = 1000 / rate;
    this.total = Math.ceil(durationMs * rate / 1000 - 1e-9);
  }

  /** When order `index` is due. */
  dueAt(index: number): number {
    return this.startMs + index * this.#intervalMs;
  }

  /** Whether every order of the run has been handed out. */
  get finished(): boolean {
    return this.#next >= this.total;
  }

  /** When the next order not yet taken is due; undefined once finished. */
  get nextDueAt(): number | undefined {
    return this.finished ? undefined : this.dueAt(this.#next);
  }

  /**
   * Hands out every order due at or before `nowMs` and not yet taken (an
   * empty range if none is).
   */
  take(nowMs: number): DueRange {
    const from = this.#next;
    if (nowMs < this.startMs) return { from, to: from };
    // Index of the last order due by now (at most the last of the run),
    // guarded against rounding either way.
    let last = Math.min(this.total - 1, Math.floor((nowMs - this.startMs) / this.#intervalMs));
    while (last >= 0 && this.dueAt(last) > nowMs) last--;
    while (last + 1 < this.total && this.dueAt(last + 1) <= nowMs) last++;
    const to = Math.max(from, last + 1);
    this.#next = to;
    return { from, to };
  }
}
