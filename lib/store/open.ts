/**
 * Where the orders live: `--db` names the backend and its place. A file path
 * is SQLite; a `postgres://` or `postgresql://` URL is PostgreSQL.
 *
 * The store owns its locking: SQLite's single-server lock is taken on open
 * and released on close; PostgreSQL needs none (several servers share it,
 * each joining its cluster).
 *
 * @module
 */
import { openSqliteReader, openSqliteStore } from "./sqlite.ts";
import type { ClusterOptions } from "./postgres_cluster.ts";
import { isPostgresUrl, redactUrl } from "./postgres_url.ts";
import type { OrderReader, OrderStore, SyncMode } from "./types.ts";

export { DatabaseInUseError } from "./sqlite_lock.ts";
export { DatabaseFileLostError } from "./file_identity.ts";
export { isPostgresUrl, redactUrl } from "./postgres_url.ts";
export type { ClusterOptions };

/** Options for a store a server writes. */
export interface WriterOptions {
  readOnly?: false;
  sync: SyncMode;
  /**
   * How this server joins the cluster of a shared database (PostgreSQL);
   * ignored by SQLite, which one server owns alone.
   */
  cluster?: ClusterOptions | undefined;
}

/** Options for reading next to a running server (tools, tests, `stats --db`). */
export interface ReaderOptions {
  readOnly: true;
}

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
 * @throws {ClusterLimitMismatchError} if PostgreSQL servers run with another `--max`
 * @throws {Error} if the target is unusable, foreign or newer than this code
 */
export function openStore(target: string, options: WriterOptions): Promise<OrderStore>;
export function openStore(target: string, options: ReaderOptions): Promise<OrderReader>;
export function openStore(
  target: string,
  options: WriterOptions | ReaderOptions,
): Promise<OrderStore | OrderReader> {
  if (isPostgresUrl(target)) {
    // Loaded only for a PostgreSQL URL: a SQLite server does not pay for the client's memory.
    return import("./postgres.ts").then((pg) =>
      options.readOnly
        ? pg.openPostgresReader(target)
        : pg.openPostgresStore(target, { sync: options.sync, cluster: options.cluster })
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

/**
 * `--db` as the logs show it: a PostgreSQL URL without its password.
 *
 * @example
 * ```ts
 * describeTarget("postgres://ana:secreto@db/pedidos"); // "postgres://ana:***@db/pedidos"
 * describeTarget("pedidos.db"); // "pedidos.db"
 * ```
 */
export function describeTarget(target: string): string {
  return isPostgresUrl(target) ? redactUrl(target) : target;
}
