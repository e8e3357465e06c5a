/**
 * The worker pool: a fixed number of sandboxed module Web Workers, each
 * processing one order at a time, fed in arrival order.
 *
 * A message to a worker and its answer take a few hundred microseconds, so a
 * worker that waited for each answer before getting its next order would sit
 * idle that long between orders. Each worker therefore holds a short queue of
 * its own (see {@linkcode pipeliningFor}): it still runs its orders one at a
 * time, in order, and the pool knows an order has started when the one
 * before it on that worker has finished.
 *
 * A worker that throws, dies or overruns its time is terminated and replaced
 * under the same number; its current order is retried or given up, and the
 * orders waiting at it go back to the front of the queue untouched. The pool
 * never shrinks. It never touches the database: it reports through callbacks.
 *
 * Time is judged by the worker's own clock: the worker notes in shared memory
 * which order it runs and since when (see {@linkcode readProgress}), and
 * reports each order's start and end. The pool's timer only says when to
 * look: a main thread busy for a while fires it late, after orders that
 * finished in time, and their results, not yet read, must not count as
 * timeouts.
 *
 * @module
 */
import {
  cancel,
  createCancelCell,
  readProgress,
  stopAfter,
  type WorkMode,
  type WorkOrder,
  type WorkReply,
  type WorkRequest,
  type WorkResult,
} from "./work.ts";
import { abortNoticeMs } from "./processor.ts";
import type { ClaimedOrder } from "../store/types.ts";

/** An order waiting for, or in, a worker. */
export interface PoolJob {
  id: number;
  pedido: WorkOrder;
  /** Attempts already started (from the database for recovered orders). */
  intentos: number;
  /** Epoch ms when this run received it; absent for recovered orders. Only read by observers. */
  recibido?: number;
}

/**
 * The job for an order already stored (recovered at start-up, or claimed
 * from a cluster's queue): its attempts so far come from the database.
 *
 * @example
 * ```ts
 * storedJob({ id: 7, cliente: "Ana", productos: ["pan"], direccion: "C 1",
 *   fecha_recibido: "2026-12-01T10:00:00.000Z", intentos: 1 }).intentos; // 1
 * ```
 */
export function storedJob(order: ClaimedOrder): PoolJob {
  return {
    id: order.id,
    pedido: {
      cliente: order.cliente,
      productos: order.productos,
      direccion: order.direccion,
      recibido: Date.parse(order.fecha_recibido),
    },
    intentos: order.intentos,
  };
}

/** What the pool reports. `worker` is the slot number, 1..size. */
export interface PoolEvents {
  /** The order started on a worker (an attempt, counted in `intentos`). */
  onStart(job: PoolJob, worker: number, at: number): void;
  onDone(job: PoolJob, worker: number, result: WorkResult): void;
  /** The attempt failed and the order went back to the head of the queue. */
  onRetry(job: PoolJob, worker: number, motivo: string): void;
  /** The last allowed attempt failed. */
  onFail(job: PoolJob, worker: number, motivo: string, at: number): void;
  /** A worker failed with no order (e.g. its module did not load); it is restarted after `retryInMs`. */
  onWorkerError(worker: number, motivo: string, retryInMs: number): void;
}

/** Creates one worker; tests substitute misbehaving workers through `workerUrl`. */
export type WorkerFactory = (url: URL) => Worker;

/** Options for {@linkcode WorkerPool}. */
export interface PoolOptions {
  /** Number of workers. */
  size: number;
  /** The worker module. */
  workerUrl: URL;
  /** Simulated processing time per order. */
  workMs: number;
  workMode: WorkMode;
  /** With `workMode: "cpu"`: each order's iterations of the work kernel (see `calibration.ts`). */
  cpuIterations?: number;
  /** The shop's processor module (URL), run instead of the simulated work. */
  processor?: string;
  /**
   * An attempt that runs longer than this, by the worker's clock, is a
   * timeout: if it is still running, it is abandoned and its worker replaced.
   */
  timeoutMs: number;
  /** Extra attempts after the first failed one. */
  retries: number;
  events: PoolEvents;
  /** @default a module worker with `permissions: "none"` */
  createWorker?: WorkerFactory;
}

/**
 * Module workers with exactly these permissions (see
 * `processor_permissions.ts`). Needs Deno's unstable `worker-options`.
 */
export function workerWith(permissions: Deno.PermissionOptions): WorkerFactory {
  return (url) => new Worker(url, { type: "module", deno: { permissions } });
}

/**
 * The sandbox the simulated work runs in: no file, network, environment,
 * process or FFI access.
 */
export const sandboxedWorker: WorkerFactory = workerWith("none");

/** How orders travel to one worker: `batch` orders per message, `depth` messages outstanding. */
export interface Pipelining {
  batch: number;
  depth: number;
}

/**
 * How the pool feeds a worker. A message to a worker and its answer take a
 * few hundred microseconds and about 13 µs of the main thread's time, so:
 * orders with real work (simulated, or a processor's) go one per message,
 * two messages outstanding (the next order is already there when the
 * current one ends); orders with no work go 64 per message (about 2 µs
 * each), four messages outstanding.
 *
 * @example
 * ```ts
 * pipeliningFor(2000); // { batch: 1, depth: 2 }
 * pipeliningFor(0); // { batch: 64, depth: 4 }
 * pipeliningFor(0, true); // { batch: 1, depth: 2 }
 * ```
 */
export function pipeliningFor(workMs: number, processor = false): Pipelining {
  return workMs < 1 && !processor ? { batch: 64, depth: 4 } : { batch: 1, depth: 2 };
}

interface Slot {
  number: number;
  /** Undefined while waiting to be restarted after repeated failures. */
  worker: Worker | undefined;
  /** Set to stop the current worker's attempt; a new one per worker. */
  cancelCell: Int32Array;
  /** Messages sent to this worker, in order, each a list of orders; the first may be running. */
  batches: PoolJob[][];
  /** Whether `batches[0]` has started. */
  running: boolean;
  /** `seq` of the last message sent to this worker (see `WorkRequest.seq`). */
  sent: number;
  /** When to look again at the running message's progress. */
  timer: ReturnType<typeof setTimeout> | undefined;
  /** `seq` of a message the worker finished whose answer was due at the last look; 0 if none. */
  answerDue: number;
  /** Failures since the last successful order; drives the restart backoff. */
  failures: number;
  restartTimer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * How long after the worker finished a message its answer may still be
 * unread: a late timer runs before the messages that arrived meanwhile, and
 * a main thread kept busy (a client flooding requests) was seen to leave a
 * worker's answer unread for over 100 ms. An answer still missing after this
 * is lost (a worker terminated from outside after its last order).
 */
const ANSWER_GRACE_MS = 1000;

/** First restart delay for a worker that keeps failing, doubling up to the maximum. */
const RESTART_DELAY_MS = 100;
const MAX_RESTART_DELAY_MS = 5000;

/** The worker pool as the pools in front of it feed it (see `BacklogPool`, `ClusterPool`). */
export type LocalPool = Pick<
  WorkerPool,
  "submit" | "queued" | "busy" | "busyWorkers" | "size" | "drain"
>;

/**
 * @example
 * ```ts
 * const pool = new WorkerPool({ size: 3, workerUrl, workMs: 50, workMode: "sleep",
 *   timeoutMs: 5000, retries: 2, events });
 * pool.submit({ id: 1, pedido, intentos: 0 });
 * await pool.drain(1000);
 * ```
 */
export class WorkerPool {
  readonly #options: PoolOptions;
  readonly #createWorker: WorkerFactory;
  readonly #pipelining: Pipelining;
  readonly #slots: Slot[] = [];
  readonly #queue: PoolJob[] = [];
  #queueHead = 0;
  /** Orders sent to workers, running or waiting there. */
  #atWorkers = 0;
  #dispatching = true;
  /** A dispatch is due at the end of the current task (see `submit`). */
  #dispatchQueued = false;
  #idleWaiters: (() => void)[] = [];

  /** @throws {RangeError} if size is not a positive integer */
  constructor(options: PoolOptions) {
    if (!Number.isSafeInteger(options.size) || options.size < 1) {
      throw new RangeError(
        `el número de workers debe ser un entero positivo, no ${options.size}`,
      );
    }
    this.#options = options;
    this.#createWorker = options.createWorker ?? sandboxedWorker;
    this.#pipelining = pipeliningFor(options.workMs, options.processor !== undefined);
    for (let number = 1; number <= options.size; number++) {
      const slot: Slot = {
        number,
        worker: undefined,
        cancelCell: createCancelCell(),
        batches: [],
        running: false,
        sent: 0,
        timer: undefined,
        answerDue: 0,
        failures: 0,
        restartTimer: undefined,
      };
      this.#attach(slot);
      this.#slots.push(slot);
    }
  }

  /** Workers in the pool (constant). */
  get size(): number {
    return this.#slots.length;
  }

  /** Orders not started yet, in the pool's queue or waiting at a worker. */
  get queued(): number {
    return this.#queue.length - this.#queueHead + this.#atWorkers - this.busy;
  }

  /** Orders being processed right now: at most one per worker. */
  get busy(): number {
    let running = 0;
    for (const slot of this.#slots) if (slot.running) running += slot.batches[0]!.length;
    return running;
  }

  /** Workers processing an order right now (with batches, a busy worker holds several). */
  get busyWorkers(): number {
    let busy = 0;
    for (const slot of this.#slots) if (slot.running) busy++;
    return busy;
  }

  /**
   * Adds an order at the back of the queue. Orders with no work travel
   * several to a message, so they are sent once the current task's
   * submissions are all in (a microtask later): a group commit's orders
   * arrive one continuation at a time, and would otherwise go one per message
   * whenever a worker had room.
   */
  submit(job: PoolJob): void {
    this.#queue.push(job);
    if (this.#pipelining.batch === 1) {
      this.#dispatch();
    } else if (!this.#dispatchQueued) {
      this.#dispatchQueued = true;
      queueMicrotask(() => {
        this.#dispatchQueued = false;
        this.#dispatch();
      });
    }
  }

  /**
   * Stops handing out orders and waits, at most `timeoutMs`, for the orders
   * already at workers; then terminates every worker. Resolves with the
   * orders still running at that point (they stay `en proceso` in the
   * database and are recovered at the next start) and those never started.
   * A processor still running near the end gets its abort signal (see
   * `abortNoticeMs`); one that stops hands its order back unfinished.
   */
  async drain(timeoutMs: number): Promise<{ abandoned: PoolJob[]; queued: PoolJob[] }> {
    this.#dispatching = false;
    // Orders waiting at a worker come back unstarted; the running ones finish.
    for (const slot of this.#slots) {
      stopAfter(slot.cancelCell, slot.running ? slot.sent - slot.batches.length + 1 : 0);
    }
    if (this.#atWorkers > 0) {
      const { promise, resolve } = Promise.withResolvers<void>();
      this.#idleWaiters.push(resolve);
      const timer = setTimeout(resolve, timeoutMs);
      const notice = this.#options.processor === undefined ? undefined : setTimeout(() => {
        for (const slot of this.#slots) cancel(slot.cancelCell);
      }, timeoutMs - abortNoticeMs(timeoutMs));
      await promise;
      clearTimeout(timer);
      clearTimeout(notice);
    }
    const abandoned = this.#slots.flatMap((slot) => slot.running ? slot.batches[0]! : []);
    const queued = [
      ...this.#slots.flatMap((slot) =>
        (slot.running ? slot.batches.slice(1) : slot.batches).flat()
      ),
      ...this.#queue.slice(this.#queueHead),
    ];
    this.terminate();
    return { abandoned, queued };
  }

  /** Terminates every worker at once, abandoning their orders. */
  terminate(): void {
    this.#dispatching = false;
    for (const slot of this.#slots) {
      clearTimeout(slot.timer);
      clearTimeout(slot.restartTimer);
      cancel(slot.cancelCell);
      slot.worker?.terminate();
      slot.worker = undefined;
      slot.batches = [];
      slot.running = false;
    }
    this.#atWorkers = 0;
    this.#queue.length = 0;
    this.#queueHead = 0;
    this.#wakeIdleWaiters();
  }

  #attach(slot: Slot) {
    const worker = this.#createWorker(this.#options.workerUrl);
    slot.cancelCell = createCancelCell();
    slot.sent = 0;
    slot.answerDue = 0;
    worker.onmessage = (event: MessageEvent<WorkReply | WorkReply[]>) =>
      this.#onResults(slot, Array.isArray(event.data) ? event.data : [event.data]);
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#onFailure(slot, `el worker falló: ${event.message}`);
    };
    worker.onmessageerror = () => this.#onFailure(slot, "el worker envió un mensaje ilegible");
    slot.worker = worker;
  }

  #dispatch() {
    if (!this.#dispatching) return;
    const { batch, depth } = this.#pipelining;
    // Round by round, so that orders spread over the workers before any
    // worker gets a second message.
    for (let round = 0; round < depth && this.#queue.length > this.#queueHead; round++) {
      for (const slot of this.#slots) {
        if (this.#queue.length === this.#queueHead) break;
        if (!slot.worker || slot.batches.length > round) continue;
        this.#send(slot, this.#take(batch));
      }
    }
  }

  #take(count: number): PoolJob[] {
    const end = Math.min(this.#queueHead + count, this.#queue.length);
    const jobs = this.#queue.slice(this.#queueHead, end);
    this.#queueHead = end;
    if (this.#queueHead === this.#queue.length) {
      this.#queue.length = 0;
      this.#queueHead = 0;
    } else if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#queueHead);
      this.#queueHead = 0;
    }
    return jobs;
  }

  #send(slot: Slot, jobs: PoolJob[]) {
    const { workMs, workMode, cpuIterations, processor, timeoutMs } = this.#options;
    slot.batches.push(jobs);
    this.#atWorkers += jobs.length;
    const seq = ++slot.sent;
    const requests = jobs.map((job): WorkRequest => ({
      id: job.id,
      workMs,
      workMode,
      ...(cpuIterations === undefined ? {} : { cpuIterations }),
      pedido: job.pedido,
      seq,
      cancel: slot.cancelCell,
      ...(processor === undefined
        ? {}
        : { procesador: { url: processor, timeoutMs, intento: job.intentos + 1 } }),
    }));
    slot.worker!.postMessage(requests.length === 1 ? requests[0] : requests);
    if (slot.batches.length === 1) this.#started(slot, Date.now());
  }

  /** The slot's first message is now running: an attempt for each of its orders. */
  #started(slot: Slot, at: number) {
    const jobs = slot.batches[0]!;
    slot.running = true;
    for (const job of jobs) {
      job.intentos++;
      this.#options.events.onStart(job, slot.number, at);
    }
    this.#watch(slot, this.#options.timeoutMs);
  }

  #watch(slot: Slot, delay: number) {
    slot.timer = setTimeout(() => this.#checkTime(slot), delay);
  }

  /**
   * The timer of the running message fired. It may fire late, so the
   * worker's own notes decide: an order of this message running for more
   * than `timeoutMs` is a timeout, one running for less is looked at again
   * when its time is up; a message the worker never started is a timeout too
   * (the worker is not taking messages). A message the worker finished has
   * its answer on the way: looked at once more, after `ANSWER_GRACE_MS`,
   * and a failure if the answer has still not come.
   */
  #checkTime(slot: Slot) {
    slot.timer = undefined;
    const { timeoutMs } = this.#options;
    const seq = slot.sent - slot.batches.length + 1;
    const progress = readProgress(slot.cancelCell);
    if (progress.running === seq) {
      const ranFor = Date.now() - progress.startedAt;
      if (ranFor <= timeoutMs) return this.#watch(slot, timeoutMs - ranFor + 1);
    } else if (progress.finished >= seq) {
      if (slot.answerDue !== seq) {
        slot.answerDue = seq;
        return this.#watch(slot, ANSWER_GRACE_MS);
      }
      return this.#onFailure(slot, "el worker terminó sin entregar su respuesta");
    }
    this.#onFailure(slot, timedOut(timeoutMs));
  }

  #onResults(slot: Slot, results: readonly WorkReply[]) {
    const jobs = slot.batches[0];
    if (!jobs || results.length !== jobs.length || results.some((r, i) => r?.id !== jobs[i]!.id)) {
      this.#onFailure(slot, "el worker respondió por otro pedido");
      return;
    }
    clearTimeout(slot.timer);
    slot.timer = undefined;
    const wasRunning = slot.running;
    slot.batches.shift();
    slot.running = false;
    this.#atWorkers -= jobs.length;
    let lastFin = Date.now();
    jobs.forEach((job, i) => {
      const result = results[i]!;
      if ("omitido" in result) {
        this.#queue.push(job);
        return;
      }
      if (!wasRunning) {
        // It started before a drain could stop it: record the attempt now.
        job.intentos++;
        this.#options.events.onStart(
          job,
          slot.number,
          "inicio" in result ? result.inicio : lastFin,
        );
      }
      if ("error" in result) {
        this.#retryOrFail(job, slot.number, `el worker falló: ${result.error}`);
      } else if ("motivo" in result) {
        lastFin = result.fin;
        this.#retryOrFail(job, slot.number, result.motivo);
      } else if (result.fin - result.inicio > this.#options.timeoutMs) {
        // It overran while the main thread was too busy to stop it in time.
        lastFin = result.fin;
        this.#retryOrFail(job, slot.number, timedOut(this.#options.timeoutMs));
      } else {
        slot.failures = 0;
        lastFin = result.fin;
        this.#options.events.onDone(job, slot.number, result);
      }
    });
    // The worker goes straight on to its next message as it finishes this one
    // (unless a drain told it to start no more).
    if (slot.batches.length > 0 && this.#dispatching) this.#started(slot, lastFin);
    this.#afterProgress();
  }

  #retryOrFail(job: PoolJob, worker: number, motivo: string) {
    if (job.intentos <= this.#options.retries) {
      this.#options.events.onRetry(job, worker, motivo);
      this.#queue.splice(this.#queueHead, 0, job);
    } else {
      this.#options.events.onFail(job, worker, motivo, Date.now());
    }
  }

  #onFailure(slot: Slot, motivo: string) {
    // terminate() alone does not stop a thread that is sleeping or busy: the
    // cancel cell makes our own work loop give up first.
    cancel(slot.cancelCell);
    slot.worker?.terminate();
    slot.worker = undefined;
    slot.failures++;
    clearTimeout(slot.timer);
    slot.timer = undefined;
    const running = slot.running ? slot.batches[0]! : [];
    const waiting = (slot.running ? slot.batches.slice(1) : slot.batches).flat();
    slot.batches = [];
    slot.running = false;
    this.#atWorkers -= waiting.length + running.length;
    // Orders waiting at the worker never started: back to the front, in order.
    this.#queue.splice(this.#queueHead, 0, ...waiting);
    for (const job of running.toReversed()) this.#retryOrFail(job, slot.number, motivo);
    // One failure with an order is the order's doing: restart at once. A worker
    // that fails on its own, or again and again, is restarted with backoff so
    // a module that cannot load does not spin.
    if (running.length > 0 && slot.failures === 1) {
      this.#attach(slot);
    } else {
      const delay = Math.min(RESTART_DELAY_MS * 2 ** (slot.failures - 1), MAX_RESTART_DELAY_MS);
      if (running.length === 0) this.#options.events.onWorkerError(slot.number, motivo, delay);
      slot.restartTimer = setTimeout(() => {
        slot.restartTimer = undefined;
        if (!this.#dispatching) return;
        this.#attach(slot);
        this.#dispatch();
      }, delay);
    }
    this.#afterProgress();
  }

  #afterProgress() {
    if (this.#atWorkers === 0) this.#wakeIdleWaiters();
    this.#dispatch();
  }

  #wakeIdleWaiters() {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }
}

function timedOut(timeoutMs: number): string {
  return `tiempo agotado: más de ${timeoutMs} ms`;
}
