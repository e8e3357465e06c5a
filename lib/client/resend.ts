/**
 * The shell command that sends an order again under its own idempotency key,
 * shown when the order's fate is unknown (sent, but no reply): resending it
 * with that key cannot create a second order. Pure.
 *
 * @module
 */
import { CLIENT_PROGRAM } from "./config.ts";
import type { OutgoingOrder } from "./orders.ts";

/** Where the order went. */
export interface ResendTarget {
  /** As given to `--host`, without brackets. */
  host: string;
  port: number;
}

/**
 * The command to resend `order` to `target`: flags when they can carry the
 * order exactly, else its JSON line on stdin (a product containing a comma
 * cannot be given to `--productos`).
 *
 * @example
 * ```ts
 * resendCommand(
 *   { clave: "k1", message: { cliente: "Ana", productos: ["pan"], direccion: "Calle 1", clave: "k1" } },
 *   { host: "::1", port: 8888 },
 * );
 * // "pedidos-client --host ::1 --port 8888 --cliente=Ana --productos=pan --direccion='Calle 1' --clave=k1"
 * ```
 */
export function resendCommand(order: OutgoingOrder, target: ResendTarget): string {
  const { cliente, productos, direccion, avisar } = order.message as {
    cliente: string;
    productos: string[];
    direccion: string;
    avisar?: boolean;
  };
  const program = [
    CLIENT_PROGRAM,
    "--host",
    shellQuote(target.host),
    "--port",
    String(target.port),
  ];
  const wait = avisar ? ["--wait"] : [];
  if (productos.some((producto) => producto.includes(","))) {
    const line = shellQuote(JSON.stringify(order.message));
    return [`printf '%s\\n' ${line} |`, ...program, "--file", "-", ...wait].join(" ");
  }
  return [
    ...program,
    `--cliente=${shellQuote(cliente)}`,
    `--productos=${shellQuote(productos.join(","))}`,
    `--direccion=${shellQuote(direccion)}`,
    `--clave=${shellQuote(order.clave)}`,
    ...wait,
  ].join(" ");
}

/**
 * Quotes a word for a POSIX shell: as is when it is plainly safe, else in
 * single quotes (a quote inside becomes `'\''`).
 *
 * @example
 * ```ts
 * shellQuote("Calle 1"); // "'Calle 1'"
 * shellQuote("O'Higgins"); // "'O'\\''Higgins'"
 * ```
 */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
