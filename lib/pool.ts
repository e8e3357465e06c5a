/**
 * The worker pool: a fixed number of sandboxed module Web Workers, each
 * processing one order at a time, fed in arrival order.
 *
 * A worker that throws, dies or overruns its time is terminated and replaced
 * under the same number; its order is retried or given up. The pool never
 * shrinks. It never touches the database: it reports through callbacks.
 *
 * @module
 */
import {
  cancel,
  createCancelCell,
  type WorkFailure,
  type WorkMode,
  type WorkOrder,
  type WorkRequest,
  type WorkResult,
} from "./work.ts";

/** An order waiting for, or in, a worker. */
export interface PoolJob {
  id: number;
  pedido: WorkOrder;
  /** Attempts already started (from the database for recovered orders). */
  intentos: number;
}

/** What the pool reports. `worker` is the slot number, 1..size. */
export interface PoolEvents {
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
  /** An attempt running longer than this is abandoned and its worker replaced. */
  timeoutMs: number;
  /** Extra attempts after the first failed one. */
  retries: number;
  events: PoolEvents;
  /** @default a module worker with `permissions: "none"` */
  createWorker?: WorkerFactory;
}

/**
 * The sandbox every order runs in: no file, network, environment, process
 * or FFI access. Needs Deno's unstable `worker-options`.
 */
export const sandboxedWorker: WorkerFactory = (url) =>
  new Worker(url, { type: "module", deno: { permissions: "none" } });

interface Slot {
  number: number;
  /** Undefined while waiting to be restarted after repeated failures. */
  worker: Worker | undefined;
  /** Set to stop the current worker's attempt; a new one per worker. */
  cancelCell: Int32Array;
  job: PoolJob | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Failures since the last successful order; drives the restart backoff. */
  failures: number;
  restartTimer: ReturnType<typeof setTimeout> | undefined;
}

/** First restart delay for a worker that keeps failing, doubling up to the maximum. */
const RESTART_DELAY_MS = 100;
const MAX_RESTART_DELAY_MS = 5000;

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
  readonly #slots: Slot[] = [];
  readonly #queue: PoolJob[] = [];
  #queueHead = 0;
  #busy = 0;
  #dispatching = true;
  #idleWaiters: (() => void)[] = [];

  /** @throws {RangeError} if size is not a positive integer */
  constructor(options: PoolOptions) {
    if (!Number.isSafeInteger(options.size) || options.size < 1) {
      throw new RangeError(
        `Cannot create a worker pool: size must be a positive integer, current value is ${options.size}`,
      );
    }
    this.#options = options;
    this.#createWorker = options.createWorker ?? sandboxedWorker;
    for (let number = 1; number <= options.size; number++) {
      const slot: Slot = {
        number,
        worker: undefined,
        cancelCell: createCancelCell(),
        job: undefined,
        timer: undefined,
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

  /** Orders waiting for a worker. */
  get queued(): number {
    return this.#queue.length - this.#queueHead;
  }

  /** Orders being processed right now. */
  get busy(): number {
    return this.#busy;
  }

  /** Adds an order at the back of the queue. */
  submit(job: PoolJob): void {
    this.#queue.push(job);
    this.#dispatch();
  }

  /**
   * Stops starting new orders and waits for those in process, at most
   * `timeoutMs`; then terminates every worker. Resolves with the orders still
   * in process at that point (they stay `en proceso` in the database and are
   * recovered at the next start) and those never started.
   */
  async drain(timeoutMs: number): Promise<{ abandoned: PoolJob[]; queued: PoolJob[] }> {
    this.#dispatching = false;
    if (this.#busy > 0) {
      const { promise, resolve } = Promise.withResolvers<void>();
      this.#idleWaiters.push(resolve);
      const timer = setTimeout(resolve, timeoutMs);
      await promise;
      clearTimeout(timer);
    }
    const abandoned = this.#slots.flatMap((slot) => slot.job ? [slot.job] : []);
    const queued = this.#queue.slice(this.#queueHead);
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
      slot.job = undefined;
    }
    this.#busy = 0;
    this.#queue.length = 0;
    this.#queueHead = 0;
    this.#wakeIdleWaiters();
  }

  #attach(slot: Slot) {
    const worker = this.#createWorker(this.#options.workerUrl);
    slot.cancelCell = createCancelCell();
    worker.onmessage = (event: MessageEvent<WorkResult | WorkFailure>) =>
      this.#onResult(slot, event.data);
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#onFailure(slot, `el worker falló: ${event.message}`);
    };
    worker.onmessageerror = () => this.#onFailure(slot, "el worker envió un mensaje ilegible");
    slot.worker = worker;
  }

  #dispatch() {
    if (!this.#dispatching) return;
    for (const slot of this.#slots) {
      if (this.queued === 0) break;
      if (slot.job || !slot.worker) continue;
      const job = this.#queue[this.#queueHead++]!;
      if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
        this.#queue.splice(0, this.#queueHead);
        this.#queueHead = 0;
      }
      this.#start(slot, job);
    }
  }

  #start(slot: Slot, job: PoolJob) {
    const { workMs, workMode, timeoutMs } = this.#options;
    slot.job = job;
    job.intentos++;
    this.#busy++;
    slot.timer = setTimeout(
      () => this.#onFailure(slot, `tiempo agotado: más de ${timeoutMs} ms`),
      timeoutMs,
    );
    this.#options.events.onStart(job, slot.number, Date.now());
    const request: WorkRequest = {
      id: job.id,
      workMs,
      workMode,
      pedido: job.pedido,
      cancel: slot.cancelCell,
    };
    slot.worker!.postMessage(request);
  }

  #finish(slot: Slot): PoolJob | undefined {
    const job = slot.job;
    if (!job) return undefined;
    clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.job = undefined;
    this.#busy--;
    return job;
  }

  #onResult(slot: Slot, result: WorkResult | WorkFailure) {
    if (!slot.job || result?.id !== slot.job.id) {
      this.#onFailure(slot, "el worker respondió por otro pedido");
      return;
    }
    if ("error" in result) {
      this.#onFailure(slot, `el worker falló: ${result.error}`);
      return;
    }
    const job = this.#finish(slot)!;
    slot.failures = 0;
    this.#options.events.onDone(job, slot.number, result);
    this.#afterSlotFreed();
  }

  #onFailure(slot: Slot, motivo: string) {
    // terminate() alone does not stop a thread that is sleeping or busy: the
    // cancel cell makes our own work loop give up first.
    cancel(slot.cancelCell);
    slot.worker?.terminate();
    slot.worker = undefined;
    slot.failures++;
    const job = this.#finish(slot);
    // One failure with an order is the order's doing: restart at once. A worker
    // that fails on its own, or again and again, is restarted with backoff so
    // a module that cannot load does not spin.
    if (job && slot.failures === 1) {
      this.#attach(slot);
    } else {
      const delay = Math.min(RESTART_DELAY_MS * 2 ** (slot.failures - 1), MAX_RESTART_DELAY_MS);
      if (!job) this.#options.events.onWorkerError(slot.number, motivo, delay);
      slot.restartTimer = setTimeout(() => {
        slot.restartTimer = undefined;
        if (!this.#dispatching) return;
        this.#attach(slot);
        this.#dispatch();
      }, delay);
    }
    if (job) {
      if (job.intentos <= this.#options.retries) {
        this.#options.events.onRetry(job, slot.number, motivo);
        this.#queue.splice(this.#queueHead, 0, job);
      } else {
        this.#options.events.onFail(job, slot.number, motivo, Date.now());
      }
    }
    this.#afterSlotFreed();
  }

  #afterSlotFreed() {
    if (this.#busy === 0) this.#wakeIdleWaiters();
    this.#dispatch();
  }

  #wakeIdleWaiters() {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }
}
