/**
 * Abuse limits, as plain values: how many connections one address may hold,
 * and which replies show that a client is doing something useful (so that a
 * connection sending only invalid messages is closed as idle). Pure.
 *
 * @module
 */
import type { Codigo, Reply } from "../wire/protocol.ts";
import { isLoopback, normalizeIp } from "../util/net.ts";

/**
 * Default open connections per remote address. A pedidos client uses one
 * connection; 64 lets an office or a shop's back end behind one NAT address
 * send dozens at once, while taking the whole of `--max-connections`
 * (10,000) needs some 160 addresses instead of one.
 */
export const DEFAULT_MAX_CONNECTIONS_PER_IP = 64;

/** Options of {@linkcode PerIpLimiter}. */
export interface PerIpOptions {
  /** Most open connections from one address. */
  limit: number;
  /** Loopback addresses are not counted (the default limit on a machine's own tools). */
  exemptLoopback: boolean;
}

/**
 * Counts open connections per remote address.
 *
 * @example
 * ```ts
 * const limiter = new PerIpLimiter({ limit: 2, exemptLoopback: false });
 * limiter.tryOpen("10.0.0.1"); // true
 * limiter.tryOpen("10.0.0.1"); // true
 * limiter.tryOpen("10.0.0.1"); // false: refuse this one
 * limiter.release("10.0.0.1");
 * ```
 */
export class PerIpLimiter {
  readonly #options: PerIpOptions;
  readonly #open = new Map<string, number>();

  constructor(options: PerIpOptions) {
    this.#options = options;
  }

  /** Counts one more connection from `ip`, unless it already holds the limit. */
  tryOpen(ip: string): boolean {
    if (this.#options.exemptLoopback && isLoopback(ip)) return true;
    const key = normalizeIp(ip);
    const count = this.#open.get(key) ?? 0;
    if (count >= this.#options.limit) return false;
    this.#open.set(key, count + 1);
    return true;
  }

  /** A connection counted by `tryOpen` has closed. */
  release(ip: string): void {
    if (this.#options.exemptLoopback && isLoopback(ip)) return;
    const key = normalizeIp(ip);
    const count = this.#open.get(key) ?? 0;
    if (count <= 1) this.#open.delete(key);
    else this.#open.set(key, count - 1);
  }

  /** Open connections counted for `ip`. */
  count(ip: string): number {
    return this.#open.get(normalizeIp(ip)) ?? 0;
  }

  /** Addresses with at least one counted connection. */
  get addresses(): number {
    return this.#open.size;
  }
}

// Replies that say the message was not a request this connection may make.
const NOT_A_REQUEST: ReadonlySet<Codigo> = new Set([
  "json_invalido",
  "pedido_invalido",
  "demasiado_grande",
  "no_autorizado",
]);

/**
 * Whether a reply answers a request the connection was entitled to make:
 * only those keep a connection from being closed as idle, so one that sends
 * nothing but invalid or unauthorised messages is closed after `--idle-ms`.
 *
 * @example
 * ```ts
 * countsAsActivity(failure("limite")); // true: a valid order, turned away for now
 * countsAsActivity(failure("json_invalido")); // false
 * ```
 */
export function countsAsActivity(reply: Reply): boolean {
  return reply.ok || !NOT_A_REQUEST.has(reply.codigo);
}
