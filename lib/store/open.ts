/**
 * Where the orders live: `--db` names the backend and its place. A file path
 * is SQLite (the only backend so far); `postgres://` and `postgresql://`
 * URLs are reserved for PostgreSQL.
 *
 * The store owns its locking: SQLite's single-server lock is taken on open
 * and released on close.
 *
 * @module
 */
import { openSqliteReader, openSqliteStore } from "./sqlite.ts";
import type { OrderReader, OrderStore, SyncMode } from "./types.ts";

export { DatabaseInUseError } from "./sqlite_lock.ts";
export { DatabaseFileLostError } from "./file_identity.ts";

/** Options for a store a server writes. */
export interface WriterOptions {
  readOnly?: false;
  sync: SyncMode;
}

/** Options for reading next to a running server (tools, tests, `stats --db`). */
export interface ReaderOptions {
  readOnly: true;
}

const POSTGRES_URL = /^postgres(ql)?:\/\//i;

/**
 * Opens the store `target` names: for writing (migrating it, and locking it
 * where the backend needs a single writer) or read-only.
 *
 * @example
 * ```ts
 * const store = await openStore("pedidos.db", { sync: "full" });
 * await store.close();
 * const reader = await openStore("pedidos.db", { readOnly: true });
 * console.log(await reader.count({ estados: ["en cola"] }));
 * await reader.close();
 * ```
 * @throws {DatabaseInUseError} if another server holds a SQLite database
 * @throws {Error} if the target is unusable, foreign, newer than this code, or not supported
 */
export function openStore(target: string, options: WriterOptions): Promise<OrderStore>;
export function openStore(target: string, options: ReaderOptions): Promise<OrderReader>;
export function openStore(
  target: string,
  options: WriterOptions | ReaderOptions,
): Promise<OrderStore | OrderReader> {
  if (POSTGRES_URL.test(target)) {
    return Promise.reject(
      new Error(
        "PostgreSQL todavía no está soportado: --db admite por ahora la ruta de un archivo SQLite",
      ),
    );
  }
  return options.readOnly ? openSqliteReader(target) : openSqliteStore(target, options.sync);
}

/**
 * Runs `use` on a fresh read-only view of `target` (as another tool would),
 * then closes it, whether `use` succeeds or throws.
 *
 * @example
 * ```ts
 * const queued = await withReader("pedidos.db", (reader) => reader.count({ estados: ["en cola"] }));
 * ```
 */
export async function withReader<T>(
  target: string,
  use: (reader: OrderReader) => Promise<T>,
): Promise<T> {
  const reader = await openStore(target, { readOnly: true });
  try {
    return await use(reader);
  } finally {
    await reader.close();
  }
}
