/**
 * `deno task demo`: the whole system in a few seconds. Starts a server on an
 * ephemeral port with a temporary database, sends ten orders at once from ten
 * separate clients (six fit under `--max 6`, four meet the semaphore), waits
 * for the admitted ones to be processed by three workers, shuts the server
 * down and prints its report.
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
  }, { log });
  try {
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
  } finally {
    console.log("▶ Apagando el servidor");
    const summary = await server.shutdown();
    console.log(renderReport(summary.snapshot));
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await runMain("demo", () => main(), "deno task demo");
