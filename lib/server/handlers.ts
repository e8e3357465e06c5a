/**
 * Request handlers, one per `tipo`: each validates, asks the order service,
 * and returns the reply. No I/O of their own and no SQL.
 *
 * @module
 */
import type { OrderListener, OrderService } from "../orders/service.ts";
import { failure, type Reply, statisticsReply } from "../wire/protocol.ts";
import { parseRequest, type Request } from "../wire/schema.ts";

/** Per-connection facts a handler may need. */
export interface RequestContext {
  /** Where to send completion notices, for orders that ask for them. */
  listener: OrderListener;
}

type Handler<T extends Request["tipo"]> = (
  request: Extract<Request, { tipo: T }>,
  context: RequestContext,
  service: OrderService,
) => Reply | Promise<Reply>;

const HANDLERS: { [T in Request["tipo"]]: Handler<T> } = {
  pedido: (order, context, service) =>
    service.submit(order, order.avisar ? context.listener : undefined),
  estado: ({ id }, _context, service) => service.status(id),
  estadisticas: ({ intervalos }, _context, service) => {
    const { snapshot, json } = service.statistics({ intervalos: intervalos === true });
    return statisticsReply(snapshot, json);
  },
};

/**
 * Answers one decoded message. Invalid requests are counted as rejections
 * and answered `pedido_invalido` with per-field errors.
 */
export function handleMessage(
  message: Record<string, unknown>,
  context: RequestContext,
  service: OrderService,
): Reply | Promise<Reply> {
  const validation = parseRequest(message);
  if (!validation.ok) {
    service.recordRejected("pedido_invalido");
    return failure("pedido_invalido", summarize(validation.errores), validation.errores);
  }
  const request = validation.request;
  const handler = HANDLERS[request.tipo] as Handler<typeof request.tipo>;
  return handler(request as never, context, service);
}

function summarize(errores: Record<string, string>): string {
  const fields = Object.keys(errores);
  return fields.length === 1 ? errores[fields[0]!]! : `${fields.length} errores`;
}
