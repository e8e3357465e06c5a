/**
 * Group commit: every insert and update requested in the same turn of the
 * event loop goes into one transaction, so durability costs one fsync per batch instead
 * of one per order. Callers learn the outcome through promises that settle
 * only after the transaction has committed.
 *
 * One transaction runs at a time: writes requested while it runs form the
 * next batch, so batches commit (and ids are given) in request order. A
 * store that writes synchronously and syncs afterwards (see
 * {@linkcode Written}) lets the next batch be written while the previous one
 * is synced; batches still become durable, and are answered, in order.
 *
 * The next batch starts with `setImmediate`, after the I/O of the current
 * turn, not with `setTimeout(0)`: Deno runs a chain of zero-delay timeouts
 * about 2.4 ms apart (measured), and that wait was part of every order's
 * reply and bounded how many orders a connection with a fixed number in
 * flight could send.
 *
 * @module
 */
import { clearImmediate, setImmediate } from "node:timers";

/**
 * A transaction already written when the function that made it returned,
 * whose durability comes later (SQLite: committed, the `-wal` not yet
 * synced). The next batch can then be written while this one becomes
 * durable; its callers still hear only once `durable` resolves. A store
 * resolves the `durable` of its batches in the order it wrote them (see
 * `WalSync.sync`), so callers are answered in order too.
 */
export interface Written<Result> {
  results: Result[];
  /** Resolves once the transaction is durable; rejects if that failed. */
  durable: Promise<void>;
}

/**
 * The transaction: applies all inserts and updates at once, with the
 * inserts' results. Either a promise of them (one transaction at a time), or
 * {@linkcode Written} (the write is done, throwing if it failed).
 */
export type CommitFn<Insert, Update, Result> = (
  inserts: readonly Insert[],
  updates: readonly Update[],
) => Promise<Result[]> | Written<Result>;

/** Options for {@linkcode GroupCommitter}. */
export interface GroupCommitterOptions {
  /** Delay before a failed batch of updates is tried again. @default 250 */
  retryDelayMs?: number;
  /** Longest delay between retries, doubling from `retryDelayMs`. @default 5000 */
  maxRetryDelayMs?: number;
  /** Called when a commit fails, once per failure. */
  onError?: (error: unknown) => void;
}

interface Pending<T> {
  value: T;
  resolve: (result: never) => void;
  reject: (error: unknown) => void;
}

/**
 * Written batches that may wait for durability at once: one being synced and
 * one written meanwhile, whose sync starts when that one ends.
 */
const WRITTEN_AHEAD = 2;

const closedError = () => new Error("no se puede escribir: la base de datos está cerrada");

/**
 * Batches writes into shared transactions.
 *
 * A failed batch rejects its inserts (their clients are told, and nothing was
 * acknowledged), but keeps its updates and retries them with backoff: state
 * changes of already-acknowledged orders must reach the disk eventually.
 *
 * @example
 * ```ts
 * const committer = new GroupCommitter((inserts, updates) => store.commit(inserts, updates));
 * const inserted = await committer.insert(order); // committed when this resolves
 * ```
 */
export class GroupCommitter<Insert, Update, Result> {
  readonly #commit: CommitFn<Insert, Update, Result>;
  readonly #options: Required<Omit<GroupCommitterOptions, "onError">> & GroupCommitterOptions;
  #inserts: Pending<Insert>[] = [];
  #updates: Pending<Update>[] = [];
  /** Cancels the flush scheduled to run, if any. */
  #cancelScheduled: (() => void) | undefined;
  /** The transaction running now, resolving to whether it committed. */
  #running: Promise<boolean> | undefined;
  #retryDelay: number;
  #closed = false;
  /** Written batches not yet durable, each resolving when it is answered. */
  readonly #syncing = new Set<Promise<void>>();
  /** Updates whose batch was written but never became durable. */
  #undurable = 0;

  constructor(commit: CommitFn<Insert, Update, Result>, options: GroupCommitterOptions = {}) {
    this.#commit = commit;
    this.#options = { retryDelayMs: 250, maxRetryDelayMs: 5000, ...options };
    this.#retryDelay = this.#options.retryDelayMs;
  }

  /** Writes waiting for the next transaction. */
  get pending(): number {
    return this.#inserts.length + this.#updates.length;
  }

  /** Queues an insert; resolves with its result once committed, rejects if the commit fails. */
  insert(value: Insert): Promise<Result> {
    return this.#enqueue(this.#inserts, value) as Promise<Result>;
  }

  /** Queues an update; resolves once committed (retrying failed commits until then). */
  update(value: Update): Promise<void> {
    return this.#enqueue(this.#updates, value) as Promise<void>;
  }

  #enqueue<T>(queue: Pending<T>[], value: T): Promise<unknown> {
    if (this.#closed) return Promise.reject(closedError());
    const { promise, resolve, reject } = Promise.withResolvers<never>();
    queue.push({ value, resolve, reject });
    this.#schedule(0);
    return promise;
  }

  /**
   * Schedules a flush (next turn for 0, else after `delay`), unless one is
   * scheduled or a transaction runs (which schedules one when done).
   */
  #schedule(delay: number) {
    if (this.#cancelScheduled !== undefined || this.#running) return;
    const run = () => {
      this.#cancelScheduled = undefined;
      this.flush();
    };
    if (delay === 0) {
      const immediate = setImmediate(run);
      this.#cancelScheduled = () => clearImmediate(immediate);
    } else {
      const timer = setTimeout(run, delay);
      this.#cancelScheduled = () => clearTimeout(timer);
    }
  }

  /**
   * Commits everything pending now (after the running transaction, if any).
   * Resolves to false if the commit failed (updates stay queued and a retry
   * is scheduled).
   */
  flush(): Promise<boolean> {
    this.#cancelScheduled?.();
    this.#cancelScheduled = undefined;
    if (this.#running) return this.#running.then(() => this.flush());
    if (this.pending === 0) return Promise.resolve(true);
    if (this.#syncing.size >= WRITTEN_AHEAD) {
      // Writing more would only add commits: they would all wait for the same syncs.
      const [oldest] = this.#syncing;
      return this.#occupy(oldest!.then(() => true));
    }
    const inserts = this.#inserts;
    const updates = this.#updates;
    this.#inserts = [];
    this.#updates = [];
    return this.#occupy(this.#run(inserts, updates));
  }

  /** Holds the next batch back until `running` settles, then schedules it. */
  #occupy(running: Promise<boolean>): Promise<boolean> {
    this.#running = running;
    running.then((committed) => {
      this.#running = undefined;
      if (this.pending > 0 && !this.#closed) {
        this.#schedule(committed ? 0 : this.#retryDelay);
        if (!committed) {
          this.#retryDelay = Math.min(this.#retryDelay * 2, this.#options.maxRetryDelayMs);
        }
      }
    });
    return running;
  }

  async #run(inserts: Pending<Insert>[], updates: Pending<Update>[]): Promise<boolean> {
    let results: Result[];
    try {
      const outcome = this.#commit(inserts.map((p) => p.value), updates.map((p) => p.value));
      if (!(outcome instanceof Promise)) {
        this.#retryDelay = this.#options.retryDelayMs;
        this.#answerWhenDurable(outcome, inserts, updates);
        return true;
      }
      results = await outcome;
    } catch (error) {
      this.#options.onError?.(error);
      for (const pending of inserts) pending.reject(error);
      this.#updates = updates.concat(this.#updates);
      return false;
    }
    this.#retryDelay = this.#options.retryDelayMs;
    inserts.forEach((pending, i) => pending.resolve(results[i] as never));
    for (const pending of updates) pending.resolve(undefined as never);
    return true;
  }

  /**
   * Settles a written batch's callers once it is durable. If it never
   * becomes durable its writes are not retried: the store refuses every
   * later write too (a failed sync leaves the file's state unknown), and
   * the orders are taken up from their last durable state at the next start.
   */
  #answerWhenDurable(
    written: Written<Result>,
    inserts: Pending<Insert>[],
    updates: Pending<Update>[],
  ) {
    const answered = written.durable.then(
      () => {
        inserts.forEach((pending, i) => pending.resolve(written.results[i] as never));
        for (const pending of updates) pending.resolve(undefined as never);
      },
      (error) => {
        this.#options.onError?.(error);
        for (const pending of inserts) pending.reject(error);
        for (const pending of updates) pending.reject(error);
        this.#undurable += updates.length;
      },
    ).finally(() => this.#syncing.delete(answered));
    this.#syncing.add(answered);
  }

  /**
   * Commits what is pending and refuses further writes. Resolves with how
   * many updates could not be committed (they are lost to this run; the
   * orders they describe are recovered from their last committed state at
   * the next start).
   */
  async close(): Promise<number> {
    this.#closed = true;
    await this.flush();
    this.#cancelScheduled?.();
    this.#cancelScheduled = undefined;
    await Promise.all(this.#syncing);
    const lost = this.#updates.length + this.#undurable;
    const error = closedError();
    for (const pending of this.#updates) pending.reject(error);
    this.#updates = [];
    return lost;
  }
}
