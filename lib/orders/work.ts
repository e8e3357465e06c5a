/**
 * The simulated processing an order goes through inside a worker, as in the
 * seed (`time.sleep`). Pure functions of the request; the worker module only
 * wires them to messages.
 *
 * @module
 */

/**
 * `sleep` blocks the thread like `time.sleep`; `cpu` computes a fixed amount
 * per order (see {@linkcode burnCpu}), keeping a core busy.
 */
export type WorkMode = "sleep" | "cpu";

/** The order content a worker sees: no ids of other systems, no paths. */
export interface WorkOrder {
  cliente: string;
  productos: string[];
  direccion: string;
  /** Epoch milliseconds when the server received it. */
  recibido: number;
}

/** What a worker needs to run the shop's processor instead of simulated work. */
export interface ProcessorJob {
  /** The processor module's URL. */
  url: string;
  /** `--timeout-ms`: the processor's signal fires shortly before it. */
  timeoutMs: number;
  /** This attempt's number, from 1. */
  intento: number;
}

/** Main thread → worker: process this order. */
export interface WorkRequest {
  id: number;
  workMs: number;
  workMode: WorkMode;
  /**
   * With `workMode: "cpu"`: the order's work, in iterations of
   * {@linkcode cpuKernel}; the server calibrates how many make `workMs` on
   * one core (`calibration.ts`).
   */
  cpuIterations?: number;
  pedido: WorkOrder;
  /** Position of this order's message among those sent to this worker, from 1. */
  seq?: number;
  /**
   * Cells shared with the pool (see {@linkcode createCancelCell}): one to
   * abandon the running attempt (a timeout), one holding the last `seq` a
   * drain still lets start. `Worker.terminate()` cannot interrupt a thread
   * that is blocked or busy, so the work itself watches these cells. The
   * work also notes there which order it is running and since when (see
   * {@linkcode readProgress}).
   */
  cancel?: Int32Array;
  /** Run this processor on the order; without it, the simulated work. */
  procesador?: ProcessorJob;
}

/** Worker → main thread: the order is processed. Times are epoch milliseconds. */
export interface WorkResult {
  id: number;
  inicio: number;
  fin: number;
  /** The processor's result as JSON text; absent if it returned none. */
  resultado?: string;
}

/** Worker → main thread: the processor failed the attempt; `motivo` is the reason to record. */
export interface WorkRejected {
  id: number;
  inicio: number;
  fin: number;
  motivo: string;
}

/** Worker → main thread: processing threw; the pool treats it as a failed attempt. */
export interface WorkFailure {
  id: number;
  error: string;
}

/** Worker → main thread: the order was handed back without starting (a drain). */
export interface WorkSkipped {
  id: number;
  omitido: true;
}

/** What a worker answers for one order. */
export type WorkReply = WorkResult | WorkRejected | WorkFailure | WorkSkipped;

/** Cell 0: keep working, or abandon the running order. */
const RUN = 0;
const STOP_NOW = 1;
/** Cell 1: no limit, or the last `seq` allowed to start. */
const NO_LIMIT = 0;
/** Cell 2: `seq` of the order running now, 0 if none; cell 3: `seq` of the last one finished. */
const RUNNING = 2;
const FINISHED = 3;
/** Byte offset of the running order's start (epoch ms), a 64-bit cell after the four above. */
const STARTED_AT_OFFSET = 4 * Int32Array.BYTES_PER_ELEMENT;

/** Creates the cancel cells for one worker's orders. */
export function createCancelCell(): Int32Array {
  const buffer = new SharedArrayBuffer(STARTED_AT_OFFSET + BigInt64Array.BYTES_PER_ELEMENT);
  return new Int32Array(buffer, 0, STARTED_AT_OFFSET / Int32Array.BYTES_PER_ELEMENT);
}

function startedAtCell(cell: Int32Array): BigInt64Array {
  return new BigInt64Array(cell.buffer, STARTED_AT_OFFSET, 1);
}

/** What a worker is doing, as it noted it in its cells (see {@linkcode readProgress}). */
export interface WorkProgress {
  /** `seq` of the order running now; 0 if none. */
  running: number;
  /** Epoch ms when the running order started, by the worker's clock. */
  startedAt: number;
  /** `seq` of the last order finished; 0 if none. */
  finished: number;
}

/**
 * What the worker is doing right now, read from its cells without waiting
 * for its messages. The pool's timer may fire late (the main thread was
 * busy) while a result is already on its way; this is how it tells an order
 * that ran out of time from one whose answer it has not read yet.
 *
 * @example
 * ```ts
 * const cell = createCancelCell();
 * readProgress(cell); // { running: 0, startedAt: 0, finished: 0 }
 * ```
 */
export function readProgress(cell: Int32Array): WorkProgress {
  const running = Atomics.load(cell, RUNNING);
  return {
    running,
    startedAt: Number(Atomics.load(startedAtCell(cell), 0)),
    finished: Atomics.load(cell, FINISHED),
  };
}

/** Notes in the cells that the order of message `seq` started at `at` (see {@linkcode readProgress}). */
export function noteStarted(cell: Int32Array, seq: number, at: number): void {
  Atomics.store(startedAtCell(cell), 0, BigInt(at));
  Atomics.store(cell, RUNNING, seq);
}

/** Notes in the cells that the order of message `seq` has ended. */
export function noteFinished(cell: Int32Array, seq: number): void {
  Atomics.store(cell, FINISHED, seq);
  Atomics.store(cell, RUNNING, 0);
}

/** Abandons the running attempt: sets the cell and wakes a thread sleeping on it. */
export function cancel(cell: Int32Array): void {
  Atomics.store(cell, 0, STOP_NOW);
  Atomics.notify(cell, 0);
}

/**
 * Resolves when `cell` is cancelled (at once if it already is), without
 * blocking the thread: how asynchronous work in a worker hears of it.
 */
export async function whenCancelled(cell: Int32Array): Promise<void> {
  while (Atomics.load(cell, 0) === RUN) {
    const waiting = Atomics.waitAsync(cell, 0, RUN);
    if (waiting.async) await waiting.value;
  }
}

/**
 * Lets orders up to `lastSeq` run (the one running) and hands back the rest
 * unstarted; `lastSeq` 0 or less lets none start.
 */
export function stopAfter(cell: Int32Array, lastSeq: number): void {
  Atomics.store(cell, 1, lastSeq > 0 ? lastSeq : -1);
}

/** Whether a request may start: its worker is not being stopped and a drain still lets it. */
export function mayStart(request: WorkRequest): boolean {
  const cell = request.cancel;
  if (!cell) return true;
  if (Atomics.load(cell, 0) !== RUN) return false;
  const limit = Atomics.load(cell, 1);
  return limit === NO_LIMIT || (request.seq ?? 0) <= limit;
}

const neverCancelled = createCancelCell();

/**
 * `Atomics.wait` wakes up to about a millisecond late, which over many short
 * orders shows as lost parallelism; the last stretch is spun instead.
 */
const SPIN_MS = 1;

/**
 * Blocks the calling thread for `ms` milliseconds (sleeping all but the last
 * millisecond), or until `cell` is cancelled.
 */
export function sleepBlocking(ms: number, cell: Int32Array = neverCancelled): void {
  if (ms <= 0) return;
  const deadline = performance.now() + ms;
  if (ms > SPIN_MS) Atomics.wait(cell, 0, RUN, ms - SPIN_MS);
  while (performance.now() < deadline && Atomics.load(cell, 0) !== STOP_NOW) {
    // The final sub-millisecond, precisely.
  }
}

/** Where every order's computation starts from. */
export const KERNEL_SEED = 0x2545f491;

/** Iterations of {@linkcode cpuKernel} between two looks at the cancel cell: some tens of µs. */
export const KERNEL_CHUNK = 8192;

/**
 * The computation of the `cpu` work mode: `iterations` rounds of a 32-bit
 * hash mix (MurmurHash3's finaliser, plus a constant so that 0 is no fixed
 * point) applied to `state`. Each round needs the one before, so V8 can
 * neither skip rounds nor run them side by side, and the result is returned,
 * so the loop is no dead code. Running `a` rounds and then `b` more is
 * running `a + b`.
 *
 * @example
 * ```ts
 * cpuKernel(cpuKernel(KERNEL_SEED, 3), 4) === cpuKernel(KERNEL_SEED, 7); // true
 * ```
 */
export function cpuKernel(state: number, iterations: number): number {
  let x = state | 0;
  for (let i = 0; i < iterations; i++) {
    x ^= x >>> 16;
    x = Math.imul(x, 0x85ebca6b);
    x ^= x >>> 13;
    x = Math.imul(x, 0xc2b2ae35);
    x = (x ^ (x >>> 16)) + 0x9e3779b9 | 0;
  }
  return x;
}

/**
 * Runs `iterations` rounds of {@linkcode cpuKernel} from
 * {@linkcode KERNEL_SEED}, in chunks, giving up between two chunks once
 * `cell` is cancelled. Returns the kernel's value (the seed if it was
 * cancelled before starting).
 */
export function burnCpu(iterations: number, cell: Int32Array = neverCancelled): number {
  let x = KERNEL_SEED;
  for (let left = iterations; left > 0; left -= KERNEL_CHUNK) {
    if (Atomics.load(cell, 0) === STOP_NOW) break;
    x = cpuKernel(x, Math.min(left, KERNEL_CHUNK));
  }
  return x;
}

/** Main thread → worker: one calibration round of the cpu work (see `calibration.ts`). */
export interface CalibrationRequest {
  calibrar: { ventanaMs: number };
}

/** Worker → main thread: the kernel's iterations in the round, and its wall-clock ms. */
export interface CalibrationReply {
  iteraciones: number;
  ms: number;
}

/**
 * One calibration round: runs the cpu work's own code, a chunk at a time,
 * for at least `windowMs`, and counts the iterations.
 */
export function timeKernel(windowMs: number): CalibrationReply {
  const start = performance.now();
  let iteraciones = 0;
  let ms: number;
  do {
    burnCpu(KERNEL_CHUNK);
    iteraciones += KERNEL_CHUNK;
  } while ((ms = performance.now() - start) < windowMs);
  return { iteraciones, ms };
}

/**
 * Processes one order: the simulated work, timed, noting in the request's
 * cells when it starts and ends (see {@linkcode readProgress}).
 *
 * @example
 * ```ts
 * const result = processOrder({ id: 1, workMs: 10, workMode: "sleep", pedido });
 * result.fin - result.inicio; // ≈ 10
 * ```
 */
export function processOrder(request: WorkRequest): WorkResult | WorkSkipped {
  if (!mayStart(request)) return { id: request.id, omitido: true };
  const { cancel: cell, seq } = request;
  const iterations = request.workMode === "cpu" ? cpuIterationsOf(request) : undefined;
  const inicio = Date.now();
  if (cell && seq) noteStarted(cell, seq, inicio);
  if (iterations === undefined) sleepBlocking(request.workMs, cell);
  else burnCpu(iterations, cell);
  const fin = Date.now();
  if (cell && seq) noteFinished(cell, seq);
  return { id: request.id, inicio, fin };
}

function cpuIterationsOf(request: WorkRequest): number {
  if (request.cpuIterations === undefined) {
    throw new Error("trabajo cpu sin calibrar: la petición no trae cpuIterations");
  }
  return request.cpuIterations;
}
