/**
 * A processor that hands each order to the shop's own HTTP service and
 * records its answer: POST the order as JSON, keep the JSON reply as the
 * order's `resultado`, fail the attempt on any other status.
 *
 * ```sh
 * PEDIDOS_API=http://127.0.0.1:8080/pedidos deno task server \
 *   --processor examples/procesar_http.ts \
 *   --processor-allow-env PEDIDOS_API --processor-allow-net 127.0.0.1:8080
 * ```
 *
 * An order may be processed more than once (a retry, a crash), so the
 * service gets the order's id as an idempotency key.
 *
 * @module
 */
import type { Processor } from "../lib/orders/processor.ts";

const API = Deno.env.get("PEDIDOS_API") ?? "http://127.0.0.1:8080/pedidos";

const procesar: Processor = async (pedido, { signal }) => {
  const response = await fetch(API, {
    method: "POST",
    headers: { "content-type": "application/json", "idempotency-key": `pedido-${pedido.id}` },
    body: JSON.stringify(pedido),
    signal,
  });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`el servicio respondió ${response.status} ${response.statusText}`);
  }
  return await response.json();
};

export default procesar;
