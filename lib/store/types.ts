/**
 * The store's contract: what the server and the tools need from wherever
 * orders are kept, and the shapes of what goes in and comes out. SQLite
 * (`sqlite.ts`) is one implementation; {@linkcode openStore} in `open.ts`
 * picks one from `--db`, and `contract.ts` holds the tests every
 * implementation passes.
 *
 * Everything is asynchronous, and writes are batch-shaped: the server's
 * group commit (`group_commit.ts`) gathers the orders and state changes of
 * one moment into a single {@linkcode OrderStore.commit}, one promise and
 * one transaction for the whole batch, however many orders it holds.
 *
 * @module
 */
import type { Estado, OrderView } from "../wire/protocol.ts";
import type { Written } from "./group_commit.ts";

export type { Estado, OrderView };

/**
 * How durable a commit is before it resolves: `full` survives power loss,
 * `normal` survives a crash of the server but may lose the last commits to
 * power loss.
 */
export type SyncMode = "full" | "normal";

/** An admitted order about to be stored. */
export interface NewOrder {
  cliente: string;
  productos: string[];
  direccion: string;
  /** Idempotency key: at most one order is ever stored per key. */
  clave?: string | undefined;
  /** Epoch milliseconds when the order was received. */
  recibido: number;
}

/**
 * A state change reported by the worker pool. Times are epoch milliseconds.
 *
 * - `inicio`: `en proceso`, with its start, worker and one more attempt;
 * - `fin`: `listo`, with start, end, worker, `duracion` = end − start and
 *   the processor's `resultado`, if any;
 * - `reintento`: back to `en cola`, the reason kept in `motivo_fallo`;
 * - `fallo`: `fallido` with its end and reason; `duracion` is measured from
 *   the last stored start (`null` if it never started).
 */
export type OrderUpdate =
  | { tipo: "inicio"; id: number; worker: number; inicio: number }
  | {
    tipo: "fin";
    id: number;
    worker: number;
    inicio: number;
    fin: number;
    /** The processor's result as JSON text; absent if it returned none. */
    resultado?: string | undefined;
  }
  | { tipo: "reintento"; id: number; motivo: string }
  | { tipo: "fallo"; id: number; motivo: string; fin: number };

/**
 * What became of one insert of a batch. Either it has an `id`: `existing`
 * is true when its key already belonged to an order (stored earlier, or
 * earlier in the same batch), so nothing new was stored and `id` is that
 * order's; or it was `refused` because the admission limit a store shared
 * by several servers keeps (PostgreSQL's `pedidos_capacidad`) was reached,
 * and nothing was stored. A store without such a limit (SQLite: the
 * server's own semaphore is exact there) never refuses.
 */
export type Inserted =
  | { id: number; existing: boolean; refused?: undefined }
  | { id?: undefined; existing?: undefined; refused: "limite" };

/** An order as stored: its public record plus its idempotency key. */
export interface StoredOrder extends OrderView {
  clave: string | null;
}

/** An order as statistics replay it: state, worker and ISO-8601 dates. */
export interface OrderRow {
  id: number;
  estado: string;
  worker: number | null;
  fecha_inicio: string | null;
  fecha_fin: string | null;
}

/** Which orders a read is about; every condition given must hold. */
export interface OrderFilter {
  /** Only the order with this id. */
  id?: number;
  /** Only the order with this idempotency key. */
  clave?: string;
  /** Only orders whose `cliente` starts with this text (compared exactly). */
  clientePrefix?: string;
  /** Only orders in one of these states. */
  estados?: readonly Estado[];
}

/**
 * The read side: what tools, tests and `stats --db` read, from a store open
 * for writing or one opened read-only next to a running server.
 */
export interface OrderReader {
  /** The matching orders, by id, streamed rather than held all at once. */
  orders(filter?: OrderFilter): AsyncIterable<StoredOrder>;
  /** How many orders match. */
  count(filter?: OrderFilter): Promise<number>;
  /** Every order, by id, as statistics need it, streamed. */
  statsRows(): AsyncIterable<OrderRow>;
  /** Releases the connection (and, for a writer, its lock). Safe to call twice. */
  close(): Promise<void>;
}

/**
 * The order store of one server.
 *
 * Ids are the store's to assign: increasing in commit order, and within a
 * batch in the batch's order. A commit is one transaction: it resolves once
 * everything in it is durable, or rejects with nothing of it stored.
 */
export interface OrderStore extends OrderReader {
  /** The schema version in use, for the start-up log. */
  readonly schemaVersion: number;
  /**
   * What a commit waits for, when the backend has more to say than `--sync`
   * (PostgreSQL: its `synchronous_commit`), for the start-up log.
   */
  readonly durability?: string | undefined;
  /**
   * Stores new orders and applies state changes, all or nothing. Resolves
   * with one {@linkcode Inserted} per insert, in order. An insert whose key
   * is already taken, or that a shared admission limit refuses, stores
   * nothing and is not an error. The changes of one order are applied in the
   * order given.
   */
  commit(inserts: readonly NewOrder[], updates: readonly OrderUpdate[]): Promise<Inserted[]>;
  /**
   * For a store that writes synchronously (SQLite): `commit` in two steps,
   * the transaction written when this returns (throwing if it failed), and
   * durable when the returned `durable` resolves. The group committer uses
   * it to write the next batch while this one is synced.
   */
  write?(inserts: readonly NewOrder[], updates: readonly OrderUpdate[]): Written<Inserted>;
  findById(id: number): Promise<OrderView | undefined>;
  findIdByKey(clave: string): Promise<number | undefined>;
  /**
   * The orders this server must take up at start: how many a previous run
   * left `en cola` or `en proceso`, and the newest one's id (0 if none). A
   * store in a cluster reports none: the cluster's queue hands orders out
   * (see `cluster`).
   */
  backlog(): Promise<Backlog>;
  /**
   * Orders `en cola` or `en proceso` with `after < id <= through`, by id,
   * at most `limit`: the next part of the backlog on disk. In a cluster,
   * only this server's.
   */
  unfinished(range: UnfinishedRange): Promise<OrderView[]>;
  /** Set when the store is shared by a cluster of servers (PostgreSQL with `--instance`). */
  readonly cluster?: ClusterQueue | undefined;
}

/** Unfinished orders waiting in a store (see `OrderStore.backlog`). */
export interface Backlog {
  count: number;
  /** The newest unfinished order's id; 0 if none. */
  newestId: number;
}

/** Which part of the backlog to read (see `OrderStore.unfinished`). */
export interface UnfinishedRange {
  after: number;
  through: number;
  limit: number;
}

/** An order a server claimed from the cluster's queue: what its workers need. */
export interface ClaimedOrder {
  id: number;
  cliente: string;
  productos: string[];
  direccion: string;
  /** When the order was received, ISO-8601 (for the queue wait and the processor). */
  fecha_recibido: string;
  /** Attempts already started, by any server. */
  intentos: number;
}

/** The cluster as a server last saw it: for the greeting and `estadisticas`. */
export interface ClusterFigures {
  /** This server's instance name. */
  instancia: string;
  /** Instance names of the servers whose lease is current, this one included. */
  instancias: readonly string[];
  /** The cluster's admission limit (`--max`). */
  limite: number;
  /** Orders admitted and not finished, across the cluster. */
  enUso: number;
  /** Of those, `en cola` and `en proceso` (read at most about once a second). */
  enCola: number;
  enProceso: number;
}

/** What the cluster tells a server (see {@linkcode ClusterQueue.subscribe}). */
export interface ClusterListener {
  /** Orders may be waiting to be claimed: inserted, rescued or released somewhere. */
  available(): void;
  /** These orders reached `listo` or `fallido`, on this server or another. */
  finished(ids: readonly number[]): void;
  /** Notices may have been missed (the listening connection came back): check what you wait for. */
  resync(): void;
}

/**
 * The shared side of a store several servers use at once: the queue they
 * claim orders from, and the news of the others.
 */
export interface ClusterQueue {
  /** This server's instance name (`--instance`). */
  readonly instance: string;
  /** Whether the database answered lately; false while it is unreachable. */
  readonly ready: boolean;
  /**
   * Claims up to `n` orders `en cola` that no server holds, oldest first:
   * from now on only this server may change them, until it finishes them,
   * releases them or its lease runs out.
   */
  claim(n: number): Promise<ClaimedOrder[]>;
  /** Which of these orders are `listo` or `fallido` now. */
  finishedAmong(ids: readonly number[]): Promise<number[]>;
  /** The cluster's figures as last read; never waits. */
  figures(): ClusterFigures;
  /** Who to tell the cluster's news; one listener, replacing any earlier one. */
  subscribe(listener: ClusterListener): void;
}
