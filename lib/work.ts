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
}

/** Worker → main thread: the order is processed. Times are epoch milliseconds. */
export interface WorkResult {
  id: number;
  inicio: number;
  fin: number;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the calling thread for `ms` milliseconds without spinning. */
export function sleepBlocking(ms: number): void {
  if (ms > 0) Atomics.wait(sleepCell, 0, 0, ms);
}

/**
 * Keeps one core busy for `ms` milliseconds with integer arithmetic, and
 * returns the result so the loop cannot be optimised away.
 */
export function spinCpu(ms: number): number {
  const end = performance.now() + ms;
  let x = 0x9e3779b9;
  do {
    for (let i = 0; i < 10_000; i++) x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) >>> 0;
  } while (performance.now() < end);
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
  if (request.workMode === "cpu") spinCpu(request.workMs);
  else sleepBlocking(request.workMs);
  return { id: request.id, inicio, fin: Date.now() };
}
