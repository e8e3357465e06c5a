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
 * Each {@linkcode OrderStore.commit} is one call of the database function
 * `pedidos_confirmar`, one statement and so one transaction: state changes
 * first (releasing the capacity of the orders they finish), then the
 * cluster-wide admission on the locked `pedidos_capacidad` row, then one
 * multi-row insert, then the notifications. How a batch is laid out for it
 * is {@linkcode batchOf}.
 *
 * @module
 */
import postgres from "postgres";
import { changesByOrder, durationSeconds, isoDate as iso, parsed } from "./rules.ts";
import * as q from "./postgres_sql.ts";
import { redactUrl } from "./postgres_url.ts";
import { type ClusterOptions, PostgresCluster } from "./postgres_cluster.ts";
import type {
  Backlog,
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
  UnfinishedRange,
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
  const tables = new Set((await q.existingTables(sql)).map((row) => row.tabla));
  if (tables.has("pedidos") && !tables.has("pedidos_esquema")) {
    throw new Error(`${redactUrl(url)} ya tiene una tabla pedidos que no es de este programa`);
  }
  const current = tables.has("pedidos_esquema") ? (await q.schemaVersion(sql))[0]!.version : 0;
  checkNotNewer(current, url);
  for (const migration of q.MIGRATIONS) {
    if (migration.version > current) await q.applyMigration(sql, migration);
  }
}

/** A commit laid out for `pedidos_confirmar`, and how to read its answer. */
export interface LaidOut {
  batch: q.Batch;
  /** For each candidate n (from 1), the index of its insert. */
  candidates: number[];
  /** [index, index of the earlier insert of the batch with the same key]. */
  repeats: [number, number][];
}

/**
 * Lays a batch out for `pedidos_confirmar`: the inserts whose key is not
 * taken by an earlier insert of the batch become candidates (the others are
 * answered like that earlier one); each order's changes are numbered in
 * rounds (its first change in round 0, its second in round 1…), and an
 * `inicio` followed by its `fin` becomes one `completo`.
 *
 * @example
 * ```ts
 * const { batch, candidates } = batchOf(
 *   [{ cliente: "A", productos: ["pan"], direccion: "C 1", recibido: 0, clave: "k" }],
 *   [{ tipo: "inicio", id: 7, worker: 1, inicio: 0 }, { tipo: "fin", id: 7, worker: 1, inicio: 0, fin: 5 }],
 * );
 * batch.tipos; // ["completo"]
 * candidates; // [0]
 * ```
 */
export function batchOf(inserts: readonly NewOrder[], updates: readonly OrderUpdate[]): LaidOut {
  const batch: q.Batch = {
    clientes: [],
    productos: [],
    direcciones: [],
    recibidos: [],
    claves: [],
    rondas: [],
    tipos: [],
    ids: [],
    workers: [],
    inicios: [],
    fines: [],
    duraciones: [],
    motivos: [],
    resultados: [],
  };
  const candidates: number[] = [];
  const repeats: [number, number][] = [];
  const firstWithKey = new Map<string, number>();
  inserts.forEach((order, i) => {
    if (order.clave !== undefined) {
      const first = firstWithKey.get(order.clave);
      if (first !== undefined) return void repeats.push([i, first]);
      firstWithKey.set(order.clave, i);
    }
    candidates.push(i);
    batch.clientes.push(order.cliente);
    batch.productos.push(JSON.stringify(order.productos));
    batch.direcciones.push(order.direccion);
    batch.recibidos.push(iso(order.recibido));
    batch.claves.push(order.clave ?? null);
  });
  const byOrder = changesByOrder(updates);
  for (const changes of byOrder.values()) {
    changes.forEach((change, round) => {
      batch.rondas.push(round);
      batch.tipos.push(change.tipo);
      batch.ids.push(change.id);
      batch.workers.push("worker" in change ? change.worker : null);
      batch.inicios.push("inicio" in change ? iso(change.inicio) : null);
      batch.fines.push("fin" in change ? iso(change.fin) : null);
      batch.duraciones.push(
        "inicio" in change && "fin" in change ? durationSeconds(change.inicio, change.fin) : null,
      );
      batch.motivos.push("motivo" in change ? change.motivo : null);
      batch.resultados.push("resultado" in change ? change.resultado ?? null : null);
    });
  }
  return { batch, candidates, repeats };
}

class PostgresStore implements OrderStore {
  readonly #durable: postgres.Sql<q.Types>;
  readonly #shared: postgres.Sql<q.Types>;
  readonly durability: string;
  #cluster: PostgresCluster | undefined;
  /** Commits under way (one at a time under the group commit). */
  #committing = 0;
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
      committing: () => this.#committing > 0,
    });
  }

  async commit(inserts: readonly NewOrder[], updates: readonly OrderUpdate[]): Promise<Inserted[]> {
    if (inserts.length === 0 && updates.length === 0) return [];
    const { batch, candidates, repeats } = batchOf(inserts, updates);
    let rows: q.ConfirmRow[];
    this.#committing++;
    try {
      rows = await q.confirm(this.#durable, this.#sesion, batch);
    } catch (error) {
      this.#cluster?.commitFailed();
      throw error;
    } finally {
      // Notices that came in meanwhile may be about the orders this commit
      // inserted: they wait until its callers have heard of the ids.
      if (--this.#committing === 0) this.#cluster?.releaseHeldNotices();
    }
    const results = new Array<Inserted>(inserts.length);
    let capacity: { limite: number | null; enUso: number } | undefined;
    for (const row of rows) {
      if (row.n === 0) {
        if (row.en_uso !== null) capacity = { limite: row.limite, enUso: row.en_uso };
        continue;
      }
      results[candidates[row.n - 1]!] = row.id === null
        ? { refused: "limite" }
        : { id: row.id, existing: row.existente === true };
    }
    for (const [index, first] of repeats) {
      const original = results[first]!;
      results[index] = original.refused ? original : { id: original.id, existing: true };
    }
    this.#cluster?.committed(capacity);
    return results;
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

  async backlog(): Promise<Backlog> {
    const [row] = await q.heldBacklog(this.#shared, this.#sesion);
    return { count: row!.count, newestId: row!.newestId };
  }

  async unfinished(range: UnfinishedRange): Promise<OrderView[]> {
    const rows = await q.heldUnfinished(this.#shared, this.#sesion, range);
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
