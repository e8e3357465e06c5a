/**
 * `deno task demo`: the whole system in a few seconds. Starts a server on an
 * ephemeral port with a temporary database and its dashboard on a free
 * loopback port, sends ten orders at once from ten separate clients (six
 * fit under `--max 6`, four meet the semaphore), waits for the admitted ones
 * to be processed by three workers, shuts the server down and prints its
 * report.
 *
 * Run from a terminal, it waits for Enter before sending (time to open the
 * dashboard and watch the workers' bars fill in) and again before shutting
 * down; with no terminal (tests, CI) it runs straight through.
 *
 * @module
 */
import { runMain, usage } from "../../lib/util/cli.ts";
import { LineReader } from "../../lib/wire/lines.ts";
import { DEFAULTS } from "../../lib/server/config.ts";
import { formatAddress, writeAll } from "../../lib/util/net.ts";
import { createLogger } from "../../lib/util/log.ts";
import type { FinishedEvent, Reply } from "../../lib/wire/protocol.ts";
import { startServer } from "../../lib/server/server.ts";
import { renderReport } from "../../lib/stats/report.ts";
import { ignoreSigusr1 } from "../../lib/util/sigusr1.ts";

const CLIENTS = [
  "Ana",
  "Bruno",
  "Carla",
  "Diego",
  "Elena",
  "Facundo",
  "Gabriela",
  "Hugo",
  "Inés",
  "Julián",
];
const PRODUCTS = ["pan", "leche", "café", "yerba", "queso", "tomates", "arroz", "aceite"];
const WORK_MS = 800;

const encoder = new TextEncoder();

/** Prints `prompt` and waits for a line (or the end) on standard input. */
async function pause(prompt: string): Promise<void> {
  // A line of its own: the server logs to the same terminal meanwhile.
  await Deno.stdout.write(encoder.encode(`${prompt}\n`));
  const buffer = new Uint8Array(256);
  while (true) {
    const count = await Deno.stdin.read(buffer);
    if (count === null || buffer.subarray(0, count).includes(10)) return;
  }
}

/** One seed-style client: connect, read the greeting, send, read the reply (and the notice). */
async function sendOrder(
  port: number,
  hostname: string,
  cliente: string,
  index: number,
): Promise<{ reply: Reply; finished: Promise<FinishedEvent | undefined> }> {
  const conn = await Deno.connect({ hostname, port });
  const lines = new LineReader(conn.readable);
  await lines.readLine(); // the greeting
  const pedido = {
    cliente,
    productos: [PRODUCTS[index % PRODUCTS.length]!, PRODUCTS[(index * 3 + 1) % PRODUCTS.length]!],
    direccion: `Calle ${index + 1} #${100 + index * 7}`,
    avisar: true,
  };
  await writeAll(conn, encoder.encode(JSON.stringify(pedido)));
  const reply = JSON.parse(await lines.readLine() ?? "null") as Reply;
  const finished = (async () => {
    try {
      if (!reply.ok) return undefined;
      const event = await lines.readLine();
      return event === null ? undefined : JSON.parse(event) as FinishedEvent;
    } finally {
      lines.release();
      conn.close();
    }
  })();
  return { reply, finished };
}

async function main() {
  if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
    console.log(usage("deno task demo", "Muestra el sistema completo en unos segundos.", []));
    return;
  }
  const dir = await Deno.makeTempDir({ prefix: "pedidos-demo-" });
  const db = `${dir}/pedidos.db`;
  console.log(`▶ Servidor con --max 6 --workers 3, ${WORK_MS} ms por pedido, base ${db}`);
  const log = createLogger("normal", "  servidor");
  const sigusr1 = ignoreSigusr1();
  if (sigusr1) log.warn(sigusr1);
  const server = await startServer({
    ...DEFAULTS,
    hosts: ["127.0.0.1", "::1"],
    port: 0,
    db,
    max: 6,
    workers: 3,
    workMs: WORK_MS,
    drainMs: 5000,
    http: { hostname: "127.0.0.1", port: 0 },
  }, { log });
  const interactive = Deno.stdin.isTerminal();
  try {
    console.log(`▶ Panel en vivo: ${server.httpUrl}`);
    if (interactive) await pause("  Ábralo en el navegador y pulse Enter para enviar los pedidos…");
    console.log("▶ Diez clientes envían un pedido a la vez (la mitad por IPv4, la otra por IPv6)");
    const sent = await Promise.all(
      CLIENTS.map((cliente, i) => {
        const host = i % 2 === 0 ? "127.0.0.1" : "::1";
        return sendOrder(server.port, host, cliente, i).then((result) => ({
          ...result,
          cliente,
          via: formatAddress({ hostname: host, port: server.port }),
        }));
      }),
    );
    for (const { cliente, via, reply } of sent) {
      console.log(`  ${cliente.padEnd(9)} → ${via.padEnd(18)} ${reply.mensaje}`);
    }
    const admitted = sent.filter(({ reply }) => reply.ok).length;
    console.log(`▶ ${admitted} admitidos, ${sent.length - admitted} rechazados por el semáforo;`);
    console.log("  los workers procesan los admitidos, tres a la vez:");
    await Promise.all(sent.map(async ({ finished }) => {
      const event = await finished;
      if (event) {
        console.log(`  ${event.mensaje} (worker ${event.pedido.worker}, ${event.pedido.cliente})`);
      }
    }));
    if (interactive) {
      await pause(`▶ El panel sigue en ${server.httpUrl}; pulse Enter para apagar el servidor…`);
    }
  } finally {
    console.log("▶ Apagando el servidor");
    const summary = await server.shutdown();
    console.log(renderReport(summary.snapshot));
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await runMain("demo", () => main(), "deno task demo");
