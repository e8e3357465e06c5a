/**
 * The order-processing worker. Runs as a module Web Worker with the
 * permissions the pool gives it (none at all for the simulated work): it
 * sees only the messages the pool sends it, one order or a list of orders,
 * and answers each message in kind, in order. Orders that carry a processor
 * go to the shop's module (`lib/orders/run_processor.ts`); the others get
 * the simulated work. At start-up the server may first ask a worker to load
 * the processor once, to check the module, or to time the cpu work's kernel
 * (`lib/orders/calibration.ts`).
 *
 * @module
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import {
  type CalibrationRequest,
  processOrder,
  timeKernel,
  type WorkReply,
  type WorkRequest,
} from "./lib/orders/work.ts";
import { type LoadRequest, ProcessorRunner } from "./lib/orders/run_processor.ts";

const processor = new ProcessorRunner((reply) => self.postMessage(reply));

function answer(request: WorkRequest): WorkReply {
  try {
    return processOrder(request);
  } catch (error) {
    // Answered as a message, not left uncaught: Deno would print an uncaught
    // worker error on stderr itself, past the server's escaping logger.
    return { id: request.id, error: error instanceof Error ? error.message : String(error) };
  }
}

type Message = WorkRequest | WorkRequest[] | LoadRequest | CalibrationRequest;

self.onmessage = async (event: MessageEvent<Message>) => {
  const message = event.data;
  if ("cargarProcesador" in message) {
    self.postMessage(await processor.load(message.cargarProcesador));
  } else if ("calibrar" in message) {
    self.postMessage(timeKernel(message.calibrar.ventanaMs));
  } else if ((Array.isArray(message) ? message[0] : message)?.procesador) {
    processor.handle(message);
  } else {
    self.postMessage(Array.isArray(message) ? message.map(answer) : answer(message));
  }
};
