/**
 * Finding the server: reading `--host`, resolving it to every address, and
 * connecting to the first address that answers, within one time budget.
 *
 * IP literals are used as given (IPv6 with or without brackets, with a zone
 * such as `fe80::1%eth0`). `localhost` is `::1` then `127.0.0.1` without
 * asking anyone (RFC 6761), since many `/etc/hosts` list only one of them.
 * Other names go through the system resolver (`getaddrinfo`, which reads
 * `/etc/hosts` and DNS) via `node:dns` `lookup`, which returns every address
 * in the system's preferred order and needs only `--allow-net`.
 *
 * @module
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { UsageError } from "../util/cli.ts";
import { ConnectionError, type ConnectionFailure } from "./errors.ts";
import { formatAddress } from "../util/net.ts";

/** An address family, as `--verbose` names it. */
export type Family = "IPv4" | "IPv6";

/** One address to try. */
export interface Candidate {
  address: string;
  family: Family;
}

/** Resolves a name to all its addresses, in preference order. */
export type Resolver = (name: string) => Promise<Candidate[]>;

/** Opens a TCP connection to one address; must honour `signal`. */
export type Dial = (
  candidate: Candidate,
  port: number,
  signal: AbortSignal,
) => Promise<Deno.TcpConn>;

/** Options of {@linkcode connectToHost}. */
export interface ConnectOptions {
  /** Budget for resolving and connecting, shared by all addresses. */
  timeoutMs: number;
  /** Progress lines for `--verbose`. @default ignored */
  trace?: (message: string) => void;
  /** @default the system resolver */
  resolve?: Resolver;
  /** @default `Deno.connect` */
  dial?: Dial;
}

/** A connection and the address that accepted it. */
export interface Connected {
  conn: Deno.TcpConn;
  candidate: Candidate;
}

const LOCALHOST: readonly Candidate[] = [
  { address: "::1", family: "IPv6" },
  { address: "127.0.0.1", family: "IPv4" },
];

/**
 * Checks a host (from `--host` or `source`) and removes IPv6 brackets.
 *
 * @example
 * ```ts
 * parseHost("[::1]"); // "::1"
 * parseHost("fe80::1%lo"); // "fe80::1%lo"
 * parseHost("localhost:8888"); // throws UsageError: use --port
 * ```
 * @throws {UsageError} if the value is empty, carries a port, or is a malformed IPv6 literal
 */
export function parseHost(input: string, source = "--host"): string {
  const portHint = `${source}: no incluya el puerto; use --port`;
  if (input.startsWith("[")) {
    const close = input.indexOf("]");
    if (close !== -1 && close < input.length - 1) throw new UsageError(portHint);
    const inner = input.slice(1, close === -1 ? input.length : close);
    if (close === -1 || isIP(inner) !== 6) {
      throw new UsageError(`${source}: ${input} no es una dirección IPv6 válida`);
    }
    return inner;
  }
  if (input.trim() === "") throw new UsageError(`${source}: no puede estar vacío`);
  if (input.includes(":") && isIP(input) !== 6) {
    if (/^[^:]+:\d+$/.test(input)) throw new UsageError(portHint);
    throw new UsageError(`${source}: ${input} no es una dirección IPv6 válida`);
  }
  return input;
}

/** The system resolver: every address of `name`, as `getaddrinfo` orders them. */
export const systemResolver: Resolver = async (name) => {
  const addresses = await lookup(name, { all: true, order: "verbatim" });
  return addresses.map(({ address, family }) => ({
    address,
    family: family === 6 ? "IPv6" : "IPv4",
  }));
};

/**
 * Every address to try for `host` (already checked by {@linkcode parseHost}).
 *
 * @throws {ConnectionError} `inalcanzable` if the name does not resolve
 */
export async function resolveHost(
  host: string,
  resolve: Resolver = systemResolver,
): Promise<Candidate[]> {
  const version = isIP(host);
  if (version !== 0) return [{ address: host, family: version === 6 ? "IPv6" : "IPv4" }];
  if (/^localhost\.?$/i.test(host)) return [...LOCALHOST];
  let candidates: Candidate[];
  try {
    candidates = await resolve(host);
  } catch (error) {
    throw new ConnectionError("inalcanzable", describeLookupError(host, error), { cause: error });
  }
  if (candidates.length === 0) {
    throw new ConnectionError("inalcanzable", `el nombre ${host} no tiene direcciones`);
  }
  const seen = new Set<string>();
  return candidates.filter(({ address }) => !seen.has(address) && seen.add(address));
}

const denoDial: Dial = (candidate, port, signal) =>
  Deno.connect({ hostname: candidate.address, port, signal });

/**
 * Resolves `host` and tries each address in turn until one accepts. The
 * budget is shared: each attempt gets an equal part of what is left, so an
 * address that swallows packets cannot starve the next one, while a refused
 * address (which fails at once) leaves its time to the others.
 *
 * @example
 * ```ts
 * const { conn, candidate } = await connectToHost("localhost", 8888, { timeoutMs: 5000 });
 * candidate.family; // "IPv6" if the server listens on ::1
 * ```
 * @throws {ConnectionError} naming host and port, with each address's reason
 */
export async function connectToHost(
  host: string,
  port: number,
  options: ConnectOptions,
): Promise<Connected> {
  const { timeoutMs, trace = () => {}, dial = denoDial } = options;
  const deadline = Date.now() + timeoutMs;
  const target = formatAddress({ hostname: host, port });
  let candidates: Candidate[];
  try {
    candidates = await withDeadline(
      resolveHost(host, options.resolve),
      timeoutMs,
      () => new ConnectionError("tiempo", `no se pudo resolver ${host} en ${timeoutMs} ms`),
    );
  } catch (error) {
    if (!(error instanceof ConnectionError)) throw error;
    throw new ConnectionError(error.failure, `no se pudo conectar a ${target}: ${error.message}`, {
      cause: error,
    });
  }
  if (candidates.length > 1) {
    trace(
      `${host} tiene ${candidates.length} direcciones: ${
        candidates.map((c) => c.address).join(", ")
      }`,
    );
  }
  const failures: { candidate: Candidate; failure: ConnectionFailure; reason: string }[] = [];
  for (const [index, candidate] of candidates.entries()) {
    const budget = Math.max(1, (deadline - Date.now()) / (candidates.length - index));
    const address = formatAddress({ hostname: candidate.address, port });
    trace(`conectando a ${address} (${candidate.family})…`);
    try {
      const conn = await dialWithin(dial, candidate, port, budget);
      trace(`conectado a ${address} por ${candidate.family}`);
      return { conn, candidate };
    } catch (error) {
      const { failure, reason } = describeConnectError(error, budget);
      trace(`${address}: ${reason}`);
      failures.push({ candidate, failure, reason });
    }
  }
  const reasons = failures.length === 1
    ? failures[0]!.reason
    : failures.map(({ candidate, reason }) => `${candidate.address}: ${reason}`).join("; ");
  const kinds = new Set(failures.map(({ failure }) => failure));
  // One refusal means a host is up with the port closed (a server restarting):
  // worth retrying, unlike a name or network that is not there.
  const failure = kinds.has("rechazada")
    ? "rechazada"
    : kinds.has("tiempo")
    ? "tiempo"
    : "inalcanzable";
  throw new ConnectionError(failure, `no se pudo conectar a ${target}: ${reasons}`);
}

async function dialWithin(
  dial: Dial,
  candidate: Candidate,
  port: number,
  budgetMs: number,
): Promise<Deno.TcpConn> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), budgetMs);
  try {
    return await dial(candidate, port, controller.signal);
  } finally {
    clearTimeout(timer);
  }
}

async function withDeadline<T>(
  promise: Promise<T>,
  ms: number,
  onTimeout: () => Error,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function describeConnectError(
  error: unknown,
  budgetMs: number,
): { failure: ConnectionFailure; reason: string } {
  if (error instanceof Deno.errors.ConnectionRefused) {
    return { failure: "rechazada", reason: "conexión rechazada" };
  }
  // A reset while connecting: the server is there but dropped this one (a
  // listener being swapped as certificates are reloaded); worth retrying.
  if (error instanceof Deno.errors.ConnectionReset) {
    return { failure: "rechazada", reason: "conexión reiniciada" };
  }
  if (isAbort(error) || error instanceof Deno.errors.TimedOut) {
    return { failure: "tiempo", reason: `sin respuesta en ${Math.round(budgetMs)} ms` };
  }
  if (error instanceof Deno.errors.NetworkUnreachable) {
    return { failure: "inalcanzable", reason: "red inalcanzable" };
  }
  // EADDRNOTAVAIL ("os error 99"): no local address can reach it, e.g. an
  // IPv6 address on a machine without IPv6.
  if (error instanceof Deno.errors.AddrNotAvailable) {
    return {
      failure: "inalcanzable",
      reason: "dirección no utilizable desde este equipo (ninguna dirección local llega a ella)",
    };
  }
  const code = (error as { code?: unknown })?.code;
  if (code === "EHOSTUNREACH") return { failure: "inalcanzable", reason: "equipo inalcanzable" };
  if (code === "EINVAL") {
    return {
      failure: "inalcanzable",
      reason: "dirección no válida para conectar (¿IPv6 de enlace local sin %interfaz?)",
    };
  }
  return {
    failure: "inalcanzable",
    reason: error instanceof Error ? error.message : String(error),
  };
}

function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === "AbortError";
}

function describeLookupError(host: string, error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  if (code === "ENOTFOUND") return `el nombre ${host} no existe`;
  if (code === "EAI_AGAIN") {
    return `no se pudo resolver ${host}: el servidor de nombres no responde`;
  }
  return `no se pudo resolver ${host}: ${error instanceof Error ? error.message : String(error)}`;
}
