/**
 * What the order service tells an observer (the metrics) as orders go
 * through. Called on the hot path, tens of thousands of times a second:
 * an implementation must only count, never allocate per call or do I/O.
 *
 * @module
 */

/** How an order ends. */
export type Outcome = "listo" | "fallido";

/** Receives the service's per-order facts; see {@linkcode NO_OBSERVER} for none. */
export interface OrderObserver {
  /** A submitted order was answered: `accepted`, `duplicate`, or the refusal's `codigo`. */
  received(result: string): void;
  /** Orders a previous run left unfinished are taken up again (read from the database as room frees). */
  recovered(count: number): void;
  /**
   * An order started on a worker (epoch ms). `receivedAt` is when it was
   * received, given only for an order's first attempt in this run.
   */
  started(id: number, worker: number, at: number, receivedAt: number | undefined): void;
  /** An order ended; `inicio` is `null` when the attempt's start is not known. */
  finished(id: number, worker: number, outcome: Outcome, inicio: number | null, fin: number): void;
  /** A failed attempt sent the order back to the queue. */
  retried(): void;
  /** A store transaction took `ms` milliseconds, and committed or failed. */
  committed(ms: number, ok: boolean): void;
}

/** The observer of a server without metrics: does nothing. */
export const NO_OBSERVER: OrderObserver = {
  received() {},
  recovered() {},
  started() {},
  finished() {},
  retried() {},
  committed() {},
};
