/**
 * The PostgreSQL backend: the same orders, states and columns as SQLite, in
 * a database several servers share. The statements are in
 * `postgres_sql.ts`; the cluster's membership (claims, heartbeat, rescue,
 * notifications) in `postgres_cluster.ts`.
 *
 * Only the main thread talks to the database, through two small pools: one
 * for the group commit, whose transactions wait for PostgreSQL's commit
 * (as `synchronous_commit` says), and one for reads and the cluster's own
 * bookkeeping, which may commit asynchronously because losing it loses
 * nothing (a claim or heartbeat lost in a crash is simply redone).
 *
 * Each {@linkcode OrderStore.commit} is one transaction: state changes
 * first (releasing the capacity of the orders they finish), then the
 * cluster-wide admission on the locked `pedidos_capacidad` row, then one
 * multi-row insert, then the notifications, all committed together.
 *
 * @module
 */
import postgres from "postgres";
import { durationSeconds, failureDuration, isoDate as iso } from "./rules.ts";
import * as q from "./postgres_sql.ts";
import { type ClusterOptions, PostgresCluster } from "./postgres_cluster.ts";
import type {
  ClusterQueue,
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
} from "./types.ts";

export type { ClusterOptions };

/** The schema version this code writes. */
export const SCHEMA_VERSION = q.MIGRATIONS[q.MIGRATIONS.length - 1]?.version ?? 0;

/** Rows a streamed read fetches at a time. */
const STREAM_ROWS = 500;

/** Options of {@linkcode openPostgresStore}. */
export interface PostgresWriterOptions {
  sync: SyncMode;
  /** Joins the cluster of servers sharing the database; without it, a plain store (tools, tests). */
  cluster?: ClusterOptions | undefined;
}

/**
 * The `postgres` options for one pool. Every setting the library would
 * otherwise look up in a `PG*` environment variable is given here, so the
 * server reads only libpq's own variables (PGHOST, PGUSER, PGPASSWORD…).
 */
export function poolOptions(
  url: string,
  max: number,
  name: string,
  connection: Record<string, string> = {},
): postgres.Options<{ bigint: postgres.PostgresType<number> }> {
  const parsed = new URL(url);
  if (!parsed.username && !Deno.env.get("PGUSER") && !Deno.env.get("PGUSERNAME")) {
    throw new Error(
      "la URL de PostgreSQL debe nombrar al usuario (postgres://usuario@host/base) o definirse PGUSER",
    );
  }
  const options: postgres.Options<{ bigint: postgres.PostgresType<number> }> = {
    max,
    idle_timeout: 0,
    connect_timeout: 10,
    max_lifetime: 0,
    backoff: (attempt: number) => Math.min(0.05 * 2 ** attempt, 2),
    keep_alive: 30,
    prepare: true,
    debug: false,
    fetch_types: true,
    publications: "alltables",
    target_session_attrs: "read-write",
    onnotice: () => {},
    types: {
      bigint: {
        to: 20,
        from: [20],
        serialize: (value: number) => String(value),
        parse: (value: string) => Number(value),
      },
    },
    connection: { application_name: name, ...connection },
  };
  // Known to the library, missing from its types.
  return Object.assign(options, { max_pipeline: 100 });
}

/**
 * The database a URL names, for logs: the password, if the URL has one, is
 * never printed.
 *
 * @example
 * ```ts
 * redactUrl("postgres://ana:secreto@db:5432/pedidos"); // "postgres://ana:***@db:5432/pedidos"
 * ```
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.href;
  } catch {
    return url.replace(/:[^:@/]*@/, ":***@");
  }
}

/**
 * Opens (creating and migrating if needed) a read-write store on the
 * database `url` names, and joins its cluster if `options.cluster` is
 * given (see `postgres_cluster.ts`).
 *
 * @example
 * ```ts ignore
 * const store = await openPostgresStore("postgres://pedidos@db/pedidos", { sync: "full" });
 * await store.close();
 * ```
 * @throws {Error} if the database is unreachable, foreign, newer than this code, or refuses
 * the cluster's terms (a different `--max` while other servers run)
 */
export async function openPostgresStore(
  url: string,
  options: PostgresWriterOptions,
): Promise<OrderStore> {
  const label = options.cluster ? `pedidos ${options.cluster.instance}` : "pedidos";
  const durable = postgres(
    url,
    poolOptions(
      url,
      2,
      label,
      options.sync === "normal" ? { synchronous_commit: "off" } : {},
    ),
  );
  const shared = postgres(url, poolOptions(url, 3, label, { synchronous_commit: "off" }));
  try {
    await migrate(durable, url).catch((error) => {
      throw describedError(url, error);
    });
    const [setting] = await q.synchronousCommit(durable);
    const store = new PostgresStore(durable, shared, setting!.valor);
    if (options.cluster) await store.join(options.cluster);
    return store;
  } catch (error) {
    await Promise.all([durable.end({ timeout: 1 }), shared.end({ timeout: 1 })]);
    throw error;
  }
}

/**
 * Opens the read side of an existing database, for the tools and
 * `stats --db`, while servers may be writing it.
 *
 * @throws {Error} if the database is unreachable, not one of orders, or newer than this code
 */
export async function openPostgresReader(url: string): Promise<OrderReader> {
  const shared = postgres(url, poolOptions(url, 2, "pedidos (lectura)"));
  try {
    const tables = new Set(
      (await q.existingTables(shared).catch((error) => {
        throw describedError(url, error);
      })).map((row) => row.tabla),
    );
    if (!tables.has("pedidos_esquema")) {
      throw new Error(`${redactUrl(url)} no es una base de datos de pedidos`);
    }
    checkNotNewer((await q.schemaVersion(shared))[0]!.version, url);
    return new PostgresStore(shared, shared, "");
  } catch (error) {
    await shared.end({ timeout: 1 });
    throw error;
  }
}

/**
 * A connection or server error, in one line that names the database
 * (without its password); this program's own errors are left as they are.
 */
function describedError(url: string, error: unknown): unknown {
  if (!(error instanceof Error) || !("code" in error)) return error;
  return new Error(`no se pudo usar ${redactUrl(url)}: ${error.message.split("\n")[0]}`, {
    cause: error,
  });
}

function checkNotNewer(version: number, url: string) {
  if (version > SCHEMA_VERSION) {
    throw new Error(
      `${
        redactUrl(url)
      } tiene el esquema v${version}, más nuevo que el de este programa (v${SCHEMA_VERSION})`,
    );
  }
}

/** Applies the missing migrations, one server at a time. */
async function migrate(sql: postgres.Sql<q.Types>, url: string): Promise<void> {
  await sql.begin(async (tx) => {
    await q.lockMigrations(tx);
    const tables = new Set((await q.existingTables(tx)).map((row) => row.tabla));
    if (tables.has("pedidos") && !tables.has("pedidos_esquema")) {
      throw new Error(`${redactUrl(url)} ya tiene una tabla pedidos que no es de este programa`);
    }
    await q.createSchemaTable(tx);
    const current = (await q.schemaVersion(tx))[0]!.version;
    checkNotNewer(current, url);
    for (const migration of q.MIGRATIONS) {
      if (migration.version <= current) continue;
      await tx.unsafe(migration.sql).simple();
      await q.recordMigration(tx, migration.version);
    }
  });
}

/** An update as applied: an `inicio` and its `fin` in one batch become one `completo`. */
type Change =
  | OrderUpdate
  | (Omit<Extract<OrderUpdate, { tipo: "fin" }>, "tipo"> & { tipo: "completo" });

function parsed<T extends { productos: string[] }>(
  row: Omit<T, "productos"> & { productos: string },
): T {
  return { ...row, productos: JSON.parse(row.productos) } as T;
}

/** Splits ids into NOTIFY payloads, each below PostgreSQL's limit. */
export function idPayloads(ids: readonly number[]): string[] {
  const payloads: string[] = [];
  let current = "";
  for (const id of ids) {
    const text = String(id);
    if (current.length + text.length + 1 > q.MAX_PAYLOAD_BYTES) {
      payloads.push(current);
      current = "";
    }
    current = current ? `${current},${text}` : text;
  }
  if (current) payloads.push(current);
  return payloads;
}

/** What one commit did, beyond its inserts' results. */
interface CommitOutcome {
  inserted: Inserted[];
  /** The capacity row after the commit, when the commit touched it. */
  capacity: { limite: number | null; enUso: number } | undefined;
}

class PostgresStore implements OrderStore {
  readonly #durable: postgres.Sql<q.Types>;
  readonly #shared: postgres.Sql<q.Types>;
  readonly durability: string;
  #cluster: PostgresCluster | undefined;
  /** Ids inserted by the commit running now, until its callers have seen them. */
  #inFlight = new Set<number>();
  #closed = false;

  constructor(durable: postgres.Sql<q.Types>, shared: postgres.Sql<q.Types>, sync: string) {
    this.#durable = durable;
    this.#shared = shared;
    this.durability = `synchronous_commit=${sync}`;
  }

  get schemaVersion(): number {
    return SCHEMA_VERSION;
  }

  get cluster(): ClusterQueue | undefined {
    return this.#cluster;
  }

  /** The session whose orders this store may change; `null` outside a cluster. */
  get #sesion(): number | null {
    return this.#cluster?.sesion ?? null;
  }

  async join(options: ClusterOptions): Promise<void> {
    this.#cluster = await PostgresCluster.join(this.#durable, this.#shared, options, {
      committing: (id) => this.#inFlight.has(id),
    });
  }

  async commit(inserts: readonly NewOrder[], updates: readonly OrderUpdate[]): Promise<Inserted[]> {
    if (inserts.length === 0 && updates.length === 0) return [];
    let outcome: CommitOutcome;
    try {
      outcome = await this.#durable.begin((tx) => this.#commit(tx, inserts, updates));
    } catch (error) {
      this.#inFlight.clear();
      this.#cluster?.commitFailed();
      throw error;
    }
    this.#cluster?.committed(outcome.capacity);
    if (this.#inFlight.size > 0) {
      // Notices of these orders that arrived before their insert's callers
      // resumed wait until now (see PostgresCluster).
      const ids = this.#inFlight;
      this.#inFlight = new Set();
      this.#cluster?.releaseHeldNotices(ids);
    }
    return outcome.inserted;
  }

  async #commit(
    tx: postgres.TransactionSql<q.Types>,
    inserts: readonly NewOrder[],
    updates: readonly OrderUpdate[],
  ): Promise<CommitOutcome> {
    const finished = updates.length ? await this.#updateAll(tx, updates) : [];
    const outcome = await this.#insertAll(tx, inserts, finished.length);
    if (outcome.stored > 0) await q.notify(tx, q.CHANNEL_NEW, "");
    for (const payload of idPayloads(finished)) await q.notify(tx, q.CHANNEL_FINISHED, payload);
    return { inserted: outcome.results, capacity: outcome.capacity };
  }

  /**
   * Inserts the batch's new orders, as many as the cluster's limit admits,
   * in the batch's order. An order whose key is already stored, or taken by
   * an earlier order of the batch, is answered with that order's id and
   * needs no capacity. `freed` orders finished earlier in this transaction
   * give their capacity back first.
   */
  async #insertAll(
    tx: postgres.TransactionSql<q.Types>,
    inserts: readonly NewOrder[],
    freed: number,
  ): Promise<{ results: Inserted[]; stored: number; capacity: CommitOutcome["capacity"] }> {
    const results = new Array<Inserted>(inserts.length);
    const keys = [...new Set(inserts.flatMap((order) => order.clave ?? []))];
    const known = new Map<string, number>();
    if (keys.length) {
      for (const row of await q.idsByKey(tx, keys)) known.set(row.clave, row.id);
    }
    /** Indices of the inserts that need a new row. */
    const fresh: number[] = [];
    /** [index, index of the earlier insert with the same key]. */
    const repeats: [number, number][] = [];
    const firstWithKey = new Map<string, number>();
    inserts.forEach((order, i) => {
      const clave = order.clave;
      if (clave !== undefined) {
        const first = firstWithKey.get(clave);
        if (first !== undefined) return void repeats.push([i, first]);
        const id = known.get(clave);
        if (id !== undefined) return void (results[i] = { id, existing: true });
        firstWithKey.set(clave, i);
      }
      fresh.push(i);
    });

    let capacity: CommitOutcome["capacity"];
    let admitted = fresh.length;
    if (fresh.length > 0 || freed > 0) {
      const [row] = await q.lockCapacity(tx);
      const inUse = row!.en_uso - freed;
      if (row!.limite !== null) admitted = Math.min(admitted, Math.max(0, row!.limite - inUse));
      capacity = { limite: row!.limite, enUso: inUse + admitted };
    }
    for (const index of fresh.slice(admitted)) results[index] = { refused: "limite" };

    let stored = 0;
    const taken = fresh.slice(0, admitted);
    if (taken.length > 0) {
      const rows = await q.insertOrders(tx, {
        clientes: taken.map((i) => inserts[i]!.cliente),
        productos: taken.map((i) => JSON.stringify(inserts[i]!.productos)),
        direcciones: taken.map((i) => inserts[i]!.direccion),
        recibidos: taken.map((i) => iso(inserts[i]!.recibido)),
        claves: taken.map((i) => inserts[i]!.clave ?? null),
      });
      stored = rows.length;
      // RETURNING promises no order: ids increase in the insert's order, so
      // keyless rows take theirs sorted, and keyed rows are found by key.
      const byKey = new Map<string, number>();
      const keyless: number[] = [];
      for (const row of rows) {
        if (row.clave === null) keyless.push(row.id);
        else byKey.set(row.clave, row.id);
      }
      keyless.sort((a, b) => a - b);
      let next = 0;
      const raced: number[] = [];
      for (const index of taken) {
        const clave = inserts[index]!.clave;
        if (clave === undefined) {
          results[index] = { id: keyless[next++]!, existing: false };
          continue;
        }
        const id = byKey.get(clave);
        if (id !== undefined) results[index] = { id, existing: false };
        else raced.push(index);
      }
      if (raced.length > 0) {
        // Another server stored these keys after our lookup: theirs stand,
        // and the capacity taken for them goes back.
        const found = new Map(
          (await q.idsByKey(tx, raced.map((i) => inserts[i]!.clave!))).map((row) => [
            row.clave,
            row.id,
          ]),
        );
        for (const index of raced) {
          results[index] = { id: found.get(inserts[index]!.clave!)!, existing: true };
        }
        capacity!.enUso -= raced.length;
      }
      for (const id of results.flatMap((r) => r?.existing === false ? [r.id] : [])) {
        this.#inFlight.add(id);
      }
    }
    if (capacity) await q.setInUse(tx, capacity.enUso);
    for (const [index, first] of repeats) {
      const original = results[first]!;
      results[index] = original.refused ? original : { id: original.id, existing: true };
    }
    return { results, stored, capacity };
  }

  /**
   * Applies updates, several rows per statement, only to orders this store
   * holds. An order's changes keep their order: the first change of every
   * order goes in one round, the second in the next, and so on. An `inicio`
   * followed by its `fin` in the same batch is written as one change.
   * Resolves with the ids that reached a final state.
   */
  async #updateAll(
    tx: postgres.TransactionSql<q.Types>,
    updates: readonly OrderUpdate[],
  ): Promise<number[]> {
    const byOrder = new Map<number, Change[]>();
    for (const update of updates) {
      const changes = byOrder.get(update.id);
      if (!changes) {
        byOrder.set(update.id, [update]);
        continue;
      }
      const last = changes[changes.length - 1]!;
      if (update.tipo === "fin" && last.tipo === "inicio") {
        changes[changes.length - 1] = { ...update, tipo: "completo" };
      } else {
        changes.push(update);
      }
    }
    const sesion = this.#sesion;
    const finals: number[] = [];
    for (let round = 0;; round++) {
      const started = { ids: [] as number[], inicios: [] as string[], workers: [] as number[] };
      const done = [doneRows(), doneRows()];
      const retried = { ids: [] as number[], motivos: [] as string[] };
      const failed: Extract<OrderUpdate, { tipo: "fallo" }>[] = [];
      let any = false;
      for (const changes of byOrder.values()) {
        const change = changes[round];
        if (!change) continue;
        any = true;
        switch (change.tipo) {
          case "inicio":
            started.ids.push(change.id);
            started.inicios.push(iso(change.inicio));
            started.workers.push(change.worker);
            break;
          case "fin":
          case "completo": {
            const rows = done[change.tipo === "fin" ? 0 : 1]!;
            rows.ids.push(change.id);
            rows.inicios.push(iso(change.inicio));
            rows.fines.push(iso(change.fin));
            rows.duraciones.push(durationSeconds(change.inicio, change.fin));
            rows.workers.push(change.worker);
            break;
          }
          case "reintento":
            retried.ids.push(change.id);
            retried.motivos.push(change.motivo);
            break;
          case "fallo":
            failed.push(change);
        }
      }
      if (!any) return finals;
      if (started.ids.length) await q.startOrders(tx, sesion, started);
      for (const [i, rows] of done.entries()) {
        if (rows.ids.length === 0) continue;
        for (const row of await q.finishOrders(tx, sesion, rows, i === 1)) finals.push(row.id);
      }
      if (retried.ids.length) await q.retryOrders(tx, sesion, retried);
      if (failed.length) {
        const starts = new Map(
          (await q.startsOf(tx, failed.map((f) => f.id))).map((row) => [row.id, row.fecha_inicio]),
        );
        const rows = await q.failOrders(tx, sesion, {
          ids: failed.map((f) => f.id),
          fines: failed.map((f) => iso(f.fin)),
          motivos: failed.map((f) => f.motivo),
          duraciones: failed.map((f) => failureDuration(starts.get(f.id) ?? null, f.fin)),
        });
        for (const row of rows) finals.push(row.id);
      }
    }
  }

  async findById(id: number): Promise<OrderView | undefined> {
    const [row] = await q.selectOrders(this.#shared, { id });
    if (!row) return undefined;
    const { clave: _clave, ...view } = parsed<StoredOrder>(row);
    return view;
  }

  async findIdByKey(clave: string): Promise<number | undefined> {
    const [row] = await q.idsByKey(this.#shared, [clave]);
    return row?.id;
  }

  async unfinished(): Promise<OrderView[]> {
    const rows = await q.heldUnfinished(this.#shared, this.#sesion);
    return rows.map((row) => parsed<OrderView>(row));
  }

  async *orders(filter: OrderFilter = {}): AsyncIterable<StoredOrder> {
    for await (const rows of q.selectOrders(this.#shared, filter).cursor(STREAM_ROWS)) {
      for (const row of rows) yield parsed<StoredOrder>(row);
    }
  }

  async count(filter: OrderFilter = {}): Promise<number> {
    const [row] = await q.countOrders(this.#shared, filter);
    return row!.n;
  }

  async *statsRows(): AsyncIterable<OrderRow> {
    for await (const rows of q.statsRows(this.#shared).cursor(STREAM_ROWS)) {
      for (const row of rows) yield { ...row };
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#cluster?.leave();
    } finally {
      await Promise.all([
        this.#durable.end({ timeout: 5 }),
        this.#shared === this.#durable ? undefined : this.#shared.end({ timeout: 5 }),
      ]);
    }
  }
}

function doneRows(): q.DoneRows {
  return { ids: [], inicios: [], fines: [], duraciones: [], workers: [] };
}
