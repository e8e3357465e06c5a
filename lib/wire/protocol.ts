/**
 * The wire vocabulary shared by server and client: the default port, the
 * type of every line the server sends (replies, the `terminado` event, the
 * greeting), the failure codes with the seed's texts, and builders for every
 * line but the statistics reply, which its handler builds. Pure: builds
 * values and encodes lines, no I/O.
 *
 * Each request gets exactly one reply line: a JSON object with a boolean `ok`
 * and a human `mensaje`. Event lines (order finished) carry `evento` and never
 * `ok`, so a client can always tell the two apart. Two failure lines answer
 * no request: `demasiadas_conexiones` in place of the greeting, and
 * `inactivo` just before an idle connection is closed.
 *
 * @module
 */

/** The seed's port: where the server listens and the client connects unless told otherwise. */
export const DEFAULT_PORT = 8888;

/** Why a request failed; clients branch on this, never on `mensaje`. */
export type Codigo =
  | "limite"
  | "json_invalido"
  | "pedido_invalido"
  | "demasiado_grande"
  | "no_encontrado"
  | "interno"
  | "apagando"
  | "demasiadas_conexiones"
  | "inactivo"
  | "no_autorizado";

/** Every failure code, in the order docs/protocol.md documents them (tests/docs_test.ts checks). */
export const CODIGOS: readonly Codigo[] = [
  "limite",
  "json_invalido",
  "pedido_invalido",
  "demasiado_grande",
  "no_encontrado",
  "interno",
  "apagando",
  "demasiadas_conexiones",
  "inactivo",
  "no_autorizado",
];

/** The seed's words, kept so that people and old scripts recognise them. */
export const TEXTOS = {
  limite: "❌ Límite de pedidos alcanzado. Intente más tarde.",
  json_invalido: "❌ JSON inválido",
  pedido_invalido: "❌ Pedido inválido",
  demasiado_grande: "❌ Mensaje demasiado grande",
  no_encontrado: "❌ Pedido no encontrado",
  interno: "❌ Error interno del servidor. Intente más tarde.",
  apagando: "❌ El servidor se está apagando. Intente más tarde.",
  demasiadas_conexiones: "❌ Demasiadas conexiones. Intente más tarde.",
  inactivo: "❌ Conexión cerrada por inactividad",
  no_autorizado: "❌ No autorizado",
} as const satisfies Record<Codigo, string>;

/** States an order goes through, as stored and as sent. */
export type Estado = "en cola" | "en proceso" | "listo" | "fallido";

/** An order's public record: what `estado` replies and `terminado` events carry. */
export interface OrderView {
  id: number;
  cliente: string;
  productos: string[];
  direccion: string;
  estado: Estado;
  fecha_recibido: string;
  fecha_inicio: string | null;
  fecha_fin: string | null;
  duracion: number | null;
  worker: number | null;
  intentos: number;
  motivo_fallo: string | null;
  /** What the shop's processor returned (any JSON value); null if none. */
  resultado: unknown;
}

/**
 * What `estado` answers without proof of ownership: nothing about who ordered
 * what or where it goes.
 */
export type PublicOrderView = Pick<
  OrderView,
  "id" | "estado" | "fecha_recibido" | "fecha_inicio" | "fecha_fin" | "duracion" | "intentos"
>;

/** Who a connection is, as the reply to `auth` says: `anonimo` when the server has no tokens. */
export type Rol = "anonimo" | "cliente" | "operador";

/** A successful reply; extra fields depend on the request. */
export interface OkReply {
  ok: true;
  mensaje: string;
  id?: number;
  duplicado?: boolean;
  /** The whole order only to its sender (by `clave`) or an operator. */
  pedido?: OrderView | PublicOrderView;
  estadisticas?: unknown;
  rol?: Rol;
}

/** A failed request. `errores` maps a field path to what is wrong with it. */
export interface ErrorReply {
  ok: false;
  codigo: Codigo;
  mensaje: string;
  errores?: Record<string, string>;
}

/** One reply line. */
export type Reply = OkReply | ErrorReply;

/**
 * Lines of replies built from JSON already serialised: many requests share
 * one statistics snapshot, so it is serialised once, not once per reply.
 */
const encodedLines = new WeakMap<Reply, string>();
const statisticsReplies = new WeakMap<object, OkReply>();
const STATISTICS_MESSAGE = "📊 Estadísticas del servidor";

/**
 * The reply to `estadisticas`. `json` must be `JSON.stringify(estadisticas)`;
 * the reply's line is built around it. Many requests share one snapshot, so
 * they share one reply (do not change it) and one line.
 *
 * @example
 * ```ts
 * const estadisticas = { recibidos: 1 };
 * encodeLine(statisticsReply(estadisticas, JSON.stringify(estadisticas)));
 * // '{"ok":true,"mensaje":"📊 Estadísticas del servidor","estadisticas":{"recibidos":1}}\n'
 * ```
 */
export function statisticsReply(estadisticas: object, json: string): OkReply {
  let reply = statisticsReplies.get(estadisticas);
  if (reply === undefined) {
    reply = { ok: true, mensaje: STATISTICS_MESSAGE, estadisticas };
    encodedLines.set(
      reply,
      `{"ok":true,"mensaje":${JSON.stringify(STATISTICS_MESSAGE)},"estadisticas":${json}}\n`,
    );
    statisticsReplies.set(estadisticas, reply);
  }
  return reply;
}

/** The line sent when an order a client asked to follow reaches a final state. */
export interface FinishedEvent {
  evento: "terminado";
  id: number;
  estado: "listo" | "fallido";
  mensaje: string;
  pedido: OrderView;
}

/** The first line on every connection. */
export interface Greeting {
  ok: true;
  tipo: "bienvenida";
  mensaje: string;
  version: string;
  capacidad: { max: number; libres: number };
}

/** Legacy clients read the greeting with one 1024-byte read, so it must fit. */
export const MAX_GREETING_BYTES = 1024;

const EXAMPLE_ORDER =
  '{"cliente": "Ana", "productos": ["pan", "leche"], "direccion": "Calle Falsa 123"}';

/**
 * Builds the greeting line's value.
 *
 * @example
 * ```ts
 * const line = encodeLine(greeting({ max: 6, libres: 6 }, "1.0.0"));
 * ```
 */
export function greeting(capacidad: { max: number; libres: number }, version: string): Greeting {
  return {
    ok: true,
    tipo: "bienvenida",
    mensaje:
      `👋 Bienvenido al sistema de pedidos. Envíe su pedido en JSON, por ejemplo: ${EXAMPLE_ORDER}`,
    version,
    capacidad,
  };
}

/** The reply to an admitted order (or to a resent idempotency key). */
export function accepted(id: number, duplicado = false): OkReply {
  return duplicado
    ? { ok: true, id, duplicado: true, mensaje: `✅ Pedido ya registrado #${id}` }
    : { ok: true, id, mensaje: `✅ Pedido encolado #${id}` };
}

/**
 * A failure reply with the code's standard text, optionally followed by detail.
 *
 * @example
 * ```ts
 * failure("json_invalido", "se esperaba un objeto JSON").mensaje;
 * // "❌ JSON inválido: se esperaba un objeto JSON"
 * ```
 */
export function failure(
  codigo: Codigo,
  detalle?: string,
  errores?: Record<string, string>,
): ErrorReply {
  const mensaje = detalle ? `${TEXTOS[codigo]}: ${detalle}` : TEXTOS[codigo];
  return errores ? { ok: false, codigo, mensaje, errores } : { ok: false, codigo, mensaje };
}

/**
 * The reply to a request that failed validation: one error per field, and
 * the message names the only one or counts them.
 *
 * @example
 * ```ts
 * invalidRequest({ cliente: "falta cliente" }).mensaje;
 * // "❌ Pedido inválido: falta cliente"
 * ```
 */
export function invalidRequest(errores: Record<string, string>): ErrorReply {
  const fields = Object.keys(errores);
  const detalle = fields.length === 1 ? errores[fields[0]!]! : `${fields.length} errores`;
  return failure("pedido_invalido", detalle, errores);
}

/**
 * Whether a status reply carries the whole order.
 *
 * @example
 * ```ts
 * isWholeOrder({ id: 1, estado: "listo", … }); // false: no cliente
 * ```
 */
export function isWholeOrder(pedido: OrderView | PublicOrderView): pedido is OrderView {
  return "cliente" in pedido;
}

/** The reply to a successful `auth`. */
export function authenticated(rol: Rol): OkReply {
  const mensaje = rol === "anonimo"
    ? "🔓 Este servidor no pide token"
    : `🔑 Autenticado como ${rol}`;
  return { ok: true, mensaje, rol };
}

/** The reply to a status query. */
export function statusReply(pedido: OrderView | PublicOrderView): OkReply {
  return { ok: true, mensaje: `📦 Pedido #${pedido.id}: ${pedido.estado}`, pedido };
}

/** The event line for an order that reached `listo` or `fallido`. */
export function finishedEvent(pedido: OrderView & { estado: "listo" | "fallido" }): FinishedEvent {
  const mensaje = pedido.estado === "listo"
    ? `✅ Pedido #${pedido.id} listo en ${pedido.duracion?.toFixed(3)} s`
    : `❌ Pedido #${pedido.id} fallido: ${pedido.motivo_fallo ?? "sin motivo"}`;
  return { evento: "terminado", id: pedido.id, estado: pedido.estado, mensaje, pedido };
}

/** Serialises one protocol value as a line. */
export function encodeLine(value: Reply | FinishedEvent | Greeting): string {
  return encodedLines.get(value as Reply) ?? JSON.stringify(value) + "\n";
}
