/**
 * The order service: the business rules between the wire and the machinery.
 * Admission (semaphore), idempotency, durable storage (group commit), the
 * worker pool, statistics and completion notices all meet here, and only here.
 *
 * @module
 */
import type { Logger } from "../util/log.ts";
import type { PoolEvents, PoolJob } from "./pool.ts";
import {
  accepted,
  failure,
  type FinishedEvent,
  finishedEvent,
  type OrderView,
  type PublicOrderView,
  type Reply,
  statusReply,
} from "../wire/protocol.ts";
import type { Order } from "../wire/schema.ts";
import { NO_OBSERVER, type OrderObserver } from "./observer.ts";
import type { AdmissionSemaphore } from "./semaphore.ts";
import { type SharedSnapshot, SnapshotCache } from "../stats/cache.ts";
import { ProcessingStats } from "../stats/live.ts";
import type { StatsSnapshot } from "../stats/snapshot.ts";
import type { ClusterQueue, Inserted, NewOrder, OrderStore, OrderUpdate } from "../store/types.ts";
import { ClusterSnapshots } from "../cluster/stats.ts";

/** Someone waiting to hear that an order finished (a connection that sent `avisar`). */
export interface OrderListener {
  /** False once the connection is gone; the notice is then dropped. */
  readonly open: boolean;
  /** Whether this listener still needs order `id`'s notice: not told yet, not already watching. */
  wants(id: number): boolean;
  /** Called when the listener is registered for an unfinished order. */
  watch(id: number): void;
  notify(event: FinishedEvent): void;
}

/** What draining a pool left behind. */
export interface DrainedPool {
  /** Orders still running when the drain time ran out (recovered at next start). */
  abandoned: number;
  /** Orders never started (left `en cola` for the next start). */
  queued: number;
}

/** How orders reach the workers, as the service drives it (see `BacklogPool`, `ClusterPool`). */
export interface OrderPool {
  /** An order just committed. */
  submit(job: PoolJob): void;
  /**
   * Takes up the orders a previous run left unfinished; resolves with how
   * many. Called once, before the first `submit`.
   */
  recover(): Promise<number>;
  /** Orders not started yet. */
  readonly queued: number;
  /** Orders being processed now. */
  readonly busy: number;
  /** Workers running an order now. */
  readonly busyWorkers: number;
  /** Workers in the pool. */
  readonly size: number;
  drain(timeoutMs: number): Promise<DrainedPool>;
}

/** Group commit, as the service writes through it (see `GroupCommitter`). */
export interface OrderCommitter {
  /** Resolves once the order's batch committed; rejects if it failed. */
  insert(order: NewOrder): Promise<Inserted>;
  /** Resolves once the change committed (failed batches are retried); rejects only once closed. */
  update(update: OrderUpdate): Promise<void>;
  /** Commits what is pending, refuses further writes; resolves with the updates it could not write. */
  close(): Promise<number>;
}

/** Options for {@linkcode OrderService}: its parts, built by the server (or by a test). */
export interface OrderServiceOptions {
  /** Reads: lookups, recovery. Writes go through `committer`; the owner closes the store. */
  store: Pick<OrderStore, "findById" | "findIdByKey">;
  committer: OrderCommitter;
  /** Admission: one permit per order from admission until its final state is committed. */
  semaphore: Pick<
    AdmissionSemaphore,
    "tryAcquire" | "forceAcquire" | "release" | "capacity" | "available"
  >;
  /** Builds the worker pool, which reports to the service through `events`. */
  createPool: (events: PoolEvents) => OrderPool;
  log: Logger;
  /** Told of every order's progress, for the metrics. @default NO_OBSERVER */
  observer?: OrderObserver;
  /** The cluster this server belongs to, whose figures `estadisticas` adds; none alone. */
  cluster?: Pick<ClusterQueue, "figures"> | undefined;
}

/** Queue, workers and admission at one moment (see `OrderService.occupancy`). */
export interface OrderOccupancy {
  /** Orders admitted and waiting for a worker. */
  enCola: number;
  /** Orders being processed. */
  enProceso: number;
  /** The admission limit, `--max`. */
  max: number;
  /** Admission permits held (recovered orders may take it above `max`). */
  enUso: number;
  /** Workers processing an order. */
  workersOcupados: number;
  /** Workers in the pool. */
  workers: number;
}

/** What shutting down left behind. */
export interface ShutdownSummary {
  snapshot: StatsSnapshot;
  /** Orders still in a worker when the drain time ran out (recovered at next start). */
  abandoned: number;
  /** Orders never started (left `en cola` for the next start). */
  queued: number;
  /** State changes that could not be written (those orders are redone at next start). */
  unwrittenUpdates: number;
}

/**
 * @example
 * ```ts
 * const service = new OrderService({
 *   store,
 *   committer: new GroupCommitter((inserts, updates) => store.commit(inserts, updates)),
 *   semaphore: new AdmissionSemaphore(6),
 *   createPool: (events) => new WorkerPool({ ...poolOptions, events }),
 *   log,
 * });
 * await service.recover();
 * const reply = await service.submit({ cliente: "Ana", productos: ["pan"], direccion: "Calle 1" });
 * ```
 */
export class OrderService {
  readonly #store: OrderServiceOptions["store"];
  readonly #log: Logger;
  /** Per-order lines are built only when they will be printed: no cost on the hot path. */
  readonly #verbose: boolean;
  readonly #semaphore: OrderServiceOptions["semaphore"];
  readonly #committer: OrderCommitter;
  readonly #pool: OrderPool;
  readonly #observer: OrderObserver;
  readonly #stats = new ProcessingStats();
  readonly #snapshots = new SnapshotCache(this.#stats);
  readonly #cluster: OrderServiceOptions["cluster"];
  readonly #clusterSnapshots = new ClusterSnapshots();
  /**
   * In a cluster, the orders admitted here and not yet finished anywhere,
   * whose end this server waits to hear of. Alone, a server keeps nothing
   * per order: each holds one permit of the semaphore's count, given back
   * when its final state commits.
   */
  readonly #admitted: Set<number> | undefined;
  readonly #listeners = new Map<number, Set<OrderListener>>();
  /** Idempotency keys whose first order is still being committed or looked up. */
  readonly #keysInFlight = new Map<string, Promise<Reply>>();
  /** Final states written but not yet followed by their permit release and notice. */
  readonly #finishing = new Set<Promise<void>>();
  #closing = false;

  constructor(options: OrderServiceOptions) {
    this.#store = options.store;
    this.#log = options.log;
    this.#verbose = options.log.level === "verbose";
    this.#semaphore = options.semaphore;
    this.#committer = options.committer;
    const observer = this.#observer = options.observer ?? NO_OBSERVER;
    this.#cluster = options.cluster;
    this.#admitted = options.cluster ? new Set() : undefined;
    this.#pool = options.createPool({
      onStart: (job, worker, at) => {
        this.#stats.observeInProcess(this.#pool.busy);
        observer.started(job.id, worker, at, job.intentos === 1 ? job.recibido : undefined);
        this.#write({ tipo: "inicio", id: job.id, worker, inicio: at });
        if (this.#verbose) this.#log.debug(`pedido #${job.id} en proceso en el worker ${worker}`);
      },
      onDone: (job, worker, result) => {
        this.#stats.recordFinished({
          id: job.id,
          worker,
          estado: "listo",
          inicio: result.inicio,
          fin: result.fin,
        });
        observer.finished(job.id, worker, "listo", result.inicio, result.fin);
        this.#finish(job.id, {
          tipo: "fin",
          id: job.id,
          worker,
          inicio: result.inicio,
          fin: result.fin,
          resultado: result.resultado,
        });
        if (this.#verbose) {
          this.#log.debug(`pedido #${job.id} listo en ${result.fin - result.inicio} ms`);
        }
      },
      onRetry: (job, worker, motivo) => {
        observer.retried();
        this.#write({ tipo: "reintento", id: job.id, motivo });
        this.#log.warn(`pedido #${job.id}, worker ${worker}: ${motivo}; se reintenta`);
      },
      onWorkerError: (worker, motivo, retryInMs) => {
        this.#log.warn(`worker ${worker}: ${motivo}; se reinicia en ${retryInMs} ms`);
      },
      onFail: (job, worker, motivo, at) => {
        this.#stats.recordFinished({
          id: job.id,
          worker,
          estado: "fallido",
          inicio: null,
          fin: at,
        });
        observer.finished(job.id, worker, "fallido", null, at);
        this.#finish(job.id, { tipo: "fallo", id: job.id, motivo, fin: at });
        this.#log.warn(`pedido #${job.id} fallido tras ${job.intentos} intentos: ${motivo}`);
      },
    });
  }

  /** Admission capacity, as the greeting shows it. */
  get capacity(): { max: number; libres: number } {
    return { max: this.#semaphore.capacity, libres: this.#semaphore.available };
  }

  /** Whether shutdown has begun. */
  get closing(): boolean {
    return this.#closing;
  }

  /**
   * Takes up again the orders a crash left `en cola` or `en proceso`, in id
   * order (the pool reads them from the database as its workers need
   * them). They were acknowledged, so they hold permits even beyond `max`.
   * Resolves with how many were recovered.
   */
  async recover(): Promise<number> {
    const count = await this.#pool.recover();
    this.#semaphore.forceAcquire(count);
    this.#stats.recordRecovered(count);
    this.#observer.recovered(count);
    return count;
  }

  /**
   * Admits an order: checks capacity, commits it, queues it. Resolves only
   * after the insert has committed, so an `ok` reply means the order is
   * durable. An order is admitted (or refused) before this returns, so
   * orders submitted one after another get their ids in that order.
   *
   * An order with a known key gets the original's id, marked `duplicado`:
   * the store recognises the key in the commit, and a key whose first order
   * is still in flight waits for it.
   */
  submit(order: Order, listener?: OrderListener): Promise<Reply> {
    if (this.#closing) return Promise.resolve(this.#reject("apagando"));
    const clave = order.clave;
    if (clave !== undefined) {
      const inFlight = this.#keysInFlight.get(clave);
      if (inFlight) {
        return inFlight.then((reply) =>
          reply.ok && reply.id !== undefined ? this.#duplicate(reply.id, listener) : reply
        );
      }
    }
    const permitted = this.#semaphore.tryAcquire();
    if (!permitted && clave === undefined) return Promise.resolve(this.#reject("limite"));
    // Without a permit, a known key is still answered with its order.
    const reply = permitted
      ? this.#admit(order, listener)
      : this.#duplicateOrLimit(clave!, listener);
    if (clave !== undefined) {
      // Reserved before anything is awaited: a resend arriving meanwhile waits for this reply.
      this.#keysInFlight.set(clave, reply);
      const release = () => this.#keysInFlight.delete(clave);
      reply.then(release, release);
    }
    return reply;
  }

  /** Admits an order holding a permit, which it gives back unless the order is stored. */
  async #admit(order: Order, listener: OrderListener | undefined): Promise<Reply> {
    const pedido = {
      cliente: order.cliente,
      productos: order.productos,
      direccion: order.direccion,
      recibido: Date.now(),
    };
    const { recibido } = pedido;
    let inserted: Inserted;
    try {
      inserted = await this.#committer.insert({ ...pedido, clave: order.clave });
    } catch {
      this.#semaphore.release();
      return this.#reject("interno", "el pedido no se pudo guardar");
    }
    if (inserted.refused) {
      // A store shared by a cluster keeps the limit itself, in the insert's transaction.
      this.#semaphore.release();
      return this.#reject("limite");
    }
    const { id } = inserted;
    if (inserted.existing) {
      this.#semaphore.release();
      return this.#duplicate(id, listener);
    }
    this.#admitted?.add(id);
    if (listener?.wants(id)) {
      this.#listeners.set(id, new Set([listener]));
      listener.watch(id);
    }
    this.#stats.recordAdmitted();
    this.#observer.received("accepted");
    this.#pool.submit({ id, pedido, intentos: 0, recibido });
    if (this.#verbose) this.#log.debug(`pedido #${id} encolado`);
    return accepted(id);
  }

  async #duplicateOrLimit(clave: string, listener: OrderListener | undefined): Promise<Reply> {
    const id = await this.#store.findIdByKey(clave);
    return id === undefined ? this.#reject("limite") : this.#duplicate(id, listener);
  }

  /**
   * The reply to an order resent under a known key. A listener follows the
   * original order, once: registered if it is still unfinished, told at once
   * if it already ended.
   */
  #duplicate(id: number, listener: OrderListener | undefined): Reply | Promise<Reply> {
    this.#observer.received("duplicate");
    const reply = accepted(id, true);
    if (!listener?.wants(id)) return reply;
    if (this.#admitted?.has(id)) {
      this.#listen(id, listener);
      return reply;
    }
    return this.#store.findById(id).then(async (order) => {
      if (order && (order.estado === "listo" || order.estado === "fallido")) {
        listener.notify(finishedEvent({ ...order, estado: order.estado }));
      } else if (order) {
        // Another server of a cluster holds it: finishedElsewhere() will
        // tell, unless it ended just now, which the second look sees.
        this.#listen(id, listener);
        await this.#notify(id);
      }
      return reply;
    });
  }

  #listen(id: number, listener: OrderListener) {
    let listeners = this.#listeners.get(id);
    if (!listeners) this.#listeners.set(id, listeners = new Set());
    listeners.add(listener);
    listener.watch(id);
  }

  /**
   * An order reached its final state on another server of the cluster:
   * what this server kept for it goes, and its listeners here are told.
   */
  finishedElsewhere(id: number): void {
    this.#admitted?.delete(id);
    if (this.#listeners.has(id)) this.#track(this.#notify(id));
  }

  /** The state and times of one order, as `view` lets the asker see it. */
  async status(
    id: number,
    view: (order: OrderView) => OrderView | PublicOrderView,
  ): Promise<Reply> {
    const order = await this.#store.findById(id);
    return order
      ? statusReply(view(order))
      : failure("no_encontrado", `no existe el pedido #${id}`);
  }

  /** The id of the order sent with idempotency key `clave`, if any. */
  idForKey(clave: string): Promise<number | undefined> {
    return this.#store.findIdByKey(clave);
  }

  /**
   * This run's statistics so far, shared with other requests (see
   * `SnapshotCache`); in a cluster, with the cluster's figures too.
   */
  statistics(options: { intervalos: boolean }): SharedSnapshot {
    const current = { enCola: this.#pool.queued, enProceso: this.#pool.busy };
    const shared = this.#snapshots.get(current, options);
    return this.#cluster ? this.#clusterSnapshots.add(shared, this.#cluster.figures()) : shared;
  }

  /** Orders whose end this server still waits to hear of: admitted here, or followed here. */
  awaited(): number[] {
    return [...new Set([...(this.#admitted ?? []), ...this.#listeners.keys()])];
  }

  /** Counts a rejection decided outside the service (bad JSON, invalid order, oversize). */
  recordRejected(codigo: string): void {
    this.#stats.recordRejected(codigo);
    this.#observer.received(codigo);
  }

  /** Queue, workers and admission right now; cheap enough for every metrics scrape. */
  occupancy(): OrderOccupancy {
    return {
      enCola: this.#pool.queued,
      enProceso: this.#pool.busy,
      max: this.#semaphore.capacity,
      enUso: this.#semaphore.capacity - this.#semaphore.available,
      workersOcupados: this.#pool.busyWorkers,
      workers: this.#pool.size,
    };
  }

  /** Activity counters for the periodic log line. */
  activity(): { admitidos: number; enCola: number; enProceso: number } {
    const { snapshot } = this.statistics({ intervalos: false });
    return {
      admitidos: snapshot.recibidos,
      enCola: snapshot.enCola,
      enProceso: snapshot.enProceso,
    };
  }

  /** From now on, new orders are answered `apagando`. */
  beginShutdown(): void {
    this.#closing = true;
  }

  /**
   * Lets orders in process finish (at most `drainMs`), leaves queued ones
   * `en cola`, and writes every pending change. The store stays open: its
   * owner closes it once this resolves.
   */
  async shutdown(drainMs: number): Promise<ShutdownSummary> {
    this.beginShutdown();
    const { abandoned, queued } = await this.#pool.drain(drainMs);
    const unwrittenUpdates = await this.#committer.close();
    // Notices read the store, so let every committed final state send its
    // notice before the store closes.
    await Promise.all(this.#finishing);
    const snapshot = this.#stats.snapshot({ enCola: queued, enProceso: abandoned });
    this.#listeners.clear();
    this.#admitted?.clear();
    return { snapshot, abandoned, queued, unwrittenUpdates };
  }

  #reject(codigo: "limite" | "apagando" | "interno", detalle?: string): Reply {
    this.#stats.recordRejected(codigo);
    this.#observer.received(codigo);
    return failure(codigo, detalle);
  }

  #write(update: OrderUpdate): Promise<void> {
    // A rejection here means the store closed first; the order is then
    // recovered from its last committed state at the next start.
    return this.#committer.update(update).catch(() => {});
  }

  /** Records a final state; the permit and the notice wait for the commit. */
  #finish(id: number, update: OrderUpdate) {
    this.#track(
      this.#committer.update(update).then(
        () => {
          this.#semaphore.release();
          this.#admitted?.delete(id);
          return this.#notify(id);
        },
        () => {},
      ),
    );
  }

  /** Keeps a notice under way, so that shutdown waits for it. */
  #track(work: Promise<void>) {
    const finishing: Promise<void> = work.finally(() => this.#finishing.delete(finishing));
    this.#finishing.add(finishing);
  }

  /**
   * Tells the listeners of order `id` that it ended, if it has. One that
   * has not (a cluster's order whose final state another server will
   * write) keeps its listeners for the notice that comes then.
   */
  async #notify(id: number) {
    if (!this.#listeners.has(id)) return;
    let order: OrderView | undefined;
    try {
      order = await this.#store.findById(id);
    } catch (error) {
      this.#log.error(`no se pudo leer el pedido #${id} para avisar: ${error}`);
      return;
    }
    if (!order || (order.estado !== "listo" && order.estado !== "fallido")) return;
    const listeners = this.#listeners.get(id);
    if (!listeners) return;
    this.#listeners.delete(id);
    const event = finishedEvent({ ...order, estado: order.estado });
    for (const listener of listeners) if (listener.open) listener.notify(event);
  }
}
