/**
 * Where a run's orders come from: a fixed count (closed loop) or an
 * open-loop schedule, and one counter of the orders handed out so far. With
 * several threads every thread wraps the same counter, an `Int32Array` on a
 * `SharedArrayBuffer` updated with `Atomics`, so threads share out the
 * orders as they get room for them, without a message per order, and each
 * index goes to exactly one thread. On one thread the counter is a plain
 * array.
 *
 * @module
 */
import { OpenLoopSchedule } from "./schedule.ts";

/** What a run sends: `orders` as fast as replies come, or `rate` per second for `durationMs`. */
export type SourcePlan =
  | { orders: number }
  | { rate: number; durationMs: number; startMs: number };

/** A counter of orders handed out, for one thread or (on a `SharedArrayBuffer`) for several. */
export function newCounter(shared: boolean): Int32Array {
  return new Int32Array(shared ? new SharedArrayBuffer(4) : new ArrayBuffer(4));
}

/**
 * One thread's view of the run's orders.
 *
 * @example
 * ```ts
 * const counter = newCounter(true);
 * const a = new OrderSource(counter, { orders: 3 });
 * const b = new OrderSource(counter, { orders: 3 });
 * [a.take(), b.take(), a.take(), b.take()]; // [0, 1, 2, -1]
 * a.exhausted; // true
 * ```
 */
export class OrderSource {
  /** Orders in the whole run. */
  readonly total: number;
  readonly #counter: Int32Array;
  readonly #schedule: OpenLoopSchedule | undefined;
  /** Orders due at the last refresh (all of them in a closed loop). */
  #limit: number;

  /** @throws {RangeError} for a rate or duration that is not positive */
  constructor(counter: Int32Array, plan: SourcePlan) {
    this.#counter = counter;
    if ("orders" in plan) {
      this.#schedule = undefined;
      this.total = plan.orders;
      this.#limit = plan.orders;
    } else {
      this.#schedule = new OpenLoopSchedule(plan);
      this.total = this.#schedule.total;
      this.#limit = 0;
    }
  }

  /** Makes the orders due by `now` available (open loop). */
  refresh(now: number): void {
    if (this.#schedule) this.#limit = this.#schedule.dueBy(now);
  }

  /** The index of the next order to hand out (the total once all are). */
  get next(): number {
    return Math.min(Atomics.load(this.#counter, 0), this.total);
  }

  /** Orders available now, as of the last refresh; any thread may take them first. */
  get available(): number {
    return Math.max(0, this.#limit - this.next);
  }

  get exhausted(): boolean {
    return this.next >= this.total;
  }

  /** Takes the next available order's index, or -1 if none is available (any more). */
  take(): number {
    while (true) {
      const index = Atomics.load(this.#counter, 0);
      if (index >= this.#limit) return -1;
      if (Atomics.compareExchange(this.#counter, 0, index, index + 1) === index) return index;
    }
  }

  /** The time latency is measured from: its due time (open loop), or now. */
  startOf(index: number, now: number): number {
    return this.#schedule ? this.#schedule.dueAt(index) : now;
  }

  /** When the first order not yet due at the last refresh becomes due (open loop). */
  get nextDueAt(): number | undefined {
    return this.#schedule && this.#limit < this.total
      ? this.#schedule.dueAt(this.#limit)
      : undefined;
  }

  /** The due time of the oldest order waiting for a connection, if any (open loop). */
  oldestWaiting(): number | undefined {
    return this.#schedule && this.available > 0 ? this.#schedule.dueAt(this.next) : undefined;
  }
}
