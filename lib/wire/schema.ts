/**
 * What a valid request is, shared by the server and the client so that both
 * judge an order the same way. Every outside value passes through zod here.
 *
 * @module
 */
import { z } from "zod";

// Lengths are in characters: Unicode code points, as Python's `len`, SQL's
// `varchar(n)` and JSON Schema count them (an emoji is one, not two UTF-16
// units). Counted here rather than by zod's `max`, which counted UTF-16 units
// until a 4.x patch release: the limit must not change with a dependency update.

/** Longest accepted `cliente`, in characters. A person's or shop's name fits easily. */
export const MAX_CLIENTE = 200;
/** Longest accepted `direccion`, in characters: a full postal address with notes. */
export const MAX_DIRECCION = 500;
/** Longest accepted product name, in characters. */
export const MAX_PRODUCTO = 200;
/** Most products in one order; a larger basket is split by the shop into several orders. */
export const MAX_PRODUCTOS = 100;
/** Longest idempotency key: room for a UUID or a ULID with a prefix. */
export const MAX_CLAVE = 128;

// C0 and C1 control characters (NUL, ESC, ...) have no place in a name or an
// address, and refusing them keeps terminal escape sequences out of logs.
const CONTROL_CHARACTERS = /\p{Cc}/u;

function typeError(field: string, expected: string) {
  return (issue: { input?: unknown }) =>
    issue.input === undefined ? `falta ${field}` : `${field} debe ser ${expected}`;
}

function text(field: string, max: number) {
  return z.string({ error: typeError(field, "un texto") })
    .trim()
    .min(1, { error: `${field} no puede estar vacío` })
    .refine((value) => codePointsAtMost(value, max), {
      error: `${field} admite como máximo ${max} caracteres`,
    })
    .refine((value) => !CONTROL_CHARACTERS.test(value), {
      error: `${field} contiene caracteres de control`,
    })
    // A lone UTF-16 surrogate (from a "\ud800" escape) has no UTF-8 form:
    // SQLite would store U+FFFD instead of what was sent.
    .refine((value) => value.isWellFormed(), {
      error: `${field} contiene sustitutos UTF-16 sueltos`,
    });
}

/**
 * Whether `text` has at most `max` Unicode code points.
 *
 * @example
 * ```ts
 * codePointsAtMost("😀😀", 2); // true: two code points, four UTF-16 units
 * ```
 */
export function codePointsAtMost(text: string, max: number): boolean {
  // A code point is one or two units: within `max` units it surely fits.
  if (text.length <= max) return true;
  let count = 0;
  for (const _ of text) if (++count > max) return false;
  return true;
}

/** An order as a client sends it (after `dirección` is folded into `direccion`). */
export const orderSchema = z.strictObject({
  tipo: z.literal("pedido").optional(),
  cliente: text("cliente", MAX_CLIENTE),
  productos: z.array(text("el producto", MAX_PRODUCTO), {
    error: typeError("productos", "una lista de textos"),
  })
    .min(1, { error: "productos debe tener al menos un producto" })
    .max(MAX_PRODUCTOS, { error: `productos admite como máximo ${MAX_PRODUCTOS} productos` }),
  direccion: text("direccion", MAX_DIRECCION),
  clave: text("clave", MAX_CLAVE).optional(),
  avisar: z.boolean({ error: typeError("avisar", "true o false") }).optional(),
});

/** A validated order. */
export type Order = z.infer<typeof orderSchema>;

/** Longest accepted token: far more than any random token needs. */
export const MAX_TOKEN = 1024;

// By id, by key, or both: the key is the proof that shows the whole order.
const statusSchema = z.strictObject({
  tipo: z.literal("estado"),
  id: z.number({ error: typeError("id", "un número") })
    .int({ error: "id debe ser un entero" })
    .positive({ error: "id debe ser positivo" })
    .max(Number.MAX_SAFE_INTEGER, { error: "id es demasiado grande" })
    .optional(),
  clave: text("clave", MAX_CLAVE).optional(),
}).refine((request) => request.id !== undefined || request.clave !== undefined, {
  error: "falta id o clave",
  path: ["id"],
});

const statisticsSchema = z.strictObject({
  tipo: z.literal("estadisticas"),
  /** Also send the most recent processing intervals (for a timeline); they make the reply ~50× larger. */
  intervalos: z.boolean({ error: typeError("intervalos", "true o false") }).optional(),
});

// The token is compared as sent: no trimming, so what works is exactly what the file holds.
const authSchema = z.strictObject({
  tipo: z.literal("auth"),
  token: z.string({ error: typeError("token", "un texto") })
    .min(1, { error: "token no puede estar vacío" })
    .max(MAX_TOKEN, { error: `token admite como máximo ${MAX_TOKEN} caracteres` }),
});

/** Every request a client may send, by `tipo`; a message without `tipo` is an order. */
export type Request =
  | ({ tipo: "pedido" } & Order)
  | z.infer<typeof statusSchema>
  | z.infer<typeof statisticsSchema>
  | z.infer<typeof authSchema>;

/** The request kinds, for help texts and error messages. */
export const TIPOS = ["pedido", "estado", "estadisticas", "auth"] as const;

/** The outcome of validating one message. */
export type Validation =
  | { ok: true; request: Request }
  | { ok: false; errores: Record<string, string> };

/**
 * Validates a decoded JSON object as a request.
 *
 * @example
 * ```ts
 * const result = parseRequest({ cliente: " Ana ", productos: ["pan"], dirección: "Calle 1" });
 * // { ok: true, request: { tipo: "pedido", cliente: "Ana", productos: ["pan"], direccion: "Calle 1" } }
 * ```
 */
export function parseRequest(message: Record<string, unknown>): Validation {
  const tipo = message.tipo ?? "pedido";
  switch (tipo) {
    case "pedido":
      return parseOrder(message);
    case "estado":
      return fromZod(statusSchema.safeParse(message));
    case "estadisticas":
      return fromZod(statisticsSchema.safeParse(message));
    case "auth":
      return fromZod(authSchema.safeParse(message));
    default:
      return {
        ok: false,
        errores: { tipo: `tipo desconocido; use uno de: ${TIPOS.join(", ")}` },
      };
  }
}

/**
 * Validates an order. Accepts the seed's accented key `dirección` as well as
 * `direccion`, but not both at once.
 */
export function parseOrder(message: Record<string, unknown>): Validation {
  let input = message;
  if (Object.hasOwn(message, "dirección")) {
    if (Object.hasOwn(message, "direccion")) {
      return { ok: false, errores: { direccion: "envíe direccion o dirección, no ambos" } };
    }
    const { ["dirección"]: direccion, ...rest } = message;
    input = { ...rest, direccion };
  }
  const fast = commonOrder(input);
  if (fast) return { ok: true, request: fast };
  const result = orderSchema.safeParse(input);
  if (!result.success) return { ok: false, errores: describeIssues(result.error.issues) };
  return { ok: true, request: { ...result.data, tipo: "pedido" } };
}

const ORDER_KEYS = new Set(["tipo", "cliente", "productos", "direccion", "clave", "avisar"]);

/** `value` trimmed if it is a text `orderSchema` would accept within `max` characters. */
function acceptedText(value: unknown, max: number): string | undefined {
  if (typeof value !== "string") return undefined;
  const trimmed = value.trim();
  return trimmed.length > 0 && codePointsAtMost(trimmed, max) &&
      !CONTROL_CHARACTERS.test(trimmed) && trimmed.isWellFormed()
    ? trimmed
    : undefined;
}

/**
 * The order `orderSchema` would return for a message every rule accepts,
 * checked with plain code: zod's general machinery costs several
 * microseconds per order on the server's main thread. Anything unusual
 * (a rule broken, an unknown key) returns `undefined` and goes to zod,
 * which stays the source of truth and writes the errors; a property test
 * checks that both always agree.
 */
export function commonOrder(message: Record<string, unknown>): Request | undefined {
  for (const key in message) if (!ORDER_KEYS.has(key)) return undefined;
  const { tipo, productos, clave, avisar } = message;
  if (tipo !== undefined && tipo !== "pedido") return undefined;
  const cliente = acceptedText(message.cliente, MAX_CLIENTE);
  const direccion = acceptedText(message.direccion, MAX_DIRECCION);
  if (cliente === undefined || direccion === undefined) return undefined;
  if (!Array.isArray(productos) || productos.length < 1 || productos.length > MAX_PRODUCTOS) {
    return undefined;
  }
  const names = new Array<string>(productos.length);
  for (let i = 0; i < productos.length; i++) {
    const name = acceptedText(productos[i], MAX_PRODUCTO);
    if (name === undefined) return undefined;
    names[i] = name;
  }
  const order: Request = { tipo: "pedido", cliente, productos: names, direccion };
  if (clave !== undefined) {
    const key = acceptedText(clave, MAX_CLAVE);
    if (key === undefined) return undefined;
    order.clave = key;
  }
  if (avisar !== undefined) {
    if (typeof avisar !== "boolean") return undefined;
    order.avisar = avisar;
  }
  return order;
}

function fromZod(
  result: z.ZodSafeParseResult<Request>,
): Validation {
  return result.success
    ? { ok: true, request: result.data }
    : { ok: false, errores: describeIssues(result.error.issues) };
}

function describeIssues(issues: readonly z.core.$ZodIssue[]): Record<string, string> {
  // A Map, then fromEntries: a field named "__proto__" becomes an own key
  // like any other instead of touching a prototype.
  const errores = new Map<string, string>();
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) errores.set(key, "campo desconocido");
      continue;
    }
    const path = issue.path.map(String).join(".") || "pedido";
    if (!errores.has(path)) errores.set(path, issue.message);
  }
  return Object.fromEntries(errores);
}
