/**
 * The orders a load run sends: deterministic functions of the run's tag and
 * the order's index, so that verification can rebuild what was sent from an
 * id ledger alone, and so that the invalid messages mixed in are spread evenly
 * through the run. Pure: no I/O.
 *
 * @module
 */

/** What kind of message index `i` is, and so which reply it must get. */
export type OrderKind = "valido" | "json_invalido" | "pedido_invalido";

/** The content of a valid order, as the database must hold it. */
export interface OrderContent {
  cliente: string;
  productos: string[];
  direccion: string;
}

/** `cliente` of every order starts with this, followed by the run's tag. */
export const CLIENT_PREFIX = "carga";

// "café" and "nº" are there on purpose: content must survive UTF-8 both ways.
const PRODUCTS = ["pan", "leche", "huevos", "café", "arroz", "aceite", "tomates", "queso"];

/** The products of message `index`: one to three, a function of `index % 3` and `index % 8`. */
function productsOf(index: number): string[] {
  const productos: string[] = [];
  for (let k = 0; k < 1 + index % 3; k++) productos.push(PRODUCTS[(index + k) % PRODUCTS.length]!);
  return productos;
}

/** The products repeat every 24 indices (3 × 8): their JSON, by `index % 24`, built once. */
const PRODUCT_CYCLE = 24;
const PRODUCTS_JSON = Array.from(
  { length: PRODUCT_CYCLE },
  (_, i) => JSON.stringify(productsOf(i)),
);

function direccionOf(index: number): string {
  return `Calle ${1 + index % 997} nº ${index}`;
}

/**
 * A fresh random tag naming one run, 8 lowercase hex digits.
 *
 * @example
 * ```ts
 * newRunTag(); // "3fa91c07"
 * ```
 */
export function newRunTag(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * Generates the messages of one run.
 *
 * Invalid messages are placed by a running total, `floor((i + 1) · bad) >
 * floor(i · bad)`, so any window of the run holds its share of them; they
 * alternate between a JSON syntax error (`json_invalido`) and a well-formed
 * object with an empty product list (`pedido_invalido`). Neither kind makes
 * the server close the connection, so pipelined runs keep going.
 *
 * @example
 * ```ts
 * const orders = new OrderGenerator("3fa91c07", 0.5);
 * orders.kind(0); // "valido"
 * orders.kind(1); // "json_invalido"
 * orders.line(0); // '{"cliente":"carga-3fa91c07-0","productos":["pan"],"direccion":"Calle 1 nº 0"}\n'
 * ```
 */
export class OrderGenerator {
  /** The run's tag, part of every `cliente`. */
  readonly tag: string;
  /** Fraction of invalid messages, in [0, 1]. */
  readonly bad: number;
  readonly #clientPrefix: string;

  /** @throws {RangeError} if `bad` is outside [0, 1] or the tag is not alphanumeric */
  constructor(tag: string, bad = 0) {
    if (!(bad >= 0 && bad <= 1)) {
      throw new RangeError(
        `la fracción de mensajes inválidos debe estar en [0, 1], no ${bad}`,
      );
    }
    if (!/^[0-9a-z]+$/.test(tag)) {
      throw new RangeError(
        `la etiqueta de la carga debe ser [0-9a-z]+, no ${tag}`,
      );
    }
    this.tag = tag;
    this.bad = bad;
    this.#clientPrefix = `${CLIENT_PREFIX}-${tag}-`;
  }

  /** Whether message `index` is valid, and if not which error it must get. */
  kind(index: number): OrderKind {
    const before = Math.floor(index * this.bad);
    if (Math.floor((index + 1) * this.bad) === before) return "valido";
    return before % 2 === 0 ? "json_invalido" : "pedido_invalido";
  }

  /** The content message `index` carries (for an invalid one, what it would have carried). */
  content(index: number): OrderContent {
    return {
      cliente: this.#clientPrefix + index,
      productos: productsOf(index),
      direccion: direccionOf(index),
    };
  }

  /** Message `index` as one NDJSON line, newline included. */
  line(index: number): string {
    const cliente = this.#clientPrefix + index;
    const direccion = direccionOf(index);
    switch (this.kind(index)) {
      case "valido":
        return `{"cliente":"${cliente}","productos":${
          PRODUCTS_JSON[index % PRODUCT_CYCLE]
        },"direccion":"${direccion}"}\n`;
      case "json_invalido":
        return `{"cliente":"${cliente}",,"direccion":"${direccion}"}\n`;
      case "pedido_invalido":
        return `{"cliente":"${cliente}","productos":[],"direccion":"${direccion}"}\n`;
    }
  }

  /**
   * The index a stored `cliente` was generated for, or undefined if it does
   * not belong to this run.
   *
   * @example
   * ```ts
   * new OrderGenerator("ab12").indexOf("carga-ab12-42"); // 42
   * new OrderGenerator("ab12").indexOf("Ana"); // undefined
   * ```
   */
  indexOf(cliente: string): number | undefined {
    if (!cliente.startsWith(this.#clientPrefix)) return undefined;
    const digits = cliente.slice(this.#clientPrefix.length);
    return /^(0|[1-9]\d*)$/.test(digits) ? Number(digits) : undefined;
  }

  /** What every `cliente` of this run starts with. */
  get clientPrefix(): string {
    return this.#clientPrefix;
  }
}
