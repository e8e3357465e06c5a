/**
 * The order-processing worker. Runs as a module Web Worker with no
 * permissions at all: it sees only the messages the pool sends it.
 *
 * @module
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { processOrder, type WorkFailure, type WorkRequest } from "./lib/work.ts";

self.onmessage = (event: MessageEvent<WorkRequest>) => {
  const request = event.data;
  try {
    self.postMessage(processOrder(request));
  } catch (error) {
    // Answered as a message, not left uncaught: Deno would print an uncaught
    // worker error on stderr itself, past the server's escaping logger.
    const failure: WorkFailure = {
      id: request.id,
      error: error instanceof Error ? error.message : String(error),
    };
    self.postMessage(failure);
  }
};
