/**
 * Sending orders: all pipelined over one connection, then, in rounds, again
 * for those that got "try later" or lost their reply, with backoff between
 * rounds. Each order keeps its idempotency key, so a resend after a lost
 * reply finds the first order instead of creating another.
 *
 * @module
 */
import { isRetriableError, isRetriableReply, RefusedByServerError } from "./errors.ts";
import type { OutgoingOrder } from "./orders.ts";
import { backoffDelay, type RetryNotice, sleep } from "./retry.ts";
import type { ProtocolSession, SessionKeeper } from "./session.ts";
import type { Reply } from "../wire/protocol.ts";

/** How one order ended up: a final reply, or no reply at all. */
export type SubmitOutcome =
  | {
    order: OutgoingOrder;
    reply: Reply;
    /** The session that answered (none when the greeting refused the connection). */
    session?: ProtocolSession;
  }
  | {
    order: OutgoingOrder;
    error: Error;
    /** Whether it was ever sent: then it may have been stored, and its fate is unknown. */
    sent: boolean;
  };

/** Options of {@linkcode submitOrders}. */
export interface SubmitOptions {
  /** Most resends of any one order. */
  retries: number;
  /** Called once per order, as soon as its outcome is final, in reply order. */
  onOutcome: (outcome: SubmitOutcome) => void;
  onRetry: (notice: RetryNotice) => void;
  /** @default Math.random */
  random?: () => number;
  /** @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Sends `orders` and reports each one's final outcome.
 *
 * @example
 * ```ts
 * await submitOrders(keeper, orders, {
 *   retries: 3,
 *   onOutcome: (outcome) => print(outcome),
 *   onRetry: (notice) => warn(notice),
 * });
 * ```
 */
export async function submitOrders(
  keeper: SessionKeeper,
  orders: readonly OutgoingOrder[],
  options: SubmitOptions,
): Promise<void> {
  let pending = orders;
  const sent = new Set<OutgoingOrder>();
  for (let round = 0; pending.length > 0; round++) {
    const last = round >= options.retries;
    const again: OutgoingOrder[] = [];
    const reasons = new Map<string, number>();
    const retryLater = (order: OutgoingOrder, reason: string) => {
      again.push(order);
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    };
    const settle = (
      order: OutgoingOrder,
      result: { reply: Reply; session?: ProtocolSession } | { error: unknown },
    ) => {
      if ("error" in result) {
        const error = result.error instanceof Error
          ? result.error
          : new Error(String(result.error));
        if (!last && isRetriableError(error)) retryLater(order, error.message);
        else if (error instanceof RefusedByServerError) {
          options.onOutcome({ order, reply: error.reply });
        } else options.onOutcome({ order, error, sent: sent.has(order) });
      } else if (!last && isRetriableReply(result.reply)) {
        retryLater(order, result.reply.mensaje);
      } else {
        options.onOutcome({ order, ...result });
      }
    };

    let session: ProtocolSession | undefined;
    try {
      session = await keeper.get();
    } catch (error) {
      for (const order of pending) settle(order, { error });
    }
    if (session) {
      const open = session;
      for (const order of pending) sent.add(order);
      await Promise.all(pending.map((order) =>
        open.request(order.message).then(
          (reply) => settle(order, { reply, session: open }),
          (error) => settle(order, { error }),
        )
      ));
    }
    if (again.length === 0) return;
    const delayMs = backoffDelay(round, options.random);
    options.onRetry({ retry: round + 1, retries: options.retries, delayMs, reasons });
    await (options.sleep ?? sleep)(delayMs);
    pending = again;
  }
}
