/**
 * Whether the database file the server opened is still the file at its
 * path. Deleting or renaming an open SQLite database does not disturb the
 * process that has it open: commits keep succeeding into a file nobody will
 * find again (deleted: gone at exit; renamed: orphaned, its `-wal` left
 * under the old name). So before acknowledging, the store compares the file
 * it holds open with what the path names now: same device and inode, still
 * linked. An `fstat` and a `stat`: microseconds per batch.
 *
 * @module
 */

/** The fields of a `stat` that identify a file. */
export interface FileStat {
  dev: number;
  ino: number | null;
  /** Names the file has; 0 once deleted. */
  nlink: number | null;
}

/**
 * The database file is no longer the one at its path. Permanent: a store
 * that throws it once throws it for every later commit.
 */
export class DatabaseFileLostError extends Error {
  override name = "DatabaseFileLostError";
}

/**
 * What happened to an open file, judged from its own `fstat` and a `stat` of
 * its path (`null` if nothing is there); `undefined` if it is still in place.
 *
 * @example
 * ```ts
 * describeChange({ dev: 1, ino: 7, nlink: 0 }, null); // "fue borrada"
 * describeChange({ dev: 1, ino: 7, nlink: 1 }, { dev: 1, ino: 7, nlink: 1 }); // undefined
 * ```
 */
export function describeChange(opened: FileStat, atPath: FileStat | null): string | undefined {
  if (opened.nlink === 0) return "fue borrada";
  if (atPath === null) return "ya no está en su ruta (¿renombrada o movida?)";
  if (atPath.dev !== opened.dev || atPath.ino !== opened.ino) {
    return "fue reemplazada: en su ruta hay otro archivo (¿renombrada?)";
  }
  return undefined;
}

/**
 * Holds a file open and checks, on demand, that it is still the file at
 * `path`. Close it only after the database is closed: closing any
 * descriptor of a file drops the process's `fcntl` locks on it, SQLite's
 * included.
 *
 * @example
 * ```ts
 * const identity = FileIdentity.open("pedidos.db");
 * identity.check(); // throws DatabaseFileLostError once pedidos.db is deleted or renamed
 * identity.close();
 * ```
 */
export class FileIdentity {
  readonly #path: string;
  readonly #file: Deno.FsFile;
  #lost: DatabaseFileLostError | undefined;
  #closed = false;

  private constructor(path: string, file: Deno.FsFile) {
    this.#path = path;
    this.#file = file;
  }

  /**
   * Opens `path` (which must exist) to watch it.
   *
   * @throws {Deno.errors.NotFound} if there is no file at `path`
   */
  static open(path: string): FileIdentity {
    return new FileIdentity(path, Deno.openSync(path, { read: true }));
  }

  /** The error found by an earlier {@linkcode check}, if any. */
  get lost(): DatabaseFileLostError | undefined {
    return this.#lost;
  }

  /**
   * Throws if the file is no longer the one at its path, now or at any
   * earlier check.
   *
   * @throws {DatabaseFileLostError} naming the path and what happened
   */
  check(): void {
    if (this.#lost) throw this.#lost;
    const change = describeChange(this.#file.statSync(), statOrNull(this.#path));
    if (change === undefined) return;
    this.#lost = new DatabaseFileLostError(
      `la base de datos ${this.#path} ${change} mientras el servidor la usaba: ` +
        "no se confirman más pedidos; apague el servidor y restáurela en su ruta antes de reiniciarlo",
    );
    throw this.#lost;
  }

  /** Stops watching; safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#file.close();
  }
}

/**
 * Refuses to open a database whose `-wal` outlived it: no file (or an empty
 * one) at `path` but a `-wal` with content means the database was renamed
 * or deleted while a server had it open, and the `-wal` holds its last
 * commits. SQLite would throw that `-wal` away ("disk I/O error").
 *
 * @throws {DatabaseFileLostError} naming both files
 */
export function checkNoOrphanWal(path: string): void {
  const wal = statOrNull(`${path}-wal`);
  if (!wal || wal.size === 0) return;
  const db = statOrNull(path);
  if (db && db.size > 0) return;
  throw new DatabaseFileLostError(
    `${path}-wal guarda cambios de una base de datos que ya no está en ${path} ` +
      "(¿renombrada o borrada?): devuélvala a su ruta, o aparte el -wal para empezar de cero",
  );
}

function statOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.statSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}
