/**
 * The order store: SQLite through `node:sqlite`, owned by the main thread.
 *
 * Writes arrive in batches (see `group_commit.ts`): each call to `commit`
 * is one transaction, so many orders cost one fsync. Statements use bound
 * parameters only.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { Estado, OrderView } from "./protocol.ts";
import type { OrderRow } from "./stats.ts";

/** How hard SQLite flushes at commit: `full` survives power loss, `normal` only a crash. */
export type SyncMode = "full" | "normal";

/** An admitted order about to be stored. */
export interface NewOrder {
  cliente: string;
  productos: string[];
  direccion: string;
  clave?: string | undefined;
  /** Epoch milliseconds when the order was received. */
  recibido: number;
}

/** A state change reported by the worker pool. Times are epoch milliseconds. */
export type OrderUpdate =
  | { tipo: "inicio"; id: number; worker: number; inicio: number }
  | { tipo: "fin"; id: number; worker: number; inicio: number; fin: number }
  | { tipo: "reintento"; id: number; motivo: string }
  | { tipo: "fallo"; id: number; motivo: string; fin: number };

/** What the rest of the server needs from storage. */
export interface OrderStore {
  /** Inserts and updates in one transaction; returns the new ids in order. */
  commit(inserts: readonly NewOrder[], updates: readonly OrderUpdate[]): number[];
  findById(id: number): OrderView | undefined;
  findIdByKey(clave: string): number | undefined;
  /** Orders left `en cola` or `en proceso`, by id: the work a crash interrupted. */
  unfinished(): OrderView[];
  /** Every order, for statistics, streamed. */
  rows(): Iterable<OrderRow>;
  close(): void;
}

interface Migration {
  version: number;
  sql: string;
}

/**
 * Ordered schema changes. The applied version lives in `PRAGMA user_version`;
 * a database newer than this code is refused rather than misread.
 */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE pedidos (
        id             INTEGER PRIMARY KEY,
        cliente        TEXT    NOT NULL,
        productos      TEXT    NOT NULL,
        direccion      TEXT    NOT NULL,
        estado         TEXT    NOT NULL DEFAULT 'en cola'
                       CHECK (estado IN ('en cola', 'en proceso', 'listo', 'fallido')),
        fecha_recibido TEXT    NOT NULL,
        fecha_inicio   TEXT,
        fecha_fin      TEXT,
        duracion       REAL,
        worker         INTEGER,
        intentos       INTEGER NOT NULL DEFAULT 0,
        motivo_fallo   TEXT,
        clave          TEXT    UNIQUE
      );
      CREATE INDEX pedidos_sin_terminar ON pedidos (id)
        WHERE estado IN ('en cola', 'en proceso');
    `,
  },
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

const iso = (ms: number) => new Date(ms).toISOString();
const seconds = (ms: number) => Math.round(ms) / 1000;

/**
 * Opens (creating and migrating if needed) a read-write order store.
 *
 * @example
 * ```ts
 * const store = openSqliteStore("pedidos.db", "full");
 * const [id] = store.commit([{ cliente: "Ana", productos: ["pan"], direccion: "Calle 1", recibido: Date.now() }], []);
 * store.close();
 * ```
 * @throws {Error} if the file is not a database or was written by a newer version
 */
export function openSqliteStore(path: string, sync: SyncMode): OrderStore {
  const db = new DatabaseSync(path);
  try {
    db.exec("PRAGMA busy_timeout = 5000");
    db.exec("PRAGMA journal_mode = WAL");
    db.exec(`PRAGMA synchronous = ${sync === "full" ? "FULL" : "NORMAL"}`);
    migrate(db);
    return new SqliteStore(db);
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Opens an existing database read-only, for `stats --db`, while a server may
 * be writing it.
 */
export function openReadOnlyStore(path: string): Pick<OrderStore, "rows" | "close"> {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const version = userVersion(db);
    if (version === 0) throw new Error(`${path} no es una base de datos de pedidos`);
    checkNotNewer(version, path);
    return new SqliteStore(db);
  } catch (error) {
    db.close();
    throw error;
  }
}

function userVersion(db: DatabaseSync): number {
  const row = db.prepare("PRAGMA user_version").get() as { user_version: number };
  return row.user_version;
}

function checkNotNewer(version: number, path: string) {
  if (version > SCHEMA_VERSION) {
    throw new Error(
      `${path} tiene el esquema v${version}, más nuevo que el de este programa (v${SCHEMA_VERSION})`,
    );
  }
}

function migrate(db: DatabaseSync) {
  const current = userVersion(db);
  checkNotNewer(current, "la base de datos");
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(migration.sql);
      db.exec(`PRAGMA user_version = ${migration.version}`);
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  }
}

interface StoredRow {
  id: number;
  cliente: string;
  productos: string;
  direccion: string;
  estado: Estado;
  fecha_recibido: string;
  fecha_inicio: string | null;
  fecha_fin: string | null;
  duracion: number | null;
  worker: number | null;
  intentos: number;
  motivo_fallo: string | null;
}

function toView(row: StoredRow): OrderView {
  return {
    id: row.id,
    cliente: row.cliente,
    productos: JSON.parse(row.productos),
    direccion: row.direccion,
    estado: row.estado,
    fecha_recibido: row.fecha_recibido,
    fecha_inicio: row.fecha_inicio,
    fecha_fin: row.fecha_fin,
    duracion: row.duracion,
    worker: row.worker,
    intentos: row.intentos,
    motivo_fallo: row.motivo_fallo,
  };
}

const VIEW_COLUMNS =
  "id, cliente, productos, direccion, estado, fecha_recibido, fecha_inicio, fecha_fin, duracion, worker, intentos, motivo_fallo";

class SqliteStore implements OrderStore {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  commit(inserts: readonly NewOrder[], updates: readonly OrderUpdate[]): number[] {
    const ids: number[] = [];
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const insert = inserts.length
        ? this.#statement(
          "INSERT INTO pedidos (cliente, productos, direccion, fecha_recibido, clave) VALUES (?, ?, ?, ?, ?)",
        )
        : undefined;
      for (const order of inserts) {
        const result = insert!.run(
          order.cliente,
          JSON.stringify(order.productos),
          order.direccion,
          iso(order.recibido),
          order.clave ?? null,
        );
        ids.push(Number(result.lastInsertRowid));
      }
      for (const update of updates) this.#apply(update);
      this.#db.exec("COMMIT");
      return ids;
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  #apply(update: OrderUpdate) {
    switch (update.tipo) {
      case "inicio":
        this.#statement(
          `UPDATE pedidos SET estado = 'en proceso', fecha_inicio = ?, fecha_fin = NULL,
             duracion = NULL, worker = ?, intentos = intentos + 1 WHERE id = ?`,
        ).run(iso(update.inicio), update.worker, update.id);
        return;
      case "fin":
        this.#statement(
          `UPDATE pedidos SET estado = 'listo', fecha_inicio = ?, fecha_fin = ?, duracion = ?,
             worker = ?, motivo_fallo = NULL WHERE id = ?`,
        ).run(
          iso(update.inicio),
          iso(update.fin),
          seconds(update.fin - update.inicio),
          update.worker,
          update.id,
        );
        return;
      case "reintento":
        this.#statement(
          "UPDATE pedidos SET estado = 'en cola', motivo_fallo = ? WHERE id = ?",
        ).run(update.motivo, update.id);
        return;
      case "fallo":
        this.#statement(
          `UPDATE pedidos SET estado = 'fallido', fecha_fin = ?, motivo_fallo = ?,
             duracion = CASE WHEN fecha_inicio IS NULL THEN NULL
               ELSE round((julianday(?) - julianday(fecha_inicio)) * 86400.0, 3) END
           WHERE id = ?`,
        ).run(iso(update.fin), update.motivo, iso(update.fin), update.id);
        return;
    }
  }

  findById(id: number): OrderView | undefined {
    const row = this.#statement(`SELECT ${VIEW_COLUMNS} FROM pedidos WHERE id = ?`).get(id);
    return row ? toView(row as unknown as StoredRow) : undefined;
  }

  findIdByKey(clave: string): number | undefined {
    const row = this.#statement("SELECT id FROM pedidos WHERE clave = ?").get(clave);
    return row ? (row as { id: number }).id : undefined;
  }

  unfinished(): OrderView[] {
    return this.#statement(
      `SELECT ${VIEW_COLUMNS} FROM pedidos WHERE estado IN ('en cola', 'en proceso') ORDER BY id`,
    ).all().map((row) => toView(row as unknown as StoredRow));
  }

  *rows(): Iterable<OrderRow> {
    const statement = this.#db.prepare(
      "SELECT id, estado, worker, fecha_inicio, fecha_fin FROM pedidos ORDER BY id",
    );
    for (const row of statement.iterate()) yield row as unknown as OrderRow;
  }

  close() {
    this.#statements.clear();
    if (this.#db.isOpen) this.#db.close();
  }
}
