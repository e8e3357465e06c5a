/**
 * The order service: the business rules between the wire and the machinery.
 * Admission (semaphore), idempotency, durable storage (group commit), the
 * worker pool, statistics and completion notices all meet here, and only here.
 *
 * @module
 */
import { GroupCommitter } from "../store/group_commit.ts";
import type { Logger } from "../util/log.ts";
import type { PoolJob, PoolOptions } from "./pool.ts";
import { WorkerPool } from "./pool.ts";
import {
  accepted,
  failure,
  type FinishedEvent,
  finishedEvent,
  type OrderView,
  type Reply,
  statusReply,
} from "../wire/protocol.ts";
import type { Order } from "../wire/schema.ts";
import { NO_OBSERVER, type OrderObserver } from "./observer.ts";
import { AdmissionSemaphore, type Permit } from "./semaphore.ts";
import { ProcessingStats, type StatsSnapshot } from "../stats/stats.ts";
import type { NewOrder, OrderStore, OrderUpdate } from "../store/sqlite.ts";

/** Someone waiting to hear that an order finished (a connection that sent `avisar`). */
export interface OrderListener {
  /** False once the connection is gone; the notice is then dropped. */
  readonly open: boolean;
  /** Called when the listener is registered for an order. */
  watch(id: number): void;
  notify(event: FinishedEvent): void;
}

/** Options for {@linkcode OrderService}. */
export interface OrderServiceOptions {
  store: OrderStore;
  /** Admission limit. */
  max: number;
  pool: Omit<PoolOptions, "events">;
  log: Logger;
  /** Told of every order's progress, for the metrics. @default NO_OBSERVER */
  observer?: OrderObserver;
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
 * const service = new OrderService({ store, max: 6, pool: poolOptions, log });
 * service.recover();
 * const reply = await service.submit({ cliente: "Ana", productos: ["pan"], direccion: "Calle 1" });
 * ```
 */
export class OrderService {
  readonly #store: OrderStore;
  readonly #log: Logger;
  /** Per-order lines are built only when they will be printed: no cost on the hot path. */
  readonly #verbose: boolean;
  readonly #semaphore: AdmissionSemaphore;
  readonly #committer: GroupCommitter<NewOrder, OrderUpdate, number>;
  readonly #pool: WorkerPool;
  readonly #stats = new ProcessingStats();
  readonly #observer: OrderObserver;
  readonly #permits = new Map<number, Permit>();
  readonly #listeners = new Map<number, OrderListener[]>();
  /** Idempotency keys whose first order is still being committed. */
  readonly #keysInFlight = new Map<string, Promise<Reply>>();
  /** Final states written but not yet followed by their permit release and notice. */
  readonly #finishing = new Set<Promise<void>>();
  #closing = false;

  constructor(options: OrderServiceOptions) {
    this.#store = options.store;
    this.#log = options.log;
    this.#verbose = options.log.level === "verbose";
    this.#semaphore = new AdmissionSemaphore(options.max);
    const observer = this.#observer = options.observer ?? NO_OBSERVER;
    this.#committer = new GroupCommitter(
      (inserts, updates) => {
        const started = performance.now();
        let ok = false;
        try {
          const ids = this.#store.commit(inserts, updates);
          ok = true;
          return ids;
        } finally {
          observer.committed(performance.now() - started, ok);
        }
      },
      { onError: (error) => this.#log.error(`no se pudo escribir en la base de datos: ${error}`) },
    );
    this.#pool = new WorkerPool({
      ...options.pool,
      events: {
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
   * Queues again the orders a crash left `en cola` or `en proceso`, in id
   * order. They were acknowledged, so they hold permits even beyond `max`.
   * Returns how many were recovered.
   */
  recover(): number {
    const orders = this.#store.unfinished();
    for (const order of orders) {
      this.#permits.set(order.id, this.#semaphore.forceAcquire());
      this.#stats.recordRecovered();
      this.#pool.submit(toJob(order));
    }
    this.#observer.recovered(orders.length);
    return orders.length;
  }

  /**
   * Admits an order: validates capacity, commits it, queues it. Resolves only
   * after the insert has committed, so an `ok` reply means the order is durable.
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
      const existing = this.#store.findIdByKey(clave);
      if (existing !== undefined) return Promise.resolve(this.#duplicate(existing, listener));
    }
    const permit = this.#semaphore.tryAcquire();
    if (!permit) return Promise.resolve(this.#reject("limite"));
    const reply = this.#admit(order, permit, listener);
    if (clave !== undefined) {
      this.#keysInFlight.set(clave, reply);
      reply.finally(() => this.#keysInFlight.delete(clave));
    }
    return reply;
  }

  async #admit(order: Order, permit: Permit, listener: OrderListener | undefined): Promise<Reply> {
    const pedido = {
      cliente: order.cliente,
      productos: order.productos,
      direccion: order.direccion,
    };
    let id: number;
    const recibido = Date.now();
    try {
      id = await this.#committer.insert({ ...pedido, clave: order.clave, recibido });
    } catch {
      permit.release();
      return this.#reject("interno", "el pedido no se pudo guardar");
    }
    this.#permits.set(id, permit);
    if (listener) {
      this.#listeners.set(id, [...(this.#listeners.get(id) ?? []), listener]);
      listener.watch(id);
    }
    this.#stats.recordAdmitted();
    this.#observer.received("accepted");
    this.#pool.submit({ id, pedido, intentos: 0, recibido });
    if (this.#verbose) this.#log.debug(`pedido #${id} encolado`);
    return accepted(id);
  }

  /**
   * The reply to an order resent under a known key. A listener follows the
   * original order: registered if it is still unfinished, told at once if
   * it already ended.
   */
  #duplicate(id: number, listener: OrderListener | undefined): Reply {
    this.#observer.received("duplicate");
    if (listener) {
      if (this.#permits.has(id)) {
        this.#listeners.set(id, [...(this.#listeners.get(id) ?? []), listener]);
        listener.watch(id);
      } else {
        const order = this.#store.findById(id);
        if (order && (order.estado === "listo" || order.estado === "fallido")) {
          listener.notify(finishedEvent({ ...order, estado: order.estado }));
        }
      }
    }
    return accepted(id, true);
  }

  /** The state and times of one order. */
  status(id: number): Reply {
    const order = this.#store.findById(id);
    return order ? statusReply(order) : failure("no_encontrado", `no existe el pedido #${id}`);
  }

  /** This run's statistics so far. */
  snapshot(): StatsSnapshot {
    return this.#stats.snapshot({ enCola: this.#pool.queued, enProceso: this.#pool.busy });
  }

  /** Counts a rejection decided outside the service (bad JSON, invalid order, oversize). */
  recordRejected(codigo: string): void {
    this.#stats.recordRejected(codigo);
    this.#observer.received(codigo);
  }

  /** Queue, workers and admission right now; cheap enough for every metrics scrape. */
  occupancy(): {
    enCola: number;
    enProceso: number;
    max: number;
    enUso: number;
    workersOcupados: number;
    workers: number;
  } {
    return {
      enCola: this.#pool.queued,
      enProceso: this.#pool.busy,
      max: this.#semaphore.capacity,
      enUso: this.#semaphore.inUse,
      workersOcupados: this.#pool.busyWorkers,
      workers: this.#pool.size,
    };
  }

  /** Activity counters for the periodic log line. */
  activity(): { admitidos: number; enCola: number; enProceso: number; escrituras: number } {
    const snapshot = this.snapshot();
    return {
      admitidos: snapshot.recibidos,
      enCola: snapshot.enCola,
      enProceso: snapshot.enProceso,
      escrituras: this.#committer.pending,
    };
  }

  /** From now on, new orders are answered `apagando`. */
  beginShutdown(): void {
    this.#closing = true;
  }

  /**
   * Lets orders in process finish (at most `drainMs`), leaves queued ones
   * `en cola`, writes every pending change and closes the store.
   */
  async shutdown(drainMs: number): Promise<ShutdownSummary> {
    this.beginShutdown();
    const { abandoned, queued } = await this.#pool.drain(drainMs);
    const unwrittenUpdates = this.#committer.close();
    // Notices read the store, so let every committed final state send its
    // notice before the store closes.
    await Promise.all(this.#finishing);
    const snapshot = this.#stats.snapshot({ enCola: queued.length, enProceso: abandoned.length });
    this.#store.close();
    this.#listeners.clear();
    for (const permit of this.#permits.values()) permit.release();
    this.#permits.clear();
    return { snapshot, abandoned: abandoned.length, queued: queued.length, unwrittenUpdates };
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
    const finishing: Promise<void> = this.#committer.update(update).then(
      () => {
        this.#permits.get(id)?.release();
        this.#permits.delete(id);
        this.#notify(id);
      },
      () => {},
    ).finally(() => this.#finishing.delete(finishing));
    this.#finishing.add(finishing);
  }

  #notify(id: number) {
    const listeners = this.#listeners.get(id);
    if (!listeners) return;
    this.#listeners.delete(id);
    let order: OrderView | undefined;
    try {
      order = this.#store.findById(id);
    } catch (error) {
      this.#log.error(`no se pudo leer el pedido #${id} para avisar: ${error}`);
      return;
    }
    if (!order || (order.estado !== "listo" && order.estado !== "fallido")) return;
    const event = finishedEvent({ ...order, estado: order.estado });
    for (const listener of listeners) if (listener.open) listener.notify(event);
  }
}

function toJob(order: OrderView): PoolJob {
  return {
    id: order.id,
    pedido: { cliente: order.cliente, productos: order.productos, direccion: order.direccion },
    intentos: order.intentos,
  };
}
