/**
 * What the bench's ceiling servers (`trivial_server.ts`, `minimal_server.ts`)
 * share: their listening flags, the `ok` line they answer an order with, and
 * running until a signal stops them.
 *
 * @module
 */
import { z } from "zod";
import { type FlagSpec, integerFlag } from "../../lib/util/cli.ts";

/** `--host` and `--port`, as both servers take them. */
export const LISTEN_FLAGS: readonly FlagSpec[] = [
  {
    name: "host",
    type: "string",
    placeholder: "DIR",
    default: "127.0.0.1",
    description: "dirección en la que escuchar",
  },
  {
    name: "port",
    type: "string",
    short: "p",
    placeholder: "N",
    default: "0",
    description: "puerto TCP; 0 elige uno libre",
  },
];

/** The schema of {@linkcode LISTEN_FLAGS}, to spread into a server's flag schema. */
export const listenFlagsShape = {
  host: z.string().min(1, { error: "no puede estar vacío" }).optional(),
  port: integerFlag(0, 65535).optional(),
};

/**
 * The line the real server answers an admitted order with
 * (`encodeLine(accepted(id))`), written out: a ceiling must not pay
 * `JSON.stringify` for it.
 *
 * @example
 * ```ts
 * acceptedLine(7); // '{"ok":true,"id":7,"mensaje":"✅ Pedido encolado #7"}\n'
 * ```
 */
export function acceptedLine(id: number): string {
  return `{"ok":true,"id":${id},"mensaje":"✅ Pedido encolado #${id}"}\n`;
}

/** Says where `server` listens (as the bench reads it), then serves until SIGINT or SIGTERM. */
export async function serveUntilStopped(
  name: string,
  host: string,
  server: { port: number; close(): Promise<void> },
): Promise<void> {
  console.error(`${name}: escuchando en ${host}:${server.port}`);
  const { promise, resolve } = Promise.withResolvers<void>();
  Deno.addSignalListener("SIGTERM", resolve);
  Deno.addSignalListener("SIGINT", resolve);
  await promise;
  await server.close();
}
