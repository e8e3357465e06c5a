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
