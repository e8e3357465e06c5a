/**
 * The backlog on disk: how orders reach the workers of a server that is not
 * in a cluster.
 *
 * The worker pool holds a bounded window of orders in memory (see
 * {@linkcode windowFor}). An admitted order that finds room in the window,
 * with nothing older waiting, goes straight to it, as it always did. The
 * others stay only in the database, `en cola`, and cost no memory: each time
 * the window empties to half, the next orders are read back from the
 * database in id order. Orders a previous run left unfinished are taken up
 * the same way, so a restart with a million orders queued reads a window of
 * them, not all of them.
 *
 * Orders reach {@linkcode BacklogPool.submit} in id order (the group
 * committer resolves inserts in commit order, and one store hands out
 * increasing ids), which is what lets a read bounded by the newest id
 * submitted never load an order twice nor skip one.
 *
 * @module
 */
import type { Logger } from "../util/log.ts";
import { FrontPool } from "./front_pool.ts";
import { type LocalPool, pipeliningFor, type PoolEvents, type PoolJob, storedJob } from "./pool.ts";
import type { DrainedPool, OrderPool } from "./service.ts";
import type { OrderStore } from "../store/types.ts";

/** Options of {@linkcode BacklogPool}. */
export interface BacklogPoolOptions {
  store: Pick<OrderStore, "backlog" | "unfinished">;
  events: PoolEvents;
  /** Builds the worker pool with the events it reports. */
  createPool: (events: PoolEvents) => LocalPool;
  /** Most orders held in memory at once, started or not (see {@linkcode windowFor}). */
  window: number;
  log: Logger;
}

/** Fewest orders in a window: reads of the backlog stay large enough to be cheap per order. */
const MIN_WINDOW = 1024;
/** After a failed read of the backlog, the next try. */
const RETRY_MS = 1000;

/**
 * How many orders a server holds in memory: twice what its workers'
 * pipelines take (so that the next read happens while the workers still
 * have half a window to do), and at least {@linkcode MIN_WINDOW}.
 *
 * @example
 * ```ts
 * windowFor(6, 0); // 3072: 6 workers × 64 per message × 4 deep × 2
 * windowFor(6, 50); // 1024
 * ```
 */
export function windowFor(workers: number, workMs: number, processor = false): number {
  const { batch, depth } = pipeliningFor(workMs, processor);
  return Math.max(MIN_WINDOW, 2 * workers * batch * depth);
}

/**
 * @example
 * ```ts ignore
 * const pool = new BacklogPool({ store, events, window: windowFor(6, 0), log,
 *   createPool: (events) => new WorkerPool({ ...options, events }) });
 * await pool.recover(); // how many orders a previous run left unfinished
 * ```
 */
export class BacklogPool extends FrontPool implements OrderPool {
  readonly #store: BacklogPoolOptions["store"];
  readonly #window: number;
  readonly #log: Logger;
  /** Orders committed, unfinished and not yet in the window: they are only on disk. */
  #onDisk = 0;
  /** The newest id in the window or read into it; every unfinished order after it is on disk. */
  #fed = 0;
  /** The newest id submitted or recovered: a read goes no further. */
  #newest = 0;
  /** Ids at or below this were left by a previous run: they have no `recibido` of this run. */
  #recoveredThrough = 0;
  #reading: Promise<void> | undefined;
  /** Set after a failed read: the next one waits for it. */
  #retry: ReturnType<typeof setTimeout> | undefined;
  #failing = false;
  #stopped = false;

  constructor(options: BacklogPoolOptions) {
    super(options.createPool, options.events);
    this.#store = options.store;
    this.#window = options.window;
    this.#log = options.log;
  }

  protected roomFreed(): void {
    this.#refill();
  }

  /**
   * Counts the orders a previous run left `en cola` or `en proceso` and
   * starts reading them into the window, by id. Call once, before the
   * first `submit`. Resolves with how many there are.
   */
  async recover(): Promise<number> {
    const { count, newestId } = await this.#store.backlog();
    this.#onDisk += count;
    this.#newest = this.#recoveredThrough = newestId;
    this.#refill();
    return count;
  }

  /** An order just committed: into the window if it has room and nothing is on disk before it. */
  submit(job: PoolJob): void {
    this.#newest = job.id;
    if (this.#onDisk === 0 && this.held < this.#window) {
      this.#fed = job.id;
      this.local.submit(job);
      return;
    }
    this.#onDisk++;
    this.#refill();
  }

  /** Orders not started yet: in the window, or only on disk. */
  override get queued(): number {
    return this.local.queued + this.#onDisk;
  }

  /** Stops reading the backlog and drains the workers; what is on disk stays `en cola`. */
  async drain(timeoutMs: number): Promise<DrainedPool> {
    this.#stopped = true;
    clearTimeout(this.#retry);
    await this.#reading;
    const { abandoned, queued } = await this.local.drain(timeoutMs);
    return { abandoned: abandoned.length, queued: queued.length + this.#onDisk };
  }

  /** Reads the next orders from disk once the window is down to half, unless a read is under way. */
  #refill(): void {
    if (this.#stopped || this.#reading || this.#retry || this.#onDisk === 0) return;
    if (this.held > this.#window / 2) return;
    this.#reading = this.#read().finally(() => {
      this.#reading = undefined;
      // Orders finished or arrived while reading.
      this.#refill();
    });
  }

  async #read(): Promise<void> {
    const through = this.#newest;
    const waiting = this.#onDisk;
    const limit = Math.min(this.#window - this.held, waiting);
    let orders;
    try {
      orders = await this.#store.unfinished({ after: this.#fed, through, limit });
    } catch (error) {
      // One line per outage, not one per try.
      if (!this.#failing) this.#log.error(`no se pudieron leer pedidos en cola: ${error}`);
      this.#failing = true;
      this.#retry = setTimeout(() => {
        this.#retry = undefined;
        this.#refill();
      }, RETRY_MS);
      return;
    }
    this.#failing = false;
    if (this.#stopped) return;
    for (const order of orders) {
      const job = storedJob(order);
      // Admitted by this run: its wait in the queue is measured from then.
      if (order.id > this.#recoveredThrough) job.recibido = job.pedido.recibido;
      this.local.submit(job);
    }
    if (orders.length === limit) {
      this.#onDisk -= orders.length;
      this.#fed = orders[orders.length - 1]!.id;
      return;
    }
    // Every unfinished order up to `through` is read now.
    this.#onDisk -= waiting;
    this.#fed = through;
    if (orders.length < waiting) {
      // Counted as waiting but not there: the database is what is true.
      this.#log.error(
        `faltaban ${waiting - orders.length} pedidos en cola hasta el #${through}; se ignoran`,
      );
    }
  }
}
