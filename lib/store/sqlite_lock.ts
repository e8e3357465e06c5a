/**
 * The SQLite backend's single-instance guard, taken by `openSqliteStore` and
 * released by its `close`: an exclusive `flock` on a lock file beside the
 * database, named after it (`pedidos.db.lock`), and on the database file
 * itself.
 *
 * The lock file is what a rename of the database cannot move: after
 * `mv pedidos.db otro.db` under a running server, a second server on
 * `pedidos.db` still finds the lock taken, and never opens (and truncates)
 * the running server's `pedidos.db-wal`. The lock on the database file keeps
 * out servers that predate the lock file, and a second server whose lock
 * file was deleted. The lock file is never removed: removing it could let
 * two servers each lock a different file of the same name.
 *
 * The operating system drops the locks when the process dies, however it
 * dies, so a crash never leaves a stale lock behind. SQLite locks with
 * `fcntl`, which on Linux is independent of `flock`, so other tools (the
 * `sqlite3` shell, `stats --db`) keep reading the database while the server
 * runs.
 *
 * @module
 */

/** Thrown when another process already holds the database. */
export class DatabaseInUseError extends Error {
  override name = "DatabaseInUseError";
}

/** The lock file that guards the database at `path`. */
export function lockFilePath(path: string): string {
  return `${path}.lock`;
}

/** The held locks. Closing releases them. */
export interface DatabaseLock {
  close(): void;
}

/**
 * Locks the database at `path` (creating the lock file and, if needed, an
 * empty database file: SQLite accepts an empty file as a new database).
 * Keep the lock for the life of the process and close it only after the
 * database is closed: closing a descriptor of the database file would drop
 * SQLite's own `fcntl` locks on it.
 *
 * @throws {DatabaseInUseError} if another process holds either lock
 */
export function lockDatabaseFile(path: string): DatabaseLock {
  const held: Deno.FsFile[] = [];
  const release = () => {
    for (const file of held.splice(0).reverse()) file.close();
  };
  try {
    for (const file of [lockFilePath(path), path]) {
      const handle = Deno.openSync(file, { read: true, write: true, create: true });
      held.push(handle);
      if (!handle.tryLockSync(true)) {
        throw new DatabaseInUseError(
          `la base de datos ${path} ya está en uso por otro servidor de pedidos`,
        );
      }
    }
  } catch (error) {
    release();
    throw error;
  }
  return { close: release };
}
