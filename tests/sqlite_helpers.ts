/**
 * SQLite-specific test helpers. The tests that use them reach into the
 * database file on purpose: to make the backend fail from the outside
 * (triggers, a competing writer) or to check the file itself after crashes.
 * They run against the SQLite backend only; every other test reads orders
 * through the store's read side (`readOrders` in `helpers.ts`).
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";

export { sqliteIntegrityCheck } from "../lib/store/sqlite.ts";

/** Runs statements on a read-write connection of its own (as another tool could). */
export function sqliteExec(db: string, sql: string): void {
  const connection = new DatabaseSync(db);
  try {
    connection.exec("PRAGMA busy_timeout = 5000");
    connection.exec(sql);
  } finally {
    connection.close();
  }
}

/** Holds SQLite's write lock from a connection of its own until released. */
export function holdSqliteWriteLock(db: string): { release(): void } {
  const holder = new DatabaseSync(db);
  holder.exec("PRAGMA busy_timeout = 2000"); // the server may be mid-commit
  holder.exec("BEGIN EXCLUSIVE");
  holder.exec(
    "INSERT INTO pedidos (cliente, productos, direccion, fecha_recibido) VALUES ('intruso', '[]', '-', '-')",
  );
  return {
    release() {
      holder.exec("ROLLBACK");
      holder.close();
    },
  };
}
