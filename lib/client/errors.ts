/**
 * What can go wrong in the client, how each failure maps to an exit code,
 * and the one place that decides what is worth retrying.
 *
 * @module
 */
import type { Codigo, ErrorReply, Reply } from "../wire/protocol.ts";
import { UsageError } from "../util/cli.ts";

/** The client's exit codes, as `--help` and README document them. */
export const EXIT = {
  /** Accepted (or done, with `--wait`); a query answered. */
  ok: 0,
  /** Rejected by the server, or the order failed. */
  rechazado: 1,
  /** Bad command line or invalid input. */
  uso: 2,
  /** Could not connect, the connection was lost, or a reply timed out. */
  conexion: 3,
} as const;

/** How a connection failed. */
export type ConnectionFailure =
  /** Every address refused the connection: nobody listens there (yet). */
  | "rechazada"
  /** The name does not resolve, or the network cannot reach the address. */
  | "inalcanzable"
  /** Connecting or a reply took longer than `--timeout-ms`. */
  | "tiempo"
  /** The connection closed or broke before a reply arrived. */
  | "perdida"
  /** The peer does not speak the pedidos protocol. */
  | "protocolo"
  /** The TLS handshake failed: a certificate not trusted or not for this host, or no TLS. */
  | "tls";

/** The server could not be reached or stopped answering; exit code 3. */
export class ConnectionError extends Error {
  override name = "ConnectionError";
  readonly failure: ConnectionFailure;

  constructor(failure: ConnectionFailure, message: string, options?: ErrorOptions) {
    super(message, options);
    this.failure = failure;
  }
}

/** The server turned the connection away in its greeting (e.g. too many connections). */
export class RefusedByServerError extends Error {
  override name = "RefusedByServerError";
  readonly reply: ErrorReply;

  constructor(reply: ErrorReply) {
    super(reply.mensaje);
    this.reply = reply;
  }
}

/** Input that cannot become a request (a bad order, an unreadable file); exit code 2. */
export class InputError extends Error {
  override name = "InputError";
}

// `limite` and `demasiadas_conexiones` say "try later" and nothing was stored.
// `apagando` is final on purpose: the issue counts it as a rejection.
const RETRIABLE_CODES: ReadonlySet<Codigo> = new Set(["limite", "demasiadas_conexiones"]);

/**
 * Whether a reply asks to try again later.
 *
 * @example
 * ```ts
 * isRetriableReply({ ok: false, codigo: "limite", mensaje: "…" }); // true
 * ```
 */
export function isRetriableReply(reply: Reply): boolean {
  return !reply.ok && RETRIABLE_CODES.has(reply.codigo);
}

/**
 * Whether a failure may be retried: a refused connection, a connection lost
 * before its reply (orders carry an idempotency key, so resending is safe),
 * or a greeting that says "try later". Timeouts are final: the user's
 * patience was already spent.
 */
export function isRetriableError(error: unknown): boolean {
  if (error instanceof ConnectionError) {
    return error.failure === "rechazada" || error.failure === "perdida";
  }
  return error instanceof RefusedByServerError && isRetriableReply(error.reply);
}

/** The exit code for an error that ended the run. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError || error instanceof InputError) return EXIT.uso;
  if (error instanceof ConnectionError) return EXIT.conexion;
  return EXIT.rechazado;
}
