/**
 * Request handlers, one per `tipo`: each validates, asks the order service,
 * and returns the reply. No I/O of their own and no SQL. Each `tipo` is
 * also known as a read or a write, so that a connection can run pipelined
 * requests as if one after another (see {@linkcode isRead}).
 *
 * @module
 */
import type { OrderListener, OrderService } from "../orders/service.ts";
import { viewFor } from "../auth/access.ts";
import type { ConnectionAuth } from "./auth.ts";
import { failure, invalidRequest, type Reply, statisticsReply } from "../wire/protocol.ts";
import { parseRequest, type Request } from "../wire/schema.ts";

/** What the handlers ask of the order service. */
export type RequestService = Pick<
  OrderService,
  "submit" | "status" | "idForKey" | "statistics" | "recordRejected"
>;

/** Per-connection facts a handler may need. */
export interface RequestContext {
  /** Where to send completion notices, for orders that ask for them. */
  listener: OrderListener;
  /** Who the connection is: decides what it may ask and what of an order it may see. */
  auth: ConnectionAuth;
}

type Handler<T extends Request["tipo"]> = (
  request: Extract<Request, { tipo: T }>,
  context: RequestContext,
  service: RequestService,
) => Reply | Promise<Reply>;

const HANDLERS: { [T in Request["tipo"]]: Handler<T> } = {
  pedido: (order, context, service) =>
    service.submit(order, order.avisar ? context.listener : undefined),
  estado: async ({ id, clave }, context, service) => {
    const keyOwnerOf = clave === undefined ? undefined : await service.idForKey(clave);
    const target = id ?? keyOwnerOf;
    if (target === undefined) return failure("no_encontrado", "ningún pedido tiene esa clave");
    const who = context.auth.who ?? "anonimo";
    return await service.status(target, (order) => viewFor(order, { who, keyOwnerOf }));
  },
  estadisticas: ({ intervalos }, _context, service) => {
    const { snapshot, json } = service.statistics({ intervalos: intervalos === true });
    return statisticsReply(snapshot, json);
  },
  auth: ({ token }, context, service) => {
    const reply = context.auth.authenticate(token);
    if (!reply.ok) service.recordRejected(reply.codigo);
    return reply;
  },
};

/** The `tipo`s that only read: what they answer depends on every write before them. */
const READS: ReadonlySet<unknown> = new Set<Request["tipo"]>(["estado", "estadisticas"]);

/**
 * Whether a message only reads. A read must not start before the writes
 * sent ahead of it on its connection are answered, nor a later write before
 * the read is. A message without `tipo` is an order, a write. `auth` is
 * taken as a write: it is answered at once, so what follows it on the
 * connection is judged with the role it gave.
 *
 * @example
 * ```ts
 * isRead({ tipo: "estado", id: 1 }); // true
 * isRead({ cliente: "Ana", productos: ["pan"], direccion: "Calle 1" }); // false
 * ```
 */
export function isRead(message: Record<string, unknown>): boolean {
  return READS.has(message.tipo);
}

/**
 * Answers one decoded message. A request the connection may not make yet is
 * answered `no_autorizado` before it is even validated; invalid requests are
 * answered `pedido_invalido` with per-field errors. Both count as rejections.
 */
export function handleMessage(
  message: Record<string, unknown>,
  context: RequestContext,
  service: RequestService,
): Reply | Promise<Reply> {
  const refused = context.auth.gate(message.tipo);
  if (refused) {
    service.recordRejected(refused.codigo);
    return refused;
  }
  const validation = parseRequest(message);
  if (!validation.ok) {
    service.recordRejected("pedido_invalido");
    return invalidRequest(validation.errores);
  }
  const request = validation.request;
  const handler = HANDLERS[request.tipo] as Handler<typeof request.tipo>;
  return handler(request as never, context, service);
}
