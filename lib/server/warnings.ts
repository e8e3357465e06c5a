/**
 * Start-up warnings about how the server is deployed: what it exposes to the
 * network, and whether the descriptor limit can hold `--max-connections`.
 * Each is one line or nothing; only `readOpenFilesLimit` does I/O.
 *
 * @module
 */
import { isLoopback } from "../util/net.ts";

/** What protects a server that others can reach. */
export interface Guards {
  tls: boolean;
  tokens: boolean;
}

/**
 * The warning for listening beyond loopback without TLS or without tokens,
 * saying what is exposed; `undefined` when every address is loopback or both
 * guards are on.
 *
 * @example
 * ```ts
 * exposureWarning(["127.0.0.1", "::1"], { tls: false, tokens: false }); // undefined
 * exposureWarning(["0.0.0.0"], { tls: true, tokens: false });
 * // "se escucha en 0.0.0.0 sin tokens: …"
 * ```
 */
export function exposureWarning(hosts: readonly string[], guards: Guards): string | undefined {
  const exposed = hosts.filter((host) => !(isLoopback(host) || /^localhost\.?$/i.test(host)));
  if (exposed.length === 0 || (guards.tls && guards.tokens)) return undefined;
  const where = `se escucha en ${exposed.join(" y ")}`;
  const anyone = "quien llegue a esa dirección puede enviar pedidos y leer las estadísticas";
  if (!guards.tls && !guards.tokens) {
    return `${where} sin TLS ni tokens: ${anyone}, y pedidos y claves viajan sin cifrar (use --tls-cert/--tls-key y --tokens, o --host 127.0.0.1)`;
  }
  if (!guards.tls) {
    return `${where} sin TLS: pedidos, claves y tokens viajan sin cifrar (use --tls-cert y --tls-key)`;
  }
  return `${where} sin tokens: ${anyone} (use --tokens)`;
}

/**
 * Descriptors the server needs besides its connections: standard streams,
 * listeners, the database and its journal and lock files, the runtime's own.
 */
export const DESCRIPTOR_RESERVE = 64;

/**
 * The warning for a `--max-connections` the descriptor limit cannot hold, or
 * `undefined`. `free` is how many descriptors the process could still open
 * (see {@linkcode probeFreeDescriptors}), `undefined` if unknown. Past the
 * limit `accept` fails (EMFILE) and new clients wait unanswered until
 * descriptors are freed.
 *
 * @example
 * ```ts
 * descriptorWarning(10_000, 1000);
 * // "--max-connections 10000 no cabe en los descriptores libres (1000): …"
 * ```
 */
export function descriptorWarning(
  maxConnections: number,
  free: number | undefined,
): string | undefined {
  if (free === undefined || maxConnections + DESCRIPTOR_RESERVE <= free) return undefined;
  const room = Math.max(0, free - DESCRIPTOR_RESERVE);
  return `--max-connections ${maxConnections} no cabe en los descriptores libres (${free}): ` +
    `pasadas unas ${room} conexiones, las nuevas esperarán sin respuesta hasta que se cierren otras ` +
    `(suba el límite con ulimit -n o LimitNOFILE=, o baje --max-connections)`;
}

/**
 * How many more files this process can open, up to `want`: opens
 * `/dev/null` until it has `want` or the system refuses, then closes them
 * all. `undefined` where `/dev/null` cannot be opened at all.
 *
 * Deno raises the soft limit to the hard one as it starts, and has no call
 * to read or set limits; the server's permissions do not reach
 * `/proc/self/limits` either (Deno wants all permissions for `/proc`). So
 * the limit is measured by trying: about 10 µs a descriptor, done once by
 * the command line before anything else is opened.
 */
export function probeFreeDescriptors(want: number): number | undefined {
  const files: Deno.FsFile[] = [];
  try {
    while (files.length < want) files.push(Deno.openSync("/dev/null", { read: true }));
  } catch (error) {
    if (files.length === 0 && !isTooManyOpenFiles(error)) return undefined;
  } finally {
    for (const file of files) file.close();
  }
  return files.length;
}

function isTooManyOpenFiles(error: unknown): boolean {
  return error instanceof Error && /os error 24|too many open files/i.test(error.message);
}
