/**
 * Start-up warnings about how the server is deployed: what it exposes to the
 * network, and whether the descriptor limit can hold `--max-connections`.
 * Each is one line or nothing; only `readOpenFilesLimit` does I/O.
 *
 * @module
 */
import { isLoopback } from "./limits.ts";

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
 * The soft limit on open files from the text of `/proc/self/limits`;
 * `undefined` if absent or unlimited.
 *
 * @example
 * ```ts
 * parseOpenFilesLimit("Max open files            1024                 4096                 files");
 * // 1024
 * ```
 */
export function parseOpenFilesLimit(limits: string): number | undefined {
  const soft = /^Max open files\s+(\S+)/m.exec(limits)?.[1];
  return soft === undefined || !/^\d+$/.test(soft) ? undefined : Number(soft);
}

/**
 * The warning for a `--max-connections` the descriptor limit cannot hold, or
 * `undefined`. Past the limit `accept` fails (EMFILE) and new clients wait
 * unanswered until descriptors are freed.
 *
 * @example
 * ```ts
 * descriptorWarning(10_000, 1024);
 * // "--max-connections 10000 no cabe en el límite de 1024 descriptores abiertos: …"
 * ```
 */
export function descriptorWarning(
  maxConnections: number,
  softLimit: number | undefined,
): string | undefined {
  if (softLimit === undefined || maxConnections + DESCRIPTOR_RESERVE <= softLimit) {
    return undefined;
  }
  const room = Math.max(0, softLimit - DESCRIPTOR_RESERVE);
  return `--max-connections ${maxConnections} no cabe en el límite de ${softLimit} descriptores abiertos: ` +
    `pasadas unas ${room} conexiones, las nuevas esperarán sin respuesta hasta que se cierren otras ` +
    `(suba el límite con ulimit -n o LimitNOFILE=, o baje --max-connections)`;
}

/**
 * This process's soft limit on open files, where the system says it
 * (`/proc/self/limits` on Linux); `undefined` elsewhere. Deno raises the soft
 * limit to the hard one as it starts, so this is already the most it can be.
 */
export function readOpenFilesLimit(): number | undefined {
  try {
    return parseOpenFilesLimit(Deno.readTextFileSync("/proc/self/limits"));
  } catch {
    return undefined;
  }
}
