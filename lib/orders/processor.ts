/**
 * The processor contract: what a shop's own processing module receives and
 * returns. Processor authors import the types from here (`import type`, so
 * that nothing of pedidos is loaded into their sandbox):
 *
 * ```ts
 * import type { Processor } from "./lib/orders/processor.ts";
 *
 * const procesar: Processor = async (pedido, { signal }) => {
 *   const response = await fetch("http://api.local:8080/pedidos", {
 *     method: "POST",
 *     body: JSON.stringify(pedido),
 *     signal,
 *   });
 *   if (!response.ok) throw new Error(`la API respondió ${response.status}`);
 *   return await response.json();
 * };
 * export default procesar;
 * ```
 *
 * The server starts it with `--processor FILE`; docs/processors.md explains
 * the permissions, retries and limits around it.
 *
 * @module
 */

/** The order as a processor sees it: no idempotency key, no internal state. */
export interface ProcessorOrder {
  /** The order's id: the same for every attempt, so use it as an idempotency key downstream. */
  readonly id: number;
  readonly cliente: string;
  readonly productos: readonly string[];
  readonly direccion: string;
  /** This attempt's number, from 1; above 1 after a failure or a restart. */
  readonly intento: number;
  /** When the server received the order, ISO 8601 UTC (as `fecha_recibido`). */
  readonly recibido: string;
}

/** What a processor gets besides the order. */
export interface ProcessorContext {
  /**
   * Fired when the server gives up on this attempt: shortly before
   * `--timeout-ms` runs out, or before `--drain-ms` runs out at shutdown
   * (see {@linkcode abortNoticeMs}). Pass it to `fetch` and check it in
   * loops; a processor that does not stop is abandoned and its worker
   * replaced. Once it has fired, the attempt fails whatever the processor
   * returns.
   */
  readonly signal: AbortSignal;
}

/**
 * A processor: the default export of the `--processor` module. It returns
 * a JSON-serialisable result (stored as the order's `resultado`, at most
 * {@linkcode MAX_RESULT_BYTES} as JSON; `undefined` stores none) or throws
 * to fail the attempt (its message becomes `motivo_fallo`; the order is
 * retried up to `--retries` times, then `fallido`).
 */
export type Processor = (
  order: ProcessorOrder,
  context: ProcessorContext,
) => unknown | Promise<unknown>;

/**
 * Largest result, as UTF-8 JSON. A result is a receipt (a payment id, a
 * tracking number), not a payload: it is stored in the order's row and sent
 * in every `estado` reply and `terminado` event, so it is kept small enough
 * that neither the database nor a reply line grows by more than a little.
 */
export const MAX_RESULT_BYTES = 16 * 1024;

/** Longest notice a processor gets before its time runs out. */
const MAX_ABORT_NOTICE_MS = 1000;

/**
 * How long before a time limit the processor's signal fires: a tenth of the
 * limit, at most one second. The processor can then stop and answer before
 * the limit itself, when one that has not is abandoned.
 *
 * @example
 * ```ts
 * abortNoticeMs(30_000); // 1000: the signal fires at 29 s
 * abortNoticeMs(500); // 50: at 450 ms
 * ```
 */
export function abortNoticeMs(limitMs: number): number {
  return Math.min(MAX_ABORT_NOTICE_MS, Math.floor(limitMs / 10));
}
