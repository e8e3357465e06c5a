/**
 * Durable commits without blocking the event loop. With `synchronous=FULL`
 * SQLite fsyncs the `-wal` inside `COMMIT`, on the main thread: a millisecond
 * or more per batch during which no socket is read and no order parsed.
 * Instead the store commits with `synchronous=NORMAL` (in WAL mode: no sync
 * at commit; the `-wal` is synced before each checkpoint and the database
 * after it, so checkpoints stay safe) and then syncs the `-wal` itself with
 * Deno's asynchronous `syncData` (`fdatasync` on a thread of the runtime's
 * pool) before the batch's promises settle. A sync covers every write made
 * to the file before it started, whichever descriptor made them, so an `ok`
 * still follows an fsync that covers its commit. Meanwhile the main thread
 * keeps reading, parsing and queuing the next batch.
 *
 * @module
 */

/**
 * The fsync of a sync failed: what the kernel kept of the file is unknown
 * (a failed fsync may drop the dirty pages and report success next time), so
 * nothing more is acknowledged. Permanent, like a lost database file.
 */
export class WalSyncError extends Error {
  override name = "WalSyncError";
}

/** What a sync needs of a file: a `Deno.FsFile`, or a test's stand-in. */
export type SyncableFile = Pick<Deno.FsFile, "syncData" | "close">;

/**
 * The `-wal` of an open SQLite database in WAL mode, held open to sync it.
 * Close it only after the database is closed.
 *
 * @example
 * ```ts ignore
 * const wal = WalSync.open("pedidos.db");
 * db.exec("COMMIT"); // synchronous=NORMAL: written, not yet synced
 * await wal.sync(); // now durable
 * ```
 */
export class WalSync {
  readonly #path: string;
  readonly #file: SyncableFile;
  /** The sync under way, if any. */
  #running: Promise<void> | undefined;
  /** The sync that starts when the running one ends, shared by all who ask meanwhile. */
  #next: Promise<void> | undefined;
  #failed: WalSyncError | undefined;
  #closed = false;

  /** Syncs `file`, named `path` in errors; {@linkcode WalSync.open} opens a database's. */
  constructor(path: string, file: SyncableFile) {
    this.#path = path;
    this.#file = file;
  }

  /**
   * Opens the `-wal` of the database at `path`, which SQLite created when it
   * opened the database in WAL mode and keeps (same file) while it is open.
   *
   * @throws {Deno.errors.NotFound} if the database has no `-wal`
   */
  static open(path: string): WalSync {
    const walPath = `${path}-wal`;
    return new WalSync(walPath, Deno.openSync(walPath, { read: true }));
  }

  /** The error of an earlier failed sync, if any. */
  get failed(): WalSyncError | undefined {
    return this.#failed;
  }

  /**
   * Resolves once everything written to the `-wal` before this call is on
   * disk. One sync runs at a time: a call made while one runs (which may
   * have started before this call's writes) waits for the next, which
   * starts when the running one ends and serves every call made meanwhile.
   * So calls resolve in the order they were made, and a burst of commits
   * costs two syncs, not one each.
   *
   * @throws {WalSyncError} if this or any earlier sync failed
   */
  sync(): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    if (!this.#running) return this.#running = this.#start();
    return this.#next ??= this.#running.then(
      () => this.#running = this.#start(),
      () => Promise.reject(this.#failed),
    );
  }

  #start(): Promise<void> {
    this.#next = undefined;
    const running: Promise<void> = this.#syncOnce().finally(() => {
      // With a next sync waiting, it takes over as soon as this one ends.
      if (this.#running === running && !this.#next) this.#running = undefined;
    });
    return running;
  }

  async #syncOnce(): Promise<void> {
    if (this.#failed) throw this.#failed;
    try {
      await this.#file.syncData();
    } catch (error) {
      this.#failed ??= new WalSyncError(
        `no se pudo sincronizar ${this.#path} con el disco (${error}): ` +
          "no se confirman más pedidos; revise el disco y reinicie el servidor",
      );
      throw this.#failed;
    }
  }

  /** Closes the file; safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#file.close();
  }
}
