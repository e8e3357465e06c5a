/**
 * The order-processing worker. Runs as a module Web Worker with no
 * permissions at all: it sees only the messages the pool sends it, one order
 * or a list of orders, and answers each message in kind, in order.
 *
 * @module
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { processOrder, type WorkReply, type WorkRequest } from "./lib/orders/work.ts";

function answer(request: WorkRequest): WorkReply {
  try {
    return processOrder(request);
  } catch (error) {
    // Answered as a message, not left uncaught: Deno would print an uncaught
    // worker error on stderr itself, past the server's escaping logger.
    return { id: request.id, error: error instanceof Error ? error.message : String(error) };
  }
}

self.onmessage = (event: MessageEvent<WorkRequest | WorkRequest[]>) => {
  const message = event.data;
  self.postMessage(Array.isArray(message) ? message.map(answer) : answer(message));
};
