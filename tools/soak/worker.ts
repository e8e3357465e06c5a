/**
 * A worker that misbehaves on request, for the reliability tests and the soak
 * (`tools/soak/main.ts`): the order's `cliente` picks the fault by prefix. Any
 * other order is processed exactly as `worker.ts` does. Like it, it runs with
 * no permissions at all.
 *
 * - `lanza:` throws while processing
 * - `lanza-async:` throws later, from a timer (an uncaught error in the worker)
 * - `cuelga:` never answers (blocks its thread for good)
 * - `tarda:` answers, but only after 1.5 s: past a short `--timeout-ms`, as a
 *   real worker overrunning its time would
 * - `cierra:` closes itself in the middle of the order without answering
 * - `otro-id:` answers for another order
 * - `ilegible:` answers with a value that cannot be cloned
 *
 * @module
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { processOrder, sleepBlocking, type WorkRequest } from "../../lib/orders/work.ts";

self.onmessage = (event: MessageEvent<WorkRequest>) => {
  const request = event.data;
  const cliente = request.pedido.cliente;
  if (cliente.startsWith("lanza:")) throw new Error(`fallo provocado en #${request.id}`);
  if (cliente.startsWith("lanza-async:")) {
    setTimeout(() => {
      throw new Error(`fallo asíncrono provocado en #${request.id}`);
    }, 5);
    return;
  }
  if (cliente.startsWith("cuelga:")) {
    for (;;) sleepBlocking(60_000);
  }
  if (cliente.startsWith("tarda:")) {
    sleepBlocking(1500);
    self.postMessage(processOrder(request));
    return;
  }
  if (cliente.startsWith("cierra:")) {
    sleepBlocking(Math.min(request.workMs, 20));
    self.close();
    return;
  }
  if (cliente.startsWith("otro-id:")) {
    self.postMessage({ ...processOrder(request), id: request.id + 1_000_000 });
    return;
  }
  if (cliente.startsWith("ilegible:")) {
    self.postMessage({ id: request.id, inicio: 0, fin: 0, f: () => {} });
    return;
  }
  self.postMessage(processOrder(request));
};
