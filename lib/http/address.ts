/**
 * The `--http` flag's value: `PORT`, `ADDR:PORT` or `[IPV6]:PORT`. A bare
 * port means loopback only, so the dashboard and the metrics are never
 * exposed by accident; an address (`0.0.0.0:9090`, `[::]:9090`) says where.
 * Pure: no I/O.
 *
 * @module
 */

/** Where the HTTP side listens. */
export interface HttpAddress {
  hostname: string;
  port: number;
}

/** Where a bare `--http PORT` listens. */
export const HTTP_DEFAULT_HOSTNAME = "127.0.0.1";

/**
 * Reads `PORT`, `HOST:PORT` or `[IPV6]:PORT`; `null` if it is none of them
 * (port not a whole number in 0..65535, empty host, IPv6 without brackets).
 *
 * @example
 * ```ts
 * parseHttpAddress("9090"); // { hostname: "127.0.0.1", port: 9090 }
 * parseHttpAddress("[::]:9090"); // { hostname: "::", port: 9090 }
 * parseHttpAddress("0.0.0.0:0"); // { hostname: "0.0.0.0", port: 0 }
 * ```
 */
export function parseHttpAddress(text: string): HttpAddress | null {
  const match = /^(?:(?:\[([0-9A-Fa-f:.%\w]+)\]|([^\s:[\]]+)):)?(\d{1,5})$/.exec(text);
  if (!match) return null;
  const port = Number(match[3]);
  if (port > 65535) return null;
  return { hostname: match[1] ?? match[2] ?? HTTP_DEFAULT_HOSTNAME, port };
}

/**
 * The URL a browser opens for an address as bound: brackets around IPv6,
 * and a loopback in place of an any-address (the page is reachable there).
 *
 * @example
 * ```ts
 * httpUrl({ hostname: "::", port: 9090 }); // "http://[::1]:9090/"
 * ```
 */
export function httpUrl(address: HttpAddress): string {
  const host = address.hostname === "0.0.0.0"
    ? "127.0.0.1"
    : address.hostname === "::"
    ? "::1"
    : address.hostname;
  return `http://${host.includes(":") ? `[${host}]` : host}:${address.port}/`;
}
