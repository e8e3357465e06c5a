/**
 * Group commit: every insert and update requested before the next timer tick
 * goes into one transaction, so durability costs one fsync per batch instead
 * of one per order. Callers learn the outcome through promises that settle
 * only after the transaction has committed.
 *
 * @module
 */

/** The transaction: applies all inserts and updates at once, returning the inserts' results. */
export type CommitFn<Insert, Update, Id> = (
  inserts: readonly Insert[],
  updates: readonly Update[],
) => Id[];

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
  resolve: (id: never) => void;
  reject: (error: unknown) => void;
}

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
 * const id = await committer.insert(order); // committed when this resolves
 * ```
 */
export class GroupCommitter<Insert, Update, Id> {
  readonly #commit: CommitFn<Insert, Update, Id>;
  readonly #options: Required<Omit<GroupCommitterOptions, "onError">> & GroupCommitterOptions;
  #inserts: Pending<Insert>[] = [];
  #updates: Pending<Update>[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #retryDelay: number;
  #closed = false;
  #batches = 0;

  constructor(commit: CommitFn<Insert, Update, Id>, options: GroupCommitterOptions = {}) {
    this.#commit = commit;
    this.#options = { retryDelayMs: 250, maxRetryDelayMs: 5000, ...options };
    this.#retryDelay = this.#options.retryDelayMs;
  }

  /** Transactions committed so far. */
  get batches(): number {
    return this.#batches;
  }

  /** Writes waiting for the next transaction. */
  get pending(): number {
    return this.#inserts.length + this.#updates.length;
  }

  /** Queues an insert; resolves with its id once committed, rejects if the commit fails. */
  insert(value: Insert): Promise<Id> {
    return this.#enqueue(this.#inserts, value) as Promise<Id>;
  }

  /** Queues an update; resolves once committed (retrying failed commits until then). */
  update(value: Update): Promise<void> {
    return this.#enqueue(this.#updates, value) as Promise<void>;
  }

  #enqueue<T>(queue: Pending<T>[], value: T): Promise<unknown> {
    if (this.#closed) return Promise.reject(new Error("Cannot write: the store is closed"));
    const { promise, resolve, reject } = Promise.withResolvers<never>();
    queue.push({ value, resolve, reject });
    this.#schedule(0);
    return promise;
  }

  #schedule(delay: number) {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.flush();
    }, delay);
  }

  /**
   * Commits everything pending now. Returns false if the commit failed
   * (updates stay queued and a retry is scheduled).
   */
  flush(): boolean {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.pending === 0) return true;
    const inserts = this.#inserts;
    const updates = this.#updates;
    this.#inserts = [];
    this.#updates = [];
    let ids: Id[];
    try {
      ids = this.#commit(inserts.map((p) => p.value), updates.map((p) => p.value));
    } catch (error) {
      this.#options.onError?.(error);
      for (const pending of inserts) pending.reject(error);
      this.#updates = updates.concat(this.#updates);
      if (!this.#closed) {
        this.#schedule(this.#retryDelay);
        this.#retryDelay = Math.min(this.#retryDelay * 2, this.#options.maxRetryDelayMs);
      }
      return false;
    }
    this.#batches++;
    this.#retryDelay = this.#options.retryDelayMs;
    inserts.forEach((pending, i) => pending.resolve(ids[i] as never));
    for (const pending of updates) pending.resolve(undefined as never);
    return true;
  }

  /**
   * Commits what is pending and refuses further writes. Returns how many
   * updates could not be committed (they are lost to this run; the orders
   * they describe are recovered from their last committed state at the next
   * start).
   */
  close(): number {
    this.#closed = true;
    this.flush();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const lost = this.#updates.length;
    const error = new Error("Cannot write: the store is closed");
    for (const pending of this.#updates) pending.reject(error);
    this.#updates = [];
    return lost;
  }
}
