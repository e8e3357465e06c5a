/**
 * The benchmark's ceiling: a server that speaks just enough of the protocol
 * to be driven by `deno task load`, and does nothing else. It greets, and
 * answers every line with an `ok` carrying the next id; no JSON parsing, no
 * validation, no storage, no workers. Replies to one read go out in one
 * write, as the real server does. Whatever rate the load tool reaches
 * against it is what the machine, Deno's TCP and the load tool allow, and so
 * the most the real server could reach in the same run.
 *
 * ```sh
 * deno run --allow-net tools/bench/trivial_server.ts --port 0
 * ```
 *
 * @module
 */
import { z } from "zod";
import { type FlagSpec, HELP_FLAG, parseCommand, runMain, usage } from "../../lib/util/cli.ts";
import { writeAll } from "../../lib/util/net.ts";
import { encodeLine, greeting } from "../../lib/wire/protocol.ts";
import {
  acceptedLine,
  LISTEN_FLAGS,
  listenFlagsShape,
  serveUntilStopped,
} from "./ceiling_server.ts";

const FLAGS: readonly FlagSpec[] = [...LISTEN_FLAGS, HELP_FLAG];

const flagsSchema = z.object(listenFlagsShape);

const LF = 0x0a;
const READ_BYTES = 64 * 1024;
const encoder = new TextEncoder();

/** A running trivial server. */
export interface TrivialServer extends AsyncDisposable {
  readonly port: number;
  /** Stops accepting and closes every connection. */
  close(): Promise<void>;
}

/**
 * Starts the trivial server.
 *
 * @example
 * ```ts
 * await using server = startTrivialServer({ hostname: "127.0.0.1", port: 0 });
 * console.log(server.port);
 * ```
 */
export function startTrivialServer(options: { hostname: string; port: number }): TrivialServer {
  const listener = Deno.listen(options);
  const greetingBytes = encoder.encode(encodeLine(greeting({ max: 1, libres: 1 }, "trivial")));
  const connections = new Set<Deno.Conn>();
  const served = new Set<Promise<void>>();
  let nextId = 1;

  const serve = async (conn: Deno.TcpConn) => {
    const buffer = new Uint8Array(READ_BYTES);
    try {
      conn.setNoDelay(true);
      await writeAll(conn, greetingBytes);
      while (true) {
        const count = await conn.read(buffer);
        if (count === null) return;
        let replies = "";
        let from = 0;
        while (true) {
          const lf = buffer.subarray(from, count).indexOf(LF);
          if (lf === -1) break;
          const id = nextId++;
          replies += acceptedLine(id);
          from += lf + 1;
        }
        if (replies !== "") await writeAll(conn, encoder.encode(replies));
      }
    } catch {
      // The client went away; nothing to clean up but the socket.
    } finally {
      connections.delete(conn);
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
  };

  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        connections.add(conn);
        const done = serve(conn).finally(() => served.delete(done));
        served.add(done);
      }
    } catch {
      // The listener was closed.
    }
  })();

  const close = async () => {
    try {
      listener.close();
    } catch {
      // Already closed.
    }
    await accepting;
    for (const conn of connections) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
    await Promise.all(served);
  };
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close,
    [Symbol.asyncDispose]: close,
  };
}

async function main(args: string[]): Promise<number> {
  const flags = parseCommand(args, FLAGS, flagsSchema);
  if (!flags) {
    console.log(usage(
      "deno run --allow-net tools/bench/trivial_server.ts [opciones]",
      "Servidor trivial (techo del benchmark): saluda y responde ok a cada línea, sin validar ni guardar.",
      FLAGS,
      "\nSIGINT o SIGTERM lo detienen.\n",
    ));
    return 0;
  }
  const host = flags.host ?? "127.0.0.1";
  const server = startTrivialServer({ hostname: host, port: flags.port ?? 0 });
  await serveUntilStopped("servidor trivial", host, server);
  return 0;
}

if (import.meta.main) {
  await runMain(
    "servidor trivial",
    () => main(Deno.args),
    "deno run tools/bench/trivial_server.ts",
  );
}
