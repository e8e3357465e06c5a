/**
 * A load run spread over Web Workers (`--threads N`): each worker runs a
 * {@linkcode Driver} over its share of the connections (`tools/load/thread.ts`),
 * and the main thread only starts them, shows progress and adds up what they
 * found.
 *
 * Nothing crosses threads per order. The orders are shared out through one
 * counter in shared memory (`tools/load/source.ts`); progress is two shared
 * counters per worker, written on its watchdog ticks; latencies travel in
 * batches of {@linkcode LATENCY_BATCH} samples, transferred rather than
 * copied, and the main thread records every one into the run's histogram,
 * so the percentiles are those of one thread measuring everything; the
 * counts by `codigo`, the ledger for `--verify` and the loop's lag arrive
 * once, at the end.
 *
 * @module
 */
import type { LoadOptions } from "./options.ts";
import type { LatencySink, Tally, TallyCounts } from "./report.ts";
import type { Ledger, LedgerPart } from "./verify.ts";

/** Latency samples per message from a worker: 512 KiB, a few messages a second at most. */
export const LATENCY_BATCH = 65_536;

/** What a run sends, with an open loop's start on the clock every thread shares. */
export type SharedPlan =
  | { orders: number }
  | { rate: number; durationMs: number; startEpochMs: number };

/** How a run's driving went, on whichever threads. */
export interface DriveResult {
  /** When the last order got its outcome, epoch milliseconds. */
  lastOutcomeEpochMs: number;
  /** Why the run (or a thread's share of it) stopped early, if it did. */
  aborted?: string;
  /** How late each watchdog tick of the driving threads fired, ms. */
  lagSamplesMs: number[];
}

/** From the main thread to a worker. */
export type ToThread =
  | {
    tipo: "abrir";
    options: LoadOptions;
    tag: string;
    lanes: number;
    /** The run's counter of orders handed out. */
    counter: SharedArrayBuffer;
    /** Two counters per worker: orders with an outcome, and errors among them. */
    progress: SharedArrayBuffer;
    slot: number;
    /** Whether to keep a ledger (for `--verify`). */
    ledger: boolean;
  }
  | { tipo: "empezar"; plan: SharedPlan };

/** How a worker's share ended. */
export interface ThreadResult {
  counts: TallyCounts;
  /** The latencies not sent in a batch yet. */
  samples: Float64Array<ArrayBuffer>;
  ledger?: LedgerPart;
  /** When its last order got its outcome, epoch milliseconds. */
  lastOutcomeEpochMs: number;
  aborted?: string;
  lagSamplesMs: number[];
}

/** From a worker to the main thread. */
export type FromThread =
  | { tipo: "abierto" }
  | { tipo: "latencias"; samples: Float64Array<ArrayBuffer> }
  | ({ tipo: "fin" } & ThreadResult)
  | { tipo: "fallo"; mensaje: string };

/**
 * Collects latencies in fixed-size batches and hands each full one over.
 *
 * @example
 * ```ts
 * const sent: Float64Array[] = [];
 * const batch = new LatencyBatch(2, (samples) => sent.push(samples));
 * batch.record(1.5);
 * batch.record(2.5); // sent: [[1.5, 2.5]]
 * batch.record(3);
 * batch.take(); // [3]
 * ```
 */
export class LatencyBatch implements LatencySink {
  readonly #capacity: number;
  readonly #onFull: (samples: Float64Array<ArrayBuffer>) => void;
  #buffer: Float64Array<ArrayBuffer>;
  #size = 0;

  constructor(capacity: number, onFull: (samples: Float64Array<ArrayBuffer>) => void) {
    this.#capacity = capacity;
    this.#onFull = onFull;
    this.#buffer = new Float64Array(capacity);
  }

  record(valueMs: number): void {
    this.#buffer[this.#size++] = valueMs;
    if (this.#size < this.#capacity) return;
    const full = this.#buffer;
    this.#buffer = new Float64Array(this.#capacity);
    this.#size = 0;
    this.#onFull(full);
  }

  /** The samples recorded since the last full batch, leaving it empty. */
  take(): Float64Array<ArrayBuffer> {
    const rest = this.#buffer.slice(0, this.#size);
    this.#size = 0;
    return rest;
  }
}

/**
 * Splits `total` into `parts` whole shares that differ by at most one,
 * larger first.
 *
 * @example
 * ```ts
 * splitEvenly(50, 4); // [13, 13, 12, 12]
 * ```
 */
export function splitEvenly(total: number, parts: number): number[] {
  const base = Math.floor(total / parts);
  return Array.from({ length: parts }, (_, i) => base + (i < total % parts ? 1 : 0));
}

/** The main thread's side of a run on workers. */
export class ThreadPool {
  readonly #workers: Worker[];
  readonly #progress: Int32Array;
  readonly #failed = Promise.withResolvers<never>();
  #onMessage: ((index: number, message: FromThread) => void) | undefined;

  private constructor(workers: Worker[], progress: Int32Array) {
    this.#workers = workers;
    this.#progress = progress;
    workers.forEach((worker, index) => {
      worker.onmessage = (event: MessageEvent<FromThread>) => {
        if (event.data.tipo === "fallo") this.#fail(event.data.mensaje);
        else this.#onMessage?.(index, event.data);
      };
      worker.onerror = (event) => {
        event.preventDefault();
        this.#fail(event.message);
      };
    });
    // Whoever awaits the run sees the failure; nobody else has to.
    this.#failed.promise.catch(() => {});
  }

  /**
   * Starts `threads` workers, gives each its share of `options.concurrency`
   * connections, and waits until every one has them open (pipeline mode)
   * and is ready to send.
   *
   * @throws {Error} if a worker fails to start
   */
  static async open(options: LoadOptions, tag: string, threads: number): Promise<ThreadPool> {
    const counter = new SharedArrayBuffer(4);
    const progress = new SharedArrayBuffer(8 * threads);
    const workers: Worker[] = [];
    try {
      while (workers.length < threads) {
        workers.push(new Worker(new URL("./thread.ts", import.meta.url), { type: "module" }));
      }
    } catch (error) {
      for (const worker of workers) worker.terminate();
      throw error;
    }
    const pool = new ThreadPool(workers, new Int32Array(progress));
    try {
      await pool.#untilEach("abierto", (worker, slot, lanes) =>
        worker.postMessage(
          {
            tipo: "abrir",
            options,
            tag,
            lanes,
            counter,
            progress,
            slot,
            ledger: options.verify !== undefined,
          } satisfies ToThread,
        ), splitEvenly(options.concurrency, threads));
    } catch (error) {
      pool.close();
      throw error;
    }
    return pool;
  }

  /** Orders with an outcome so far, and errors among them, as of the workers' last ticks. */
  progress(): { done: number; errors: number } {
    let done = 0;
    let errors = 0;
    for (let slot = 0; slot < this.#workers.length; slot++) {
      done += Atomics.load(this.#progress, 2 * slot);
      errors += Atomics.load(this.#progress, 2 * slot + 1);
    }
    return { done, errors };
  }

  /**
   * Runs the plan on every worker; adds their counts and latencies to
   * `tally` and their acknowledgements to `ledger`. The first worker to
   * stop early names why in `aborted`; the others carry on with the orders.
   */
  async drive(plan: SharedPlan, tally: Tally, ledger: Ledger | undefined): Promise<DriveResult> {
    let lastOutcomeEpochMs = 0;
    let aborted: string | undefined;
    const lagSamplesMs: number[] = [];
    const record = (samples: Float64Array<ArrayBuffer>) => {
      for (let i = 0; i < samples.length; i++) tally.latency.record(samples[i]!);
    };
    await this.#untilEach(
      "fin",
      (worker) => {
        worker.postMessage({ tipo: "empezar", plan } satisfies ToThread);
      },
      undefined,
      (message) => {
        if (message.tipo === "latencias") record(message.samples);
        if (message.tipo !== "fin") return;
        tally.add(message.counts);
        record(message.samples);
        if (message.ledger) ledger?.merge(message.ledger);
        lastOutcomeEpochMs = Math.max(lastOutcomeEpochMs, message.lastOutcomeEpochMs);
        aborted ??= message.aborted;
        lagSamplesMs.push(...message.lagSamplesMs);
      },
    );
    return { lastOutcomeEpochMs, ...(aborted ? { aborted } : {}), lagSamplesMs };
  }

  /** Stops every worker. */
  close(): void {
    for (const worker of this.#workers) worker.terminate();
  }

  #fail(message: string) {
    this.#failed.reject(new Error(`un hilo de la carga falló: ${message}`));
  }

  /**
   * Sends each worker its message and waits until each has answered with
   * `tipo`, passing every message to `onEach` meanwhile.
   */
  async #untilEach(
    tipo: "abierto" | "fin",
    send: (worker: Worker, slot: number, share: number) => void,
    shares?: number[],
    onEach?: (message: FromThread) => void,
  ): Promise<void> {
    let waiting = this.#workers.length;
    const all = Promise.withResolvers<void>();
    this.#onMessage = (_, message) => {
      onEach?.(message);
      if (message.tipo === tipo && --waiting === 0) all.resolve();
    };
    this.#workers.forEach((worker, slot) => send(worker, slot, shares?.[slot] ?? 0));
    try {
      await Promise.race([all.promise, this.#failed.promise]);
    } finally {
      this.#onMessage = undefined;
    }
  }
}
