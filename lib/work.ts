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
  /**
   * A shared cell the pool sets to 1 to abandon this attempt (on timeout).
   * `Worker.terminate()` cannot interrupt a thread that is blocked or busy,
   * so the work itself watches this cell and stops early.
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

/** Creates a cancel cell for one worker's attempts. */
export function createCancelCell(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
}

/** Sets a cancel cell and wakes a thread sleeping on it. */
export function cancel(cell: Int32Array): void {
  Atomics.store(cell, 0, 1);
  Atomics.notify(cell, 0);
}

const neverCancelled = createCancelCell();

/**
 * Blocks the calling thread for `ms` milliseconds without spinning, or until
 * `cell` is cancelled.
 */
export function sleepBlocking(ms: number, cell: Int32Array = neverCancelled): void {
  if (ms > 0) Atomics.wait(cell, 0, 0, ms);
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
  } while (performance.now() < end && Atomics.load(cell, 0) === 0);
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
export function processOrder(request: WorkRequest): WorkResult {
  const inicio = Date.now();
  if (request.workMode === "cpu") spinCpu(request.workMs, request.cancel);
  else sleepBlocking(request.workMs, request.cancel);
  return { id: request.id, inicio, fin: Date.now() };
}
