/**
 * `pedidos-client`: sends orders to the order server and asks about them.
 *
 * ```sh
 * deno task client --cliente Ana --productos pan,leche --direccion "Calle Falsa 123" --wait
 * deno task client --file pedidos.ndjson --retry 5
 * deno task client --status 42
 * ```
 *
 * @module
 */
import { type ClientIO, runClient } from "./lib/client/run.ts";
import { writeAllSync } from "./lib/util/net.ts";

export { type ClientIO, runClient, type TextSink } from "./lib/client/run.ts";

const encoder = new TextEncoder();

function writerFor(file: typeof Deno.stdout | typeof Deno.stderr) {
  return {
    write: (text: string) => writeAllSync(file, encoder.encode(text)),
  };
}

/** Reads a variable only if already allowed, so that a missing permission never prompts. */
function readEnv(name: string): string | undefined {
  if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") {
    return undefined;
  }
  return Deno.env.get(name) || undefined;
}

/** The real process's streams, environment and terminal. */
export function processIO(): ClientIO {
  return {
    stdin: Deno.stdin.readable,
    stdout: writerFor(Deno.stdout),
    stderr: writerFor(Deno.stderr),
    env: readEnv,
    isTerminal: () => Deno.stdin.isTerminal(),
    dropPrivileges: () => {
      Deno.permissions.revokeSync({ name: "read" });
      Deno.permissions.revokeSync({ name: "env" });
    },
  };
}

async function main(): Promise<number> {
  return await runClient(Deno.args, processIO());
}

if (import.meta.main) Deno.exit(await main());
