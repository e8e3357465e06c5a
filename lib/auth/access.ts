/**
 * What a connection may see, decided from plain values: its role and the
 * proof it gave. Pure; the handlers apply it.
 *
 * - Without `--tokens` every connection is `anonimo`: it may send orders,
 *   ask any order's state and times, and read the statistics (aggregates).
 * - With `--tokens` a connection is nobody until it authenticates; then
 *   `cliente` may do what `anonimo` does except read the statistics, and
 *   `operador` may do everything.
 * - An order's personal data (`cliente`, `productos`, `direccion`, and
 *   `worker`, `motivo_fallo` and a processor's `resultado` with them) goes
 *   only to an operator or to whoever proves they sent it by giving its
 *   `clave`.
 *
 * @module
 */
import type { OrderView, PublicOrderView, Rol } from "../wire/protocol.ts";

/**
 * Whether `who` may read the statistics.
 *
 * @example
 * ```ts
 * mayReadStatistics("operador"); // true
 * mayReadStatistics("cliente"); // false
 * ```
 */
export function mayReadStatistics(who: Rol): boolean {
  return who !== "cliente";
}

/** What a status request proved. */
export interface StatusProof {
  /** A token's role, or `anonimo` when the server has no tokens. */
  who: Rol;
  /** The id of the order the request's `clave` belongs to, if it gave one that exists. */
  keyOwnerOf?: number | undefined;
}

/**
 * The order as `proof` may see it: whole for an operator or the holder of its
 * key, otherwise only its id, state, times and attempts.
 *
 * @example
 * ```ts
 * viewFor(order, { who: "anonimo" }); // { id, estado, fecha_recibido, …, intentos }
 * viewFor(order, { who: "anonimo", keyOwnerOf: order.id }); // the whole order
 * ```
 */
export function viewFor(order: OrderView, proof: StatusProof): OrderView | PublicOrderView {
  if (proof.who === "operador" || proof.keyOwnerOf === order.id) return order;
  return publicView(order);
}

/** The part of an order that says nothing about who ordered what, or where it goes. */
export function publicView(order: OrderView): PublicOrderView {
  return {
    id: order.id,
    estado: order.estado,
    fecha_recibido: order.fecha_recibido,
    fecha_inicio: order.fecha_inicio,
    fecha_fin: order.fecha_fin,
    duracion: order.duracion,
    intentos: order.intentos,
  };
}
