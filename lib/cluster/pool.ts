/**
 * How orders reach this server's workers when several servers share one
 * database: not handed over by whoever inserted them, but claimed from the
 * cluster's queue by whichever server has idle workers.
 *
 * {@linkcode ClusterPool} is the pool the order service drives (the same
 * `OrderPool` as the local one, so the service does not change): an
 * admitted order is already in the shared queue once its insert commits,
 * so `submit` only wakes the claims. Claims are woken by the cluster's
 * notices (`LISTEN`), by this server's own orders and finishing work, and
 * by a poll every second in case a notice was missed. Claimed orders go to
 * the local worker pool; its events go on to the service.
 *
 * @module
 */
import type { Logger } from "../util/log.ts";
import { FrontPool } from "../orders/front_pool.ts";
import {
  type LocalPool,
  pipeliningFor,
  type PoolEvents,
  type PoolJob,
  storedJob,
} from "../orders/pool.ts";
import type { DrainedPool, OrderPool } from "../orders/service.ts";
import type { ClusterQueue } from "../store/types.ts";

/** Options of {@linkcode ClusterPool}. */
export interface ClusterPoolOptions {
  queue: ClusterQueue;
  /** The service's events (the local pool reports to it through this pool). */
  events: PoolEvents;
  /** Builds the local worker pool with the events it reports. */
  createPool: (events: PoolEvents) => LocalPool;
  /** Most orders to hold at once, started or not (see {@linkcode claimTarget}). */
  target: number;
  /** An order finished, on this server or another: tells the service. */
  finished: (id: number) => void;
  /** The ids the service still waits to hear about, for a check after missed notices. */
  awaited: () => Iterable<number>;
  log: Logger;
  /** Claims without a notice this often. @default 1000 */
  pollMs?: number;
}

/**
 * How many orders a server holds at once. For real work, one per worker:
 * an order waiting behind another at a busy worker is one an idle server
 * could be running, so it stays in the shared queue. For orders with no
 * work, a message round trip is most of their cost, so the server holds
 * as many as its workers' pipelines take (64 per message, 4 deep).
 *
 * @example
 * ```ts
 * claimTarget(3, 2000); // 3
 * claimTarget(3, 0); // 768
 * ```
 */
export function claimTarget(workers: number, workMs: number): number {
  const { batch, depth } = pipeliningFor(workMs);
  return batch > 1 ? workers * batch * depth : workers;
}

const DEFAULT_POLL_MS = 1000;

/**
 * @example
 * ```ts ignore
 * const pool = new ClusterPool({ queue: store.cluster, events, target: claimTarget(3, 2000),
 *   createPool: (events) => new WorkerPool({ ...options, events }),
 *   finished: (id) => service.finishedElsewhere(id), awaited: () => service.awaited(), log });
 * ```
 */
export class ClusterPool extends FrontPool implements OrderPool {
  readonly #queue: ClusterQueue;
  readonly #target: number;
  readonly #log: Logger;
  readonly #awaited: () => Iterable<number>;
  readonly #poll: ReturnType<typeof setInterval>;
  #claiming: Promise<void> | undefined;
  /** Woken while a claim ran: claim again when it ends. */
  #again = false;
  #failing = false;
  #stopped = false;

  constructor(options: ClusterPoolOptions) {
    super(options.createPool, options.events);
    this.#queue = options.queue;
    this.#target = options.target;
    this.#log = options.log;
    this.#awaited = options.awaited;
    this.#queue.subscribe({
      available: () => this.#wake(),
      finished: (ids) => {
        for (const id of ids) options.finished(id);
      },
      resync: () => this.#resync(options.finished),
    });
    this.#poll = setInterval(() => this.#wake(), options.pollMs ?? DEFAULT_POLL_MS);
    this.#wake();
  }

  protected roomFreed(): void {
    this.#wake();
  }

  /** Nothing to take up: what a server left behind goes back to the cluster's queue. */
  recover(): Promise<number> {
    return Promise.resolve(0);
  }

  /** The order is in the cluster's queue already: some server, maybe this one, claims it. */
  submit(_job: PoolJob): void {
    this.#wake();
  }

  /**
   * Stops claiming and drains the local pool. What it leaves unfinished
   * stays held by this server until the store leaves the cluster, which
   * puts it back in the queue for the others.
   */
  async drain(timeoutMs: number): Promise<DrainedPool> {
    this.#stopped = true;
    clearInterval(this.#poll);
    await this.#claiming;
    const { abandoned, queued } = await this.local.drain(timeoutMs);
    return { abandoned: abandoned.length, queued: queued.length };
  }

  #wake(): void {
    if (this.#stopped) return;
    if (this.#claiming) {
      this.#again = true;
      return;
    }
    this.#claiming = this.#claim().finally(() => {
      this.#claiming = undefined;
      if (this.#again) {
        this.#again = false;
        this.#wake();
      }
    });
  }

  /** Claims until the local pool holds its target, or the queue has no more. */
  async #claim(): Promise<void> {
    while (!this.#stopped) {
      const room = this.#target - this.held;
      if (room <= 0) return;
      let claimed;
      try {
        claimed = await this.#queue.claim(room);
      } catch (error) {
        // The poll tries again; one line per outage, not one per try.
        if (!this.#failing) this.#log.warn(`no se pudieron tomar pedidos de la cola: ${error}`);
        this.#failing = true;
        return;
      }
      this.#failing = false;
      // Claimed while stopping: they stay held, and leaving the cluster releases them.
      if (this.#stopped) return;
      for (const order of claimed) {
        this.local.submit(storedJob(order));
      }
      if (claimed.length < room) return;
    }
  }

  /** After notices may have been missed: asks which awaited orders have finished meanwhile. */
  async #resync(finished: (id: number) => void): Promise<void> {
    const ids = [...this.#awaited()];
    if (ids.length === 0) return;
    try {
      for (const id of await this.#queue.finishedAmong(ids)) finished(id);
    } catch (error) {
      this.#log.warn(`no se pudo comprobar qué pedidos terminaron: ${error}`);
    }
  }
}
