/**
 * `deno task demo:cluster`: three servers on one PostgreSQL in about half a
 * minute. Starts a throwaway PostgreSQL and three servers (norte, centro,
 * sur) on it, sends orders to all three, kills `centro` with `kill -9`
 * while its workers run orders, shows the other two rescuing them once its
 * lease runs out, then stops the survivors and prints the cluster's report
 * read from the database.
 *
 * @module
 */
import postgres from "postgres";
import { runMain, usage } from "../../lib/util/cli.ts";
import { LineReader } from "../../lib/wire/lines.ts";
import { writeAll } from "../../lib/util/net.ts";
import type { FinishedEvent, Reply } from "../../lib/wire/protocol.ts";
import { openStore } from "../../lib/store/open.ts";
import { snapshotFromRows } from "../../lib/stats/replay.ts";
import { renderReport } from "../../lib/stats/report.ts";
import { permissionSet } from "../permissions.ts";
import { postgresUnavailable, startThrowawayPostgres } from "../postgres/throwaway.ts";

const ROOT = new URL("../../", import.meta.url);
const NAMES = ["norte", "centro", "sur"];
const LEASE_MS = 3000;
const WORK_MS = 1500;
const CLIENTS = ["Ana", "Bruno", "Carla", "Diego", "Elena", "Facundo", "Gabriela", "Hugo", "Inés"];
const encoder = new TextEncoder();

/** A server process and what it printed. */
interface Server {
  name: string;
  port: number;
  process: Deno.ChildProcess;
  stderr(): string;
  /** Its stdout (the report), once it has exited. */
  exited: Promise<string>;
}

async function startServer(url: string, name: string): Promise<Server> {
  const process = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...permissionSet("server"),
      new URL("server.ts", ROOT).pathname,
      "--db",
      url,
      "--instance",
      name,
      "--lease-ms",
      String(LEASE_MS),
      "--work-ms",
      String(WORK_MS),
      "--workers",
      "2",
      "--max",
      "20",
      "--host",
      "127.0.0.1",
      "--port",
      "0",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  process.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (text) => void (stderr += text) }),
  ).catch(() => {});
  const exited = new Response(process.stdout).text();
  const deadline = Date.now() + 30_000;
  while (!/escuchando en \S+:\d+/.test(stderr)) {
    if (Date.now() > deadline) throw new Error(`${name} no arrancó: ${stderr.trim()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const port = Number(stderr.match(/escuchando en \S+:(\d+)/)![1]);
  return { name, port, process, stderr: () => stderr, exited };
}

/** Sends one order asking to be told when it ends; resolves with the reply, and later the notice. */
async function sendOrder(server: Server, cliente: string, index: number) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  const lines = new LineReader(conn.readable);
  await lines.readLine();
  const pedido = {
    cliente,
    productos: ["pan", "yerba"],
    direccion: `Calle ${index + 1}`,
    avisar: true,
  };
  await writeAll(conn, encoder.encode(JSON.stringify(pedido) + "\n"));
  const reply = JSON.parse(await lines.readLine() ?? "null") as Reply;
  const finished = (async (): Promise<FinishedEvent | undefined> => {
    try {
      const line = reply.ok ? await lines.readLine() : null;
      return line ? JSON.parse(line) as FinishedEvent : undefined;
    } catch {
      return undefined;
    } finally {
      lines.release();
      try {
        conn.close();
      } catch {
        // Its server died and took the connection with it.
      }
    }
  })();
  return { reply, finished };
}

async function main() {
  if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
    console.log(usage(
      "deno task demo:cluster",
      "Tres servidores en una PostgreSQL: uno muere y los otros rescatan sus pedidos.",
      [],
    ));
    return;
  }
  const unavailable = postgresUnavailable();
  if (unavailable) throw new Error(unavailable);
  console.log("▶ Una PostgreSQL temporal");
  await using pg = await startThrowawayPostgres();
  const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
  const servers: Server[] = [];
  try {
    for (const name of NAMES) servers.push(await startServer(pg.url, name));
    console.log(
      `▶ Tres servidores en ella (${NAMES.join(", ")}): --max 20 para todo el clúster, ` +
        `2 workers cada uno, ${WORK_MS} ms por pedido, concesión de ${LEASE_MS} ms`,
    );
    console.log("▶ Nueve clientes, tres por servidor, envían un pedido cada uno");
    const sent = await Promise.all(CLIENTS.map(async (cliente, i) => {
      const server = servers[i % 3]!;
      return { cliente, server, ...await sendOrder(server, cliente, i) };
    }));
    for (const { cliente, server, reply } of sent) {
      console.log(`  ${cliente.padEnd(9)} → ${server.name.padEnd(6)} ${reply.mensaje}`);
    }
    // Once centro's workers run its share of the orders, it dies.
    let held: { id: number; cliente: string }[] = [];
    const deadline = Date.now() + 10_000;
    while (held.length < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      held = await sql<{ id: number; cliente: string }[]>`
        SELECT id::int AS id, cliente FROM pedidos
        WHERE instancia = 'centro' AND sesion IS NOT NULL AND estado = 'en proceso' ORDER BY id`;
    }
    const victim = servers[1]!;
    victim.process.kill("SIGKILL");
    const killedAt = performance.now();
    await victim.process.status;
    console.log(
      `▶ kill -9 a centro, que procesaba ${held.length} pedidos: ${
        held.map((order) => `#${order.id} (${order.cliente})`).join(", ") || "ninguno"
      }`,
    );
    console.log(`  norte y sur los retoman cuando vence su concesión (${LEASE_MS} ms):`);
    const ids = held.map((order) => order.id);
    let rescuedAt = NaN;
    while (ids.length > 0) {
      const [row] = await sql<{ retenidos: number; listos: number }[]>`
        SELECT count(*) FILTER (WHERE instancia = 'centro' AND sesion IS NOT NULL)::int AS retenidos,
               count(*) FILTER (WHERE estado = 'listo')::int AS listos
        FROM pedidos WHERE id = ANY(${ids}::bigint[])`;
      if (Number.isNaN(rescuedAt) && row!.retenidos === 0) {
        rescuedAt = performance.now() - killedAt;
        console.log(`  vuelven a la cola ${(rescuedAt / 1000).toFixed(1)} s después del kill`);
      }
      if (row!.listos === ids.length) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    console.log("▶ Avisos de fin (los clientes de centro perdieron su conexión):");
    await Promise.all(sent.map(async ({ cliente, server, finished }) => {
      const event = await finished;
      console.log(
        event
          ? `  ${cliente.padEnd(9)} ${event.mensaje}`
          : `  ${cliente.padEnd(9)} sin aviso: su conexión era con ${server.name}`,
      );
    }));
    const rows = await sql<{ id: number; cliente: string; instancia: string; intentos: number }[]>`
      SELECT id::int AS id, cliente, instancia, intentos FROM pedidos ORDER BY id`;
    console.log("▶ Quién terminó cada pedido (pedidos.instancia), e intentos:");
    for (const row of rows) {
      console.log(
        `  #${row.id} ${row.cliente.padEnd(9)} ${row.instancia.padEnd(6)} ${row.intentos} ${
          row.intentos > 1 ? "← rescatado" : ""
        }`.trimEnd(),
      );
    }
  } finally {
    console.log("▶ Se apagan norte y sur");
    for (const server of servers) {
      try {
        server.process.kill("SIGTERM");
      } catch {
        // centro is gone already.
      }
    }
    await Promise.all(servers.map((server) => server.exited));
    await sql.end();
  }
  const reader = await openStore(pg.url, { readOnly: true });
  try {
    console.log("▶ Informe del clúster, leído de la base de datos (como `stats --db URL`):");
    console.log(renderReport(await snapshotFromRows(reader.statsRows())));
  } finally {
    await reader.close();
  }
}

if (import.meta.main) await runMain("demo:cluster", () => main(), "deno task demo:cluster");
