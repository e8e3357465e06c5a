/**
 * The cluster's part of `deno task bench`: end-to-end orders per second
 * for one, two and three servers on one throwaway PostgreSQL, and the time
 * a dead server's orders take to be rescued, measured by killing one
 * (`kill -9`) while it holds orders. Runs on its own too, printing its
 * Markdown section:
 *
 * ```sh
 * deno run -A tools/bench/cluster.ts [--quick]
 * ```
 *
 * @module
 */
import postgres from "postgres";
import { LOAD_DEFAULTS } from "../load/options.ts";
import { runLoad } from "../load/run.ts";
import type { LoadReport } from "../load/report.ts";
import { permissionSet } from "../permissions.ts";
import { startThrowawayPostgres, type ThrowawayPostgres } from "../postgres/throwaway.ts";
import { Child, HOST, sleep } from "./children.ts";
import { PIPE } from "./figures.ts";

/** One throughput run: `servers` servers sharing the load of `orders` orders. */
export interface ClusterRun {
  servers: number;
  orders: number;
  /** Orders acknowledged per second, all servers together. */
  acceptedPerSecond: number;
  /** Orders per second from the first send to the last `fecha_fin`. */
  endToEndPerSecond: number;
  /** Worst p99 latency of an `ok` among the servers' loads. */
  p99Ms: number;
}

/** One rescue: a server killed while holding orders, with this lease. */
export interface RescueRun {
  leaseMs: number;
  /** Orders the dead server held. */
  held: number;
  /** From the kill until none of them was held by it any more (re-queued). */
  requeuedMs: number;
  /** From the kill until all of them were `listo`. */
  finishedMs: number;
}

/** What the cluster part measured. */
export interface ClusterBench {
  runs: ClusterRun[];
  rescues: RescueRun[];
  /** Settings of the database, for the method notes. */
  synchronousCommit: string;
}

/** Throughput runs' servers: as the single-server bench's, no work, a limit never reached. */
const SERVER_FLAGS = ["--work-ms", "0", "--workers", "3", "--max", "1000000", "-q"];

async function createDatabase(pg: ThrowawayPostgres, name: string): Promise<string> {
  const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await sql.end();
  }
  return pg.url.replace(/\/postgres$/, `/${name}`);
}

async function startServers(url: string, count: number, flags: string[]): Promise<Child[]> {
  const servers: Child[] = [];
  try {
    for (let i = 1; i <= count; i++) {
      servers.push(
        await Child.start(`servidor ${i}`, "server.ts", permissionSet("server"), [
          "--db",
          url,
          "--instance",
          `b${i}`,
          "--port",
          "0",
          "--host",
          HOST,
          ...flags,
        ]),
      );
    }
  } catch (error) {
    await Promise.all(servers.map((server) => server.stop()));
    throw error;
  }
  return servers;
}

/** `orders` orders pipelined over `servers` servers at once, verified in the database. */
async function throughputRun(url: string, servers: Child[], orders: number): Promise<ClusterRun> {
  const share = Math.ceil(orders / servers.length);
  const reports: LoadReport[] = await Promise.all(servers.map((server) =>
    runLoad({
      ...LOAD_DEFAULTS,
      ...PIPE,
      mode: "pipeline",
      host: HOST,
      port: server.port,
      orders: share,
      quiet: true,
      verify: url,
      waitDone: true,
    })
  ));
  const started = Math.min(...reports.map((report) => report.startedAt));
  const lastFinished = Math.max(
    ...reports.map((report) => report.verification?.lastFinishedAt ?? NaN),
  );
  const accepted = reports.reduce((sum, report) => sum + report.accepted, 0);
  const elapsedMs = Math.max(...reports.map((report) => report.startedAt + report.elapsedMs)) -
    started;
  return {
    servers: servers.length,
    orders: accepted,
    acceptedPerSecond: accepted / (elapsedMs / 1000),
    endToEndPerSecond: accepted / ((lastFinished - started) / 1000),
    p99Ms: Math.max(...reports.map((report) => report.latencyMs.p99)),
  };
}

/**
 * Three servers with orders of `workMs`; the second is killed once it holds
 * orders; the clock runs from the kill until its orders are re-queued, and
 * until they are `listo`.
 */
async function rescueRun(url: string, leaseMs: number): Promise<RescueRun> {
  const workMs = 1000;
  const servers = await startServers(url, 3, [
    "--work-ms",
    String(workMs),
    "--workers",
    "3",
    "--lease-ms",
    String(leaseMs),
    "--max",
    "100",
    "-q",
  ]);
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    // Three orders per server: every worker of the cluster busy, none waiting.
    await Promise.all(
      servers.flatMap((server, s) =>
        Array.from({ length: 3 }, (_, i) => sendOrder(server.port, `rescate-${s}-${i}`))
      ),
    );
    const victim = servers[1]!;
    let held: number[] = [];
    const deadline = Date.now() + 10_000;
    while (held.length < 3 && Date.now() < deadline) {
      await sleep(20);
      held = (await sql<{ id: number }[]>`
        SELECT p.id::int AS id FROM pedidos p JOIN pedidos_instancias i ON i.sesion = p.sesion
        WHERE i.nombre = 'b2' AND p.estado = 'en proceso'`).map((row) => row.id);
    }
    victim.process.kill("SIGKILL");
    const killedAt = performance.now();
    await victim.process.status;
    let requeuedMs = NaN;
    while (true) {
      const [row] = await sql<{ retenidos: number; listos: number }[]>`
        SELECT count(*) FILTER (WHERE instancia = 'b2' AND sesion IS NOT NULL)::int AS retenidos,
               count(*) FILTER (WHERE estado = 'listo')::int AS listos
        FROM pedidos WHERE id = ANY(${held}::bigint[])`;
      if (Number.isNaN(requeuedMs) && row!.retenidos === 0) {
        requeuedMs = performance.now() - killedAt;
      }
      if (row!.listos === held.length) break;
      if (performance.now() - killedAt > leaseMs + 60_000) {
        throw new Error("los pedidos del servidor muerto no terminaron");
      }
      await sleep(20);
    }
    return { leaseMs, held: held.length, requeuedMs, finishedMs: performance.now() - killedAt };
  } finally {
    await sql.end();
    await Promise.all(servers.map((server) => server.stop()));
  }
}

async function sendOrder(port: number, cliente: string): Promise<void> {
  const conn = await Deno.connect({ hostname: HOST, port });
  try {
    const line = JSON.stringify({ cliente, productos: ["pan"], direccion: "Calle 1" }) + "\n";
    await conn.write(new TextEncoder().encode(line));
    const buffer = new Uint8Array(4096);
    let text = "";
    // The greeting, then the reply.
    while (text.split("\n").length < 3) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
  } finally {
    conn.close();
  }
}

/**
 * Runs every cluster measure on a throwaway PostgreSQL of its own.
 *
 * @throws {Error} if PostgreSQL is not installed or a server does not start
 */
export async function measureCluster(
  options: { orders: number },
  say: (text: string) => void,
): Promise<ClusterBench> {
  await using pg = await startThrowawayPostgres({ settings: { max_connections: "200" } });
  const runs: ClusterRun[] = [];
  for (const count of [1, 2, 3]) {
    say(`clúster: ${count} servidor(es) en una PostgreSQL, ${options.orders} pedidos`);
    const url = await createDatabase(pg, `bench_${count}`);
    const servers = await startServers(url, count, SERVER_FLAGS);
    try {
      await throughputRun(url, servers, Math.min(2000, options.orders)); // warm-up
      runs.push(await throughputRun(url, servers, options.orders));
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
    }
  }
  const rescues: RescueRun[] = [];
  for (const leaseMs of [10_000, 2000]) {
    say(`clúster: rescate con --lease-ms ${leaseMs}`);
    rescues.push(await rescueRun(await createDatabase(pg, `rescate_${leaseMs}`), leaseMs));
  }
  const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
  const [setting] = await sql<{ valor: string }[]>`
    SELECT current_setting('synchronous_commit') AS valor`;
  await sql.end();
  return { runs, rescues, synchronousCommit: setting!.valor };
}

const whole = (n: number) => Math.round(n).toLocaleString("en-US");
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * The section of BENCHMARKS.md for the cluster.
 *
 * @example
 * ```ts
 * const lines = renderCluster({
 *   runs: [{ servers: 1, orders: 1000, acceptedPerSecond: 900, endToEndPerSecond: 800, p99Ms: 20 }],
 *   rescues: [{ leaseMs: 10_000, held: 3, requeuedMs: 9100, finishedMs: 10_200 }],
 *   synchronousCommit: "on",
 * });
 * ```
 */
export function renderCluster(bench: ClusterBench): string[] {
  const single = bench.runs[0]?.endToEndPerSecond ?? NaN;
  return [
    "## Several servers on one PostgreSQL",
    "",
    "Servers started with `--db postgres://…` on one throwaway PostgreSQL " +
    `on this machine (\`synchronous_commit = ${bench.synchronousCommit}\`, fsync on), ` +
    "`--work-ms 0 --workers 3`; the pipelined load (4 connections × 64 in flight per server) " +
    "is shared evenly among them. End to end counts from the first send to the last `fecha_fin`.",
    "",
    "| Servers | Orders | Accepted/s | End to end/s | vs one server | p99 of an ok |",
    "|---|---|---|---|---|---|",
    ...bench.runs.map((run) =>
      `| ${run.servers} | ${whole(run.orders)} | ${whole(run.acceptedPerSecond)} | ${
        whole(run.endToEndPerSecond)
      } | ${(run.endToEndPerSecond / single).toFixed(2)}× | ${run.p99Ms.toFixed(1)} ms |`
    ),
    "",
    "Every server, PostgreSQL and the load share the same cores, so more servers do not " +
    "add CPU: they add processes competing for it, and every commit that admits orders " +
    "takes the one `pedidos_capacidad` row's lock until PostgreSQL has flushed it.",
    "",
    "Rescue: three servers with orders of 1 s, one killed (`kill -9`) while each of its " +
    "three workers runs one.",
    "",
    "| `--lease-ms` | Orders it held | Back in the queue after | All of them listo after |",
    "|---|---|---|---|",
    ...bench.rescues.map((rescue) =>
      `| ${whole(rescue.leaseMs)} | ${rescue.held} | ${seconds(rescue.requeuedMs)} | ${
        seconds(rescue.finishedMs)
      } |`
    ),
    "",
    "A server renews its lease every lease/3, so a dead one is noticed between 2/3 of a lease " +
    "and one lease after it died, by the database's clock; its orders are re-run from the start.",
    "",
  ];
}

if (import.meta.main) {
  const quick = Deno.args.includes("--quick");
  const bench = await measureCluster(
    { orders: quick ? 10_000 : 40_000 },
    (text) => console.error(text),
  );
  console.log(renderCluster(bench).join("\n"));
}
