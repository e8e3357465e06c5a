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
  readonly #file: Deno.FsFile;
  #failed: WalSyncError | undefined;
  #closed = false;

  private constructor(path: string, file: Deno.FsFile) {
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
   * disk.
   *
   * @throws {WalSyncError} if this or any earlier sync failed
   */
  async sync(): Promise<void> {
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
