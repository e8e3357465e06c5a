/**
 * What the pools in front of the worker pool share: the backlog on disk
 * (`backlog.ts`) and a cluster's claims (`cluster/pool.ts`) each decide
 * which orders reach the workers, and when. Both build the worker pool,
 * pass its events on to the service, need to hear when an order there ends
 * (room for another), and report its workers as their own.
 *
 * @module
 */
import type { LocalPool, PoolEvents } from "./pool.ts";

/**
 * @example
 * ```ts ignore
 * class Feeder extends FrontPool {
 *   protected roomFreed() { if (this.held < 10) this.local.submit(next()); }
 * }
 * ```
 */
export abstract class FrontPool {
  /** The worker pool this one feeds. */
  protected readonly local: LocalPool;

  /** Builds the worker pool with `events`, told of every order that ends there. */
  constructor(createPool: (events: PoolEvents) => LocalPool, events: PoolEvents) {
    this.local = createPool({
      ...events,
      onDone: (job, worker, result) => {
        events.onDone(job, worker, result);
        this.roomFreed();
      },
      onFail: (job, worker, motivo, at) => {
        events.onFail(job, worker, motivo, at);
        this.roomFreed();
      },
    });
  }

  /** An order in the worker pool ended, done or failed: there is room for another. */
  protected abstract roomFreed(): void;

  /** Orders in the worker pool, started or not. */
  protected get held(): number {
    return this.local.queued + this.local.busy;
  }

  /** Orders not started yet, in the worker pool. */
  get queued(): number {
    return this.local.queued;
  }

  /** Orders being processed now. */
  get busy(): number {
    return this.local.busy;
  }

  /** Workers running an order now. */
  get busyWorkers(): number {
    return this.local.busyWorkers;
  }

  /** Workers in the pool. */
  get size(): number {
    return this.local.size;
  }
}
