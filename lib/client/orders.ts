/**
 * Orders as the client sends them: built from flags or NDJSON lines,
 * validated with the server's own schema before any connection, and given
 * an idempotency key that stays the same across retries.
 *
 * @module
 */
import { parseOrder, type Request } from "../wire/schema.ts";

/** An order's fields as the command line gives them; any may be missing. */
export interface OrderFields {
  cliente?: string;
  productos?: string[];
  direccion?: string;
  clave?: string;
}

/** The fields a person must supply, in prompt order. */
export const REQUIRED_FIELDS = ["cliente", "productos", "direccion"] as const;

/** A validated order ready to send. */
export interface OutgoingOrder {
  /** Line number in the batch input; absent for a one-shot order. */
  linea?: number;
  /** Idempotency key: from the input, or generated once. */
  clave: string;
  /** The request line's value. */
  message: Record<string, unknown>;
}

/** How to prepare orders. */
export interface PrepareOptions {
  /** Ask the server for a `terminado` event (`--wait`). */
  wait: boolean;
  /** @default crypto.randomUUID */
  newKey?: () => string;
}

/** An order or what is wrong with it, by field. */
export type Prepared =
  | { ok: true; order: OutgoingOrder }
  | { ok: false; errores: Record<string, string> };

/**
 * Splits product lists given as `pan, leche` (or as several flags), trimming
 * each and dropping empty pieces such as the one after a trailing comma.
 *
 * @example
 * ```ts
 * splitProducts(["pan, leche", "huevos,"]); // ["pan", "leche", "huevos"]
 * ```
 */
export function splitProducts(values: readonly string[]): string[] {
  return values.flatMap((value) => value.split(",")).map((p) => p.trim()).filter((p) => p !== "");
}

/** The required fields that `fields` lacks, in prompt order. */
export function missingFields(fields: OrderFields): (typeof REQUIRED_FIELDS)[number][] {
  return REQUIRED_FIELDS.filter((name) => fields[name] === undefined);
}

/**
 * Validates an order with the shared schema and turns it into the request
 * to send: normalised fields, an idempotency key, and `avisar` with `wait`
 * (an `avisar` in the input is replaced: the client decides what it waits for).
 *
 * @example
 * ```ts
 * prepareOrder({ cliente: "Ana", productos: ["pan"], direccion: "Calle 1" }, { wait: false });
 * // { ok: true, order: { clave: "3b2…", message: { cliente: "Ana", …, clave: "3b2…" } } }
 * ```
 */
export function prepareOrder(input: Record<string, unknown>, options: PrepareOptions): Prepared {
  const validation = parseOrder(input);
  if (!validation.ok) return validation;
  // parseOrder only ever yields orders.
  const request = validation.request as Extract<Request, { tipo: "pedido" }>;
  const clave = request.clave ?? (options.newKey ?? (() => crypto.randomUUID()))();
  const message: Record<string, unknown> = {
    cliente: request.cliente,
    productos: request.productos,
    direccion: request.direccion,
    clave,
  };
  if (options.wait) message.avisar = true;
  return { ok: true, order: { clave, message } };
}

/** A line of batch input that cannot be sent. */
export interface BatchProblem {
  linea: number;
  mensaje: string;
}

/**
 * Reads NDJSON orders: one JSON object per line; blank lines are skipped.
 * Every line is checked, so that all problems are reported at once.
 *
 * @example
 * ```ts
 * const { orders, problems } = parseBatch('{"cliente":"Ana","productos":["pan"],"direccion":"C 1"}\n\n{}', { wait: false });
 * orders[0].linea; // 1
 * problems[0]; // { linea: 3, mensaje: "cliente: falta cliente; productos: falta productos; …" }
 * ```
 */
export function parseBatch(
  text: string,
  options: PrepareOptions,
): { orders: OutgoingOrder[]; problems: BatchProblem[] } {
  const orders: OutgoingOrder[] = [];
  const problems: BatchProblem[] = [];
  for (const [index, raw] of text.split("\n").entries()) {
    const linea = index + 1;
    const line = raw.trim();
    if (line === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      problems.push({ linea, mensaje: `JSON inválido: ${(error as Error).message}` });
      continue;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      problems.push({ linea, mensaje: "se esperaba un objeto JSON" });
      continue;
    }
    const tipo = (value as Record<string, unknown>).tipo;
    if (tipo !== undefined && tipo !== "pedido") {
      problems.push({ linea, mensaje: `solo se envían pedidos, no tipo ${JSON.stringify(tipo)}` });
      continue;
    }
    const prepared = prepareOrder(value as Record<string, unknown>, options);
    if (prepared.ok) orders.push({ ...prepared.order, linea });
    else problems.push({ linea, mensaje: describeErrores(prepared.errores) });
  }
  return { orders, problems };
}

/**
 * Per-field errors on one line, `; `-separated. A text that already names its
 * field is shown alone; others get the field in front.
 *
 * @example
 * ```ts
 * describeErrores({ cliente: "falta cliente", "productos.0": "el producto no puede estar vacío" });
 * // "falta cliente; productos.0: el producto no puede estar vacío"
 * ```
 */
export function describeErrores(errores: Record<string, string>): string {
  return Object.entries(errores)
    .map(([field, text]) => text.split(" ").includes(field) ? text : `${field}: ${text}`)
    .join("; ");
}
