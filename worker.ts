/**
 * The order-processing worker. Runs as a module Web Worker with no
 * permissions at all: it sees only the messages the pool sends it.
 *
 * @module
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { processOrder, type WorkRequest } from "./lib/work.ts";

self.onmessage = (event: MessageEvent<WorkRequest>) => {
  self.postMessage(processOrder(event.data));
};
