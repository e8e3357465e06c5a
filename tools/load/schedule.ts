/**
 * Open-loop arrivals: order `i` is due at `start + i / rate`, whatever the
 * server did with the orders before it. A caller that falls behind (a slow
 * server, a stalled event loop) finds every overdue order due at once, each
 * with its own due time, and measures latency from that due time: a stall
 * then shows in the latencies instead of silently thinning the arrivals
 * (coordinated omission). Pure: the caller passes the clock in, and keeps
 * track of which orders it has taken (`tools/load/source.ts`).
 *
 * @module
 */

/**
 * @example
 * ```ts
 * const schedule = new OpenLoopSchedule({ rate: 1000, durationMs: 10, startMs: 0 });
 * schedule.total; // 10
 * schedule.dueBy(3.5); // 4: orders due at 0, 1, 2 and 3 ms
 * schedule.dueAt(4); // 4
 * schedule.dueBy(100); // 10
 * ```
 */
export class OpenLoopSchedule {
  /** Orders per second. */
  readonly rate: number;
  /** Orders in the whole run: those due before `startMs + durationMs`. */
  readonly total: number;
  /** When order 0 is due (same clock as `dueBy`). */
  readonly startMs: number;
  readonly #intervalMs: number;

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

  /** How many orders are due at or before `nowMs`: indices `0` to `dueBy(nowMs) - 1`. */
  dueBy(nowMs: number): number {
    if (nowMs < this.startMs) return 0;
    // Index of the last order due by now (at most the last of the run),
    // guarded against rounding either way.
    let last = Math.min(this.total - 1, Math.floor((nowMs - this.startMs) / this.#intervalMs));
    while (last >= 0 && this.dueAt(last) > nowMs) last--;
    while (last + 1 < this.total && this.dueAt(last + 1) <= nowMs) last++;
    return last + 1;
  }
}
