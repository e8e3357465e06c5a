/**
 * The SQLite backend: one database file through `node:sqlite`, owned by the
 * main thread, locked against a second server (`sqlite_lock.ts`).
 *
 * Writes arrive in batches (see `group_commit.ts`): each call to `commit`
 * is one transaction, so many orders cost one fsync. `node:sqlite` is
 * synchronous, so every read this store returns is already settled when the
 * call returns; with `--sync full`, a commit settles once the `-wal` is
 * synced off the main thread (see `wal_sync.ts`). Statements use bound
 * parameters only.
 *
 * @module
 */
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import {
  changesByOrder,
  durationSeconds,
  failureDuration,
  isoDate as iso,
  parsed,
  type Raw,
} from "./rules.ts";
import { type DatabaseLock, lockDatabaseFile } from "./sqlite_lock.ts";
import type {
  Backlog,
  Inserted,
  NewOrder,
  OrderFilter,
  OrderReader,
  OrderRow,
  OrderStore,
  OrderUpdate,
  OrderView,
  StoredOrder,
  SyncMode,
  UnfinishedRange,
} from "./types.ts";
import { checkNoOrphanWal, FileIdentity } from "./file_identity.ts";
import { WalSync } from "./wal_sync.ts";
import type { Written } from "./group_commit.ts";

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
  {
    // What the shop's processor returned (JSON text), for orders it finished.
    version: 2,
    sql: "ALTER TABLE pedidos ADD COLUMN resultado TEXT",
  },
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

/** Most rows one multi-row statement carries (6 parameters each, far below SQLite's limit). */
const MAX_ROWS_PER_STATEMENT = 64;

/**
 * Splits `count` rows into statement sizes: full chunks, then the binary
 * digits of the rest, so that at most 7 statement shapes are ever prepared.
 */
function chunkSizes(count: number): number[] {
  const sizes: number[] = [];
  let left = count;
  while (left >= MAX_ROWS_PER_STATEMENT) {
    sizes.push(MAX_ROWS_PER_STATEMENT);
    left -= MAX_ROWS_PER_STATEMENT;
  }
  for (let size = MAX_ROWS_PER_STATEMENT / 2; size >= 1; size /= 2) {
    if (left >= size) {
      sizes.push(size);
      left -= size;
    }
  }
  return sizes;
}

/**
 * Locks and opens (creating and migrating if needed) a read-write order
 * store. Closing the store releases the lock.
 *
 * @example
 * ```ts
 * const store = await openSqliteStore("pedidos.db", "full");
 * const [inserted] = await store.commit(
 *   [{ cliente: "Ana", productos: ["pan"], direccion: "Calle 1", recibido: Date.now() }],
 *   [],
 * );
 * await store.close();
 * ```
 * @throws {DatabaseInUseError} if another process holds the database
 * @throws {Error} if the file is not a database, belongs to another program, or was
 * written by a newer version (the file is then left untouched)
 * @throws {DatabaseFileLostError} if a `-wal` outlived its database
 */
export function openSqliteStore(path: string, sync: SyncMode): Promise<OrderStore> {
  try {
    const lock = lockDatabaseFile(path);
    try {
      checkNoOrphanWal(path);
      const db = new DatabaseSync(path);
      let identity: FileIdentity | undefined;
      let wal: WalSync | undefined;
      try {
        identity = FileIdentity.open(path);
        // Short, because a commit blocks the event loop while it waits: the flock
        // already keeps other servers out, so only an outside tool can hold the
        // write lock, and a failed batch is retried later rather than waited on.
        db.exec("PRAGMA busy_timeout = 200");
        // Before anything is written: a refused file is left exactly as it was.
        checkSchema(db, path);
        db.exec("PRAGMA journal_mode = WAL");
        // NORMAL either way: with `full`, commit syncs the -wal itself, off the main thread.
        db.exec("PRAGMA synchronous = NORMAL");
        migrate(db);
        if (sync === "full") wal = WalSync.open(path);
        return Promise.resolve(new SqliteStore(db, lock, identity, wal));
      } catch (error) {
        db.close();
        wal?.close();
        identity?.close();
        throw error;
      }
    } catch (error) {
      lock.close();
      throw error;
    }
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Opens an existing database read-only, for the tools and `stats --db`,
 * while a server may be writing it.
 *
 * @throws {Error} if the file is missing, not a database of orders, or newer than this code
 */
export function openSqliteReader(path: string): Promise<OrderReader> {
  try {
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      const version = userVersion(db);
      if (version === 0) throw new Error(`${path} no es una base de datos de pedidos`);
      checkNotNewer(version, path);
      return Promise.resolve(new SqliteStore(db, undefined));
    } catch (error) {
      db.close();
      throw error;
    }
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * `PRAGMA integrity_check` of a database file that no server is writing:
 * `"ok"` when intact, SQLite's findings otherwise. SQLite-specific, for the
 * tests and the soak that check the file itself after crashes.
 */
export function sqliteIntegrityCheck(path: string): string {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const rows = db.prepare("PRAGMA integrity_check").all() as { integrity_check: string }[];
    return rows.map((row) => row.integrity_check).join("; ");
  } finally {
    db.close();
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

/**
 * Refuses, reading only, what this code must not write to: a file that is not
 * SQLite, a newer schema, or another program's database (tables but no
 * schema version). An empty file or database is new.
 */
function checkSchema(db: DatabaseSync, path: string) {
  let version: number;
  let empty: boolean;
  try {
    version = userVersion(db);
    empty = db.prepare("SELECT 1 FROM sqlite_schema LIMIT 1").get() === undefined;
  } catch (error) {
    if ((error as { errcode?: number }).errcode !== SQLITE_NOTADB) throw error;
    throw new Error(`${path} no es una base de datos SQLite`);
  }
  checkNotNewer(version, path);
  if (version === 0 && !empty) {
    throw new Error(
      `${path} no es una base de datos de pedidos: tiene tablas de otro programa y ninguna versión de esquema`,
    );
  }
}

/** SQLite's result code for a file that is not a database. */
const SQLITE_NOTADB = 26;

function migrate(db: DatabaseSync) {
  const current = userVersion(db);
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

/** The orders a server still has to process; the partial index `pedidos_sin_terminar` covers it. */
const UNFINISHED = "WHERE estado IN ('en cola', 'en proceso')";

const VIEW_COLUMNS =
  "id, cliente, productos, direccion, estado, fecha_recibido, fecha_inicio, fecha_fin, duracion, worker, intentos, motivo_fallo, resultado";

/** A `WHERE` clause and its parameters for a filter; empty for none. */
function whereOf(filter: OrderFilter): { where: string; params: SQLInputValue[] } {
  const conditions: string[] = [];
  const params: SQLInputValue[] = [];
  if (filter.id !== undefined) {
    conditions.push("id = ?");
    params.push(filter.id);
  }
  if (filter.clave !== undefined) {
    conditions.push("clave = ?");
    params.push(filter.clave);
  }
  if (filter.clientePrefix !== undefined) {
    // Not LIKE: that treats % and _ as wildcards and ignores ASCII case.
    conditions.push("substr(cliente, 1, length(?)) = ?");
    params.push(filter.clientePrefix, filter.clientePrefix);
  }
  if (filter.estados !== undefined) {
    conditions.push(`estado IN (${filter.estados.map(() => "?").join(", ") || "NULL"})`);
    params.push(...filter.estados);
  }
  return { where: conditions.length ? ` WHERE ${conditions.join(" AND ")}` : "", params };
}

class SqliteStore implements OrderStore {
  readonly #db: DatabaseSync;
  /** The instance lock, for a writer; released by `close`. */
  readonly #lock: DatabaseLock | undefined;
  readonly #statements = new Map<string, StatementSync>();
  /** The read-write store checks that its file is still the one at its path. */
  readonly #identity: FileIdentity | undefined;
  /** With `--sync full`: what makes a commit durable (see `wal_sync.ts`). */
  readonly #wal: WalSync | undefined;

  constructor(
    db: DatabaseSync,
    lock: DatabaseLock | undefined,
    identity?: FileIdentity,
    wal?: WalSync,
  ) {
    this.#db = db;
    this.#lock = lock;
    this.#identity = identity;
    this.#wal = wal;
  }

  get schemaVersion(): number {
    return userVersion(this.#db);
  }

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /**
   * @throws {DatabaseFileLostError} if the file was deleted, renamed or
   * replaced: then the batch is not acknowledged, nor is any after it
   * @throws {WalSyncError} if syncing the `-wal` failed, now or before: the
   * same
   */
  commit(inserts: readonly NewOrder[], updates: readonly OrderUpdate[]): Promise<Inserted[]> {
    try {
      const { results, durable } = this.write(inserts, updates);
      return durable.then(() => results);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The transaction of {@linkcode commit}, written before this returns; its
   * `durable` resolves once the `-wal` is synced (at once with `--sync
   * normal`). The group committer writes the next batch meanwhile.
   *
   * @throws {DatabaseFileLostError} as `commit` rejects
   * @throws {WalSyncError} as `commit` rejects
   */
  write(inserts: readonly NewOrder[], updates: readonly OrderUpdate[]): Written<Inserted> {
    const results = this.#commit(inserts, updates);
    return { results, durable: this.#wal ? this.#wal.sync() : Promise.resolve() };
  }

  #commit(inserts: readonly NewOrder[], updates: readonly OrderUpdate[]): Inserted[] {
    const lost = this.#identity?.lost ?? this.#wal?.failed;
    if (lost) throw lost;
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const inserted = inserts.length ? this.#insertAll(inserts) : [];
      if (updates.length) this.#updateAll(updates);
      this.#db.exec("COMMIT");
      // After the commit, so that a file lost while it ran is caught too.
      this.#identity?.check();
      return inserted;
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  /**
   * Inserts with multi-row statements. An order whose key is already stored,
   * or taken by an earlier order of the batch, is answered with that order's
   * id instead. Ids are given explicitly, counting on from the largest one,
   * which is what SQLite would choose itself; the write lock taken by
   * `BEGIN IMMEDIATE` keeps anyone else from inserting in between.
   */
  #insertAll(inserts: readonly NewOrder[]): Inserted[] {
    const results = new Array<Inserted & { id: number }>(inserts.length);
    /** Indices of the inserts to store. */
    const fresh: number[] = [];
    /** [index, index of the earlier insert with the same key]. */
    const repeats: [number, number][] = [];
    const firstWithKey = new Map<string, number>();
    for (let i = 0; i < inserts.length; i++) {
      const clave = inserts[i]!.clave;
      if (clave !== undefined) {
        const first = firstWithKey.get(clave);
        if (first !== undefined) {
          repeats.push([i, first]);
          continue;
        }
        const stored = this.#statement("SELECT id FROM pedidos WHERE clave = ?").get(clave);
        if (stored) {
          results[i] = { id: (stored as { id: number }).id, existing: true };
          continue;
        }
        firstWithKey.set(clave, i);
      }
      fresh.push(i);
    }
    const { next } = fresh.length === 0 ? { next: 0 } : this.#statement(
      "SELECT coalesce(max(id), 0) + 1 AS next FROM pedidos",
    ).get() as { next: number };
    let offset = 0;
    for (const size of chunkSizes(fresh.length)) {
      const params: SQLInputValue[] = [];
      for (let k = offset; k < offset + size; k++) {
        const index = fresh[k]!;
        const order = inserts[index]!;
        results[index] = { id: next + k, existing: false };
        params.push(
          next + k,
          order.cliente,
          JSON.stringify(order.productos),
          order.direccion,
          iso(order.recibido),
          order.clave ?? null,
        );
      }
      this.#rows(
        "INSERT INTO pedidos (id, cliente, productos, direccion, fecha_recibido, clave) VALUES ",
        "(?, ?, ?, ?, ?, ?)",
        "",
        size,
      ).run(...params);
      offset += size;
    }
    for (const [index, first] of repeats) {
      results[index] = { id: results[first]!.id, existing: true };
    }
    return results;
  }

  /**
   * Applies updates, several rows per statement. An order's changes keep
   * their order: the first change of every order goes in one round, the
   * second in the next, and so on; within a round no order appears twice, so
   * its changes can be grouped by kind. An `inicio` followed by its `fin` in
   * the same batch (the usual case for short work) is written as one change.
   */
  #updateAll(updates: readonly OrderUpdate[]) {
    const byOrder = changesByOrder(updates);
    for (let round = 0;; round++) {
      const started: SQLInputValue[][] = [];
      const finished: SQLInputValue[][] = [];
      const completed: SQLInputValue[][] = [];
      let any = false;
      for (const changes of byOrder.values()) {
        const change = changes[round];
        if (!change) continue;
        any = true;
        switch (change.tipo) {
          case "inicio":
            started.push([change.id, iso(change.inicio), change.worker]);
            break;
          case "fin":
          case "completo":
            (change.tipo === "fin" ? finished : completed).push([
              change.id,
              iso(change.inicio),
              iso(change.fin),
              durationSeconds(change.inicio, change.fin),
              change.worker,
              change.resultado ?? null,
            ]);
            break;
          default:
            this.#applyOne(change);
        }
      }
      if (!any) return;
      this.#updateMany(
        "v(id, inicio, worker)",
        `estado = 'en proceso', fecha_inicio = v.inicio, fecha_fin = NULL, duracion = NULL,
           worker = v.worker, intentos = intentos + 1`,
        started,
      );
      this.#updateMany(
        "v(id, inicio, fin, duracion, worker, resultado)",
        `estado = 'listo', fecha_inicio = v.inicio, fecha_fin = v.fin, duracion = v.duracion,
           worker = v.worker, motivo_fallo = NULL, resultado = v.resultado`,
        finished,
      );
      this.#updateMany(
        "v(id, inicio, fin, duracion, worker, resultado)",
        `estado = 'listo', fecha_inicio = v.inicio, fecha_fin = v.fin, duracion = v.duracion,
           worker = v.worker, motivo_fallo = NULL, resultado = v.resultado, intentos = intentos + 1`,
        completed,
      );
    }
  }

  /** `WITH columns AS (VALUES rows) UPDATE pedidos SET assignments FROM v`, in chunks. */
  #updateMany(columns: string, assignments: string, rows: readonly SQLInputValue[][]) {
    if (rows.length === 0) return;
    const placeholders = `(${rows[0]!.map(() => "?").join(", ")})`;
    let offset = 0;
    for (const size of chunkSizes(rows.length)) {
      this.#rows(
        `WITH ${columns} AS (VALUES `,
        placeholders,
        `) UPDATE pedidos SET ${assignments} FROM v WHERE pedidos.id = v.id`,
        size,
      ).run(...rows.slice(offset, offset + size).flat());
      offset += size;
    }
  }

  /** A statement repeating `row` `size` times between `head` and `tail`, prepared once. */
  #rows(head: string, row: string, tail: string, size: number): StatementSync {
    const key = `${size}\u0000${head}\u0000${tail}`;
    let statement = this.#statements.get(key);
    if (!statement) {
      statement = this.#db.prepare(head + Array(size).fill(row).join(", ") + tail);
      this.#statements.set(key, statement);
    }
    return statement;
  }

  /** Retries and failures: rare, one statement each. */
  #applyOne(update: Extract<OrderUpdate, { tipo: "reintento" | "fallo" }>) {
    switch (update.tipo) {
      case "reintento":
        this.#statement(
          "UPDATE pedidos SET estado = 'en cola', motivo_fallo = ? WHERE id = ?",
        ).run(update.motivo, update.id);
        return;
      case "fallo": {
        const started = this.#statement("SELECT fecha_inicio FROM pedidos WHERE id = ?")
          .get(update.id) as { fecha_inicio: string | null } | undefined;
        this.#statement(
          `UPDATE pedidos SET estado = 'fallido', fecha_fin = ?, motivo_fallo = ?, duracion = ?
           WHERE id = ?`,
        ).run(
          iso(update.fin),
          update.motivo,
          failureDuration(started?.fecha_inicio ?? null, update.fin),
          update.id,
        );
        return;
      }
    }
  }

  findById(id: number): Promise<OrderView | undefined> {
    return this.#settled(() => {
      const row = this.#statement(`SELECT ${VIEW_COLUMNS} FROM pedidos WHERE id = ?`).get(id);
      return row ? parsed(row as unknown as Raw<OrderView>) : undefined;
    });
  }

  findIdByKey(clave: string): Promise<number | undefined> {
    return this.#settled(() => {
      const row = this.#statement("SELECT id FROM pedidos WHERE clave = ?").get(clave);
      return row ? (row as { id: number }).id : undefined;
    });
  }

  backlog(): Promise<Backlog> {
    return this.#settled(() => {
      const row = this.#statement(
        `SELECT count(*) AS count, coalesce(max(id), 0) AS newestId FROM pedidos ${UNFINISHED}`,
      ).get() as { count: number; newestId: number };
      return { count: row.count, newestId: row.newestId };
    });
  }

  unfinished({ after, through, limit }: UnfinishedRange): Promise<OrderView[]> {
    return this.#settled(() =>
      this.#statement(
        `SELECT ${VIEW_COLUMNS} FROM pedidos ${UNFINISHED} AND id > ? AND id <= ? ORDER BY id LIMIT ?`,
      ).all(after, through, limit).map((row) => parsed(row as unknown as Raw<OrderView>))
    );
  }

  async *orders(filter: OrderFilter = {}): AsyncIterable<StoredOrder> {
    const { where, params } = whereOf(filter);
    const statement = this.#db.prepare(
      `SELECT ${VIEW_COLUMNS}, clave FROM pedidos${where} ORDER BY id`,
    );
    for (const row of statement.iterate(...params)) {
      yield parsed(row as unknown as Raw<StoredOrder>);
    }
  }

  count(filter: OrderFilter = {}): Promise<number> {
    return this.#settled(() => {
      const { where, params } = whereOf(filter);
      const row = this.#db.prepare(`SELECT count(*) AS n FROM pedidos${where}`).get(...params);
      return (row as { n: number }).n;
    });
  }

  async *statsRows(): AsyncIterable<OrderRow> {
    const statement = this.#db.prepare(
      "SELECT id, estado, worker, fecha_inicio, fecha_fin FROM pedidos ORDER BY id",
    );
    // Spread: node:sqlite's rows have a null prototype.
    for (const row of statement.iterate()) yield { ...row } as unknown as OrderRow;
  }

  close(): Promise<void> {
    if (!this.#db.isOpen) return Promise.resolve();
    this.#statements.clear();
    this.#db.close();
    this.#wal?.close();
    this.#identity?.close();
    // After the database: closing the file releases the lock.
    this.#lock?.close();
    return Promise.resolve();
  }

  /** The result of a synchronous read as a settled promise; a thrown error as a rejection. */
  #settled<T>(read: () => T): Promise<T> {
    try {
      return Promise.resolve(read());
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
