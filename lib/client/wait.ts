/**
 * `--wait`: following accepted orders until each is `listo` or `fallido`.
 *
 * The server pushes a `terminado` event to the connection that sent an order
 * with `avisar`. It does not for a resent key (a `duplicado` reply) nor after
 * a reconnection, so those orders are asked about with `estado`, giving
 * their `clave` so that the server shows the whole order. While waiting, one
 * `estado` per interval also proves the server still answers: a server that
 * hangs shows up as a reply timeout instead of a silent wait.
 *
 * @module
 */
import { ConnectionError } from "./errors.ts";
import type { OutgoingOrder } from "./orders.ts";
import type { ProtocolSession, SessionKeeper } from "./session.ts";
import {
  type FinishedEvent,
  finishedEvent,
  isWholeOrder,
  type OrderView,
} from "../wire/protocol.ts";

/** How often to ask about orders no event will announce, and to check the server is alive. */
export const POLL_INTERVAL_MS = 1000;

/** An accepted order to follow. */
export interface AcceptedOrder {
  order: OutgoingOrder;
  id: number;
  /** The session that will receive its event, if any. */
  subscribedOn?: ProtocolSession | undefined;
}

/**
 * Waits until every order has ended, calling `onFinished` once for each, in
 * the order they end. Orders sharing an id (a key resent in one batch) are
 * reported together. Not bounded in time: an order may wait long in a queue.
 *
 * @example
 * ```ts
 * await waitForOrders(keeper, [{ order, id: 42, subscribedOn: session }], (order, event) =>
 *   print(event.mensaje));
 * ```
 * @throws {ConnectionError} if the connection fails or the server stops answering
 */
export async function waitForOrders(
  keeper: SessionKeeper,
  accepted: readonly AcceptedOrder[],
  onFinished: (order: OutgoingOrder, event: FinishedEvent) => void,
  pollMs: number = POLL_INTERVAL_MS,
): Promise<void> {
  const waiting = new Map<number, AcceptedOrder[]>();
  for (const entry of accepted) waiting.set(entry.id, [...(waiting.get(entry.id) ?? []), entry]);
  const session = await keeper.get();

  const finish = (event: FinishedEvent) => {
    const entries = waiting.get(event.id);
    if (!entries) return;
    waiting.delete(event.id);
    for (const { order } of entries) onFinished(order, event);
  };
  const unannounced = () =>
    [...waiting].filter(([, entries]) => entries.every((e) => e.subscribedOn !== session))
      .map(([id]) => id);
  const ask = async (ids: readonly number[]) => {
    const replies = await Promise.all(
      ids.map((id) =>
        session.request({ tipo: "estado", id, clave: waiting.get(id)![0]!.order.clave })
      ),
    );
    for (const [index, reply] of replies.entries()) {
      if (!reply.ok || !reply.pedido || !isWholeOrder(reply.pedido)) {
        throw new ConnectionError(
          "protocolo",
          `el servidor no muestra el pedido #${ids[index]} que aceptó: ${reply.mensaje}`,
        );
      }
      if (isFinal(reply.pedido)) finish(finishedEvent(reply.pedido));
    }
  };

  await ask(unannounced());
  while (waiting.size > 0) {
    const tickEnd = Date.now() + pollMs;
    while (waiting.size > 0 && Date.now() < tickEnd) {
      const event = await session.nextEvent(tickEnd - Date.now());
      if (!event) break;
      finish(event);
    }
    if (waiting.size === 0) break;
    const heartbeat = waiting.keys().next().value!;
    await ask([...new Set([heartbeat, ...unannounced()])]);
  }
}

function isFinal(order: OrderView): order is OrderView & { estado: "listo" | "fallido" } {
  return order.estado === "listo" || order.estado === "fallido";
}
