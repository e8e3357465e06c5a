/**
 * Small network helpers shared by the server, the client, the tools and the
 * tests: how an address is written, and writing every byte of a buffer.
 *
 * @module
 */

/**
 * Formats an address as `host:port`, bracketing IPv6.
 *
 * @example
 * ```ts
 * formatAddress({ hostname: "::", port: 8888 }); // "[::]:8888"
 * ```
 */
export function formatAddress(address: { hostname: string; port: number }): string {
  const host = address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname;
  return `${host}:${address.port}`;
}

/** Anything with an asynchronous `write` that may write fewer bytes than given (a socket, a file). */
export interface PartialWriter {
  write(bytes: Uint8Array): Promise<number>;
}

/** Anything with a synchronous `writeSync` that may write fewer bytes than given (stdout, stderr). */
export interface PartialWriterSync {
  writeSync(bytes: Uint8Array): number;
}

/**
 * Writes every byte: `write` may take only part of a buffer, so it is called
 * again with the rest until nothing is left.
 *
 * @example
 * ```ts
 * await writeAll(conn, new TextEncoder().encode('{"tipo":"estadisticas"}\n'));
 * ```
 * @throws whatever `write` throws (a reset or closed connection)
 */
export async function writeAll(writer: PartialWriter, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await writer.write(bytes.subarray(written));
}

/**
 * {@linkcode writeAll} for synchronous writers, such as `Deno.stdout` and
 * `Deno.stderr` where a line must be out before the next statement runs.
 *
 * @example
 * ```ts
 * writeAllSync(Deno.stderr, new TextEncoder().encode("aviso\n"));
 * ```
 */
export function writeAllSync(writer: PartialWriterSync, bytes: Uint8Array): void {
  let written = 0;
  while (written < bytes.length) written += writer.writeSync(bytes.subarray(written));
}

/** Thrown when a port to listen on is taken (the TCP listeners' or `--http`'s). */
export class PortInUseError extends Error {
  override name = "PortInUseError";
}

/**
 * The address a limit counts: an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`)
 * is its IPv4 address, so one host is one count whichever socket it reached.
 *
 * @example
 * ```ts
 * normalizeIp("::ffff:10.0.0.7"); // "10.0.0.7"
 * normalizeIp("2001:db8::1"); // "2001:db8::1"
 * ```
 */
export function normalizeIp(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return mapped ? mapped[1]! : ip.toLowerCase();
}

/**
 * Whether `ip` is a loopback address: 127.0.0.0/8 or `::1` (mapped or not).
 *
 * @example
 * ```ts
 * isLoopback("127.0.0.2"); // true
 * isLoopback("10.0.0.1"); // false
 * ```
 */
export function isLoopback(ip: string): boolean {
  const normalized = normalizeIp(ip);
  return normalized === "::1" || /^127\.\d+\.\d+\.\d+$/.test(normalized);
}
