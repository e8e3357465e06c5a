/**
 * The SQLite backend's single-instance guard: an exclusive `flock` on the
 * database file itself, taken by `openSqliteStore` and released by its `close`.
 *
 * The operating system drops the lock when the process dies, however it dies,
 * so a crash never leaves a stale lock behind. SQLite locks with `fcntl`,
 * which on Linux is independent of `flock`, so other tools (the `sqlite3`
 * shell, `stats --db`) keep reading the database while the server runs.
 *
 * @module
 */

/** Thrown when another process already holds the database. */
export class DatabaseInUseError extends Error {
  override name = "DatabaseInUseError";
}

/**
 * Locks `path` (creating an empty file if needed; SQLite accepts an empty
 * file as a new database). Keep the returned file open for the life of the
 * process and close it only after the database is closed: closing it
 * releases the lock.
 *
 * @throws {DatabaseInUseError} if another process holds the lock
 */
export function lockDatabaseFile(path: string): Deno.FsFile {
  const file = Deno.openSync(path, { read: true, write: true, create: true });
  if (!file.tryLockSync(true)) {
    file.close();
    throw new DatabaseInUseError(
      `la base de datos ${path} ya está en uso por otro servidor de pedidos`,
    );
  }
  return file;
}
