/**
 * The simulated processing an order goes through inside a worker, as in the
 * seed (`time.sleep`). Pure functions of the request; the worker module only
 * wires them to messages.
 *
 * @module
 */

/** `sleep` blocks the thread like `time.sleep`; `cpu` keeps a core busy. */
export type WorkMode = "sleep" | "cpu";

/** The order content a worker sees: no ids of other systems, no paths. */
export interface WorkOrder {
  cliente: string;
  productos: string[];
  direccion: string;
}

/** Main thread → worker: process this order. */
export interface WorkRequest {
  id: number;
  workMs: number;
  workMode: WorkMode;
  pedido: WorkOrder;
  /** Position of this order's message among those sent to this worker, from 1. */
  seq?: number;
  /**
   * Cells shared with the pool (see {@linkcode createCancelCell}): one to
   * abandon the running attempt (a timeout), one holding the last `seq` a
   * drain still lets start. `Worker.terminate()` cannot interrupt a thread
   * that is blocked or busy, so the work itself watches these cells.
   */
  cancel?: Int32Array;
}

/** Worker → main thread: the order is processed. Times are epoch milliseconds. */
export interface WorkResult {
  id: number;
  inicio: number;
  fin: number;
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
export type WorkReply = WorkResult | WorkFailure | WorkSkipped;

/** Cell 0: keep working, or abandon the running order. */
const RUN = 0;
const STOP_NOW = 1;
/** Cell 1: no limit, or the last `seq` allowed to start. */
const NO_LIMIT = 0;

/** Creates the cancel cells for one worker's orders. */
export function createCancelCell(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
}

/** Abandons the running attempt: sets the cell and wakes a thread sleeping on it. */
export function cancel(cell: Int32Array): void {
  Atomics.store(cell, 0, STOP_NOW);
  Atomics.notify(cell, 0);
}

/**
 * Lets orders up to `lastSeq` run (the one running) and hands back the rest
 * unstarted; `lastSeq` 0 or less lets none start.
 */
export function stopAfter(cell: Int32Array, lastSeq: number): void {
  Atomics.store(cell, 1, lastSeq > 0 ? lastSeq : -1);
}

function mayStart(request: WorkRequest): boolean {
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

/**
 * Keeps one core busy for `ms` milliseconds with integer arithmetic, or until
 * `cell` is cancelled, and returns the result so the loop cannot be optimised
 * away.
 */
export function spinCpu(ms: number, cell: Int32Array = neverCancelled): number {
  const end = performance.now() + ms;
  let x = 0x9e3779b9;
  do {
    for (let i = 0; i < 10_000; i++) x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) >>> 0;
  } while (performance.now() < end && Atomics.load(cell, 0) !== STOP_NOW);
  return x;
}

/**
 * Processes one order: the simulated work, timed.
 *
 * @example
 * ```ts
 * const result = processOrder({ id: 1, workMs: 10, workMode: "sleep", pedido });
 * result.fin - result.inicio; // ≈ 10
 * ```
 */
export function processOrder(request: WorkRequest): WorkResult | WorkSkipped {
  if (!mayStart(request)) return { id: request.id, omitido: true };
  const inicio = Date.now();
  if (request.workMode === "cpu") spinCpu(request.workMs, request.cancel);
  else sleepBlocking(request.workMs, request.cancel);
  return { id: request.id, inicio, fin: Date.now() };
}
