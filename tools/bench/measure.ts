/**
 * The measuring half of `deno task bench`: runs every measure in order on
 * this machine and returns the figures ({@linkcode Measurements}), then the
 * document built from them by `tables.ts` and `explain.ts`.
 *
 * Every server (the real one, the trivial and the minimal-stack ceilings,
 * and beanstalkd as a reference) runs as a child process on an ephemeral
 * loopback port, with a temporary database where it has one; the load tool
 * runs in this process (`runLoad`), and so does the beanstalkd driver
 * (`beanstalkd.ts`). CPU time comes from
 * `/proc/PID/task/*∕stat`, memory from `/proc/PID/status`, and the profiles
 * from the V8 inspector of a server started with `--inspect`.
 *
 * @module
 */
import { writeAllSync } from "../../lib/util/net.ts";
import { LOAD_DEFAULTS, type LoadOptions } from "../load/options.ts";
import { newRunTag, OrderGenerator } from "../load/orders.ts";
import { renderProgressLine } from "../load/progress.ts";
import { formatMs, type LoadReport } from "../load/report.ts";
import { runLoad } from "../load/run.ts";
import { renderVerification, verificationPassed } from "../load/verify.ts";
import { permissionSet } from "../permissions.ts";
import { parseCpuInfo, readKilobytes } from "../proc.ts";
import {
  Child,
  type CpuMark,
  cpuMark,
  cpuSince,
  HOST,
  Inspector,
  openIdle,
  sleep,
} from "./children.ts";
import { encodePuts } from "./beanstalk_wire.ts";
import { probeBeanstalkd, runPuts, startBeanstalkd } from "./beanstalkd.ts";
import { findings, interferenceWarnings, methodNotes } from "./explain.ts";
import {
  type BenchPlan,
  CONN,
  CPU_WORK_MS,
  type CpuUse,
  INGEST_WORK_MS,
  LONG_SEGMENTS,
  type Measurements,
  PARALLEL,
  PIPE,
  type PutReference,
  type ScalingRun,
  type Throughput,
} from "./figures.ts";
import { type ProfileSummary, summarizeProfile } from "./profile.ts";
import { type ClusterBench, measureCluster } from "./cluster.ts";
import { postgresUnavailable } from "../postgres/throwaway.ts";
import { type BenchDocument, fixed, grouped, mebibytes, resultRows } from "./tables.ts";

const encoder = new TextEncoder();
/** Admission limit of every real server: far above what a run keeps in flight. */
const BIG_MAX = 1_000_000;

/** A progress line on stderr. */
export function say(text: string): void {
  writeAllSync(Deno.stderr, encoder.encode(`${text}\n`));
}

function throughput(report: LoadReport): Throughput {
  return {
    acceptedPerSecond: report.acceptedPerSecond,
    p50Ms: report.latencyMs.p50,
    p99Ms: report.latencyMs.p99,
    maxMs: report.latencyMs.max,
  };
}

/** Milliseconds from a run's first send to the latest `fecha_fin` its verification read. */
function makespan(report: LoadReport): number {
  return (report.verification?.lastFinishedAt ?? NaN) - report.startedAt;
}

/** The bench's runner: starts servers, runs the load, keeps the CPU rows and the warnings. */
class Bench {
  readonly plan: BenchPlan;
  readonly cores = parseCpuInfo(Deno.readTextFileSync("/proc/cpuinfo")).processors ||
    navigator.hardwareConcurrency;
  readonly #dirs: string[] = [];
  /** Every child started, so that an interrupted run can kill them. */
  readonly #children: Child[] = [];
  readonly cpu: BenchDocument["cpu"] = [];
  readonly profiles: BenchDocument["profiles"] = [];
  readonly warnings: string[] = [];
  #step = 0;
  readonly #steps: number;

  /** `withCluster`: the cluster section runs too (PostgreSQL is installed), one more step. */
  constructor(plan: BenchPlan, withCluster: boolean) {
    this.plan = plan;
    this.#steps = 12 + (plan.profile ? 1 : 0) + (withCluster ? 1 : 0);
  }

  step(title: string) {
    this.#step++;
    say(`[${this.#step}/${this.#steps}] ${title}`);
  }

  async server(
    config: {
      workers: number;
      workMs: number;
      workMode?: "sleep" | "cpu";
      max: number;
      sync?: string;
      /** `--drain-ms`: how long a stop waits for orders in process. */
      drainMs?: number;
      /** The database of an earlier server, to start again on; a new one by default. */
      db?: string;
    },
    inspect = false,
  ): Promise<Child> {
    let dir = config.db?.replace(/\/pedidos\.db$/, "");
    if (dir === undefined) {
      dir = await Deno.makeTempDir({ prefix: "pedidos-bench-" });
      this.#dirs.push(dir);
    }
    const child = await Child.start("el servidor", "server.ts", permissionSet("server"), [
      "--host",
      HOST,
      "--port",
      "0",
      "--db",
      `${dir}/pedidos.db`,
      "--max",
      String(config.max),
      "--workers",
      String(config.workers),
      "--work-ms",
      String(config.workMs),
      "--work-mode",
      config.workMode ?? "sleep",
      "--sync",
      config.sync ?? "full",
      ...(config.drainMs === undefined ? [] : ["--drain-ms", String(config.drainMs)]),
    ], inspect);
    child.db = `${dir}/pedidos.db`;
    this.#children.push(child);
    return child;
  }

  async trivial(): Promise<Child> {
    const child = await Child.start(
      "el servidor trivial",
      "tools/bench/trivial_server.ts",
      ["--allow-net"],
      ["--host", HOST, "--port", "0"],
    );
    this.#children.push(child);
    return child;
  }

  async minimal(): Promise<Child> {
    const dir = await Deno.makeTempDir({ prefix: "pedidos-bench-" });
    this.#dirs.push(dir);
    const child = await Child.start(
      "el servidor mínimo",
      "tools/bench/minimal_server.ts",
      ["--allow-net", "--allow-read", "--allow-write"],
      ["--host", HOST, "--port", "0", "--db", `${dir}/minimo.db`],
    );
    this.#children.push(child);
    return child;
  }

  async beanstalkd(): Promise<Child> {
    const child = await startBeanstalkd();
    this.#children.push(child);
    return child;
  }

  /** Runs the load tool in-process against `child`, with plain progress lines. */
  async load(
    child: Child,
    label: string,
    options: Partial<LoadOptions>,
    cpuUntil: "enviados" | "terminados" = "enviados",
  ): Promise<{ report: LoadReport; cpu: CpuUse; workerSeconds: number }> {
    const before = cpuMark(child);
    // CPU is measured while orders are sent (admission), or until the last
    // one is done (work that happens after sending).
    let end: CpuMark | undefined;
    let lastWaitLine = performance.now();
    const report = await runLoad({
      ...LOAD_DEFAULTS,
      host: HOST,
      port: child.port,
      quiet: true,
      timeoutMs: 30_000,
      waitMs: 600_000,
      ...options,
    }, {
      progressIntervalMs: 2000,
      onProgress: (sample) => say(`    ${label}: ${renderProgressLine(sample)}`),
      onWait: (unfinished) => {
        const now = performance.now();
        if (unfinished === 0 || now - lastWaitLine < 2000) return;
        lastWaitLine = now;
        say(`    ${label}: esperando a ${grouped(unfinished)} pedidos sin terminar`);
      },
      onRunEnd: () => {
        if (cpuUntil === "enviados") end = cpuMark(child);
      },
    });
    end ??= cpuMark(child);
    const cpu = cpuSince(before, end);
    this.#check(label, report);
    say(
      `    ${label}: ${grouped(report.acceptedPerSecond)} aceptados/s, p99 ${
        formatMs(report.latencyMs.p99)
      }`,
    );
    return { report, cpu, workerSeconds: end.server.workers - before.server.workers };
  }

  #check(label: string, report: LoadReport) {
    if (report.toolCpu.saturation.length > 0) {
      this.warnings.push(
        `${label}: the load tool itself was the limit (${report.toolCpu.saturation.join("; ")}; ${
          fixed(report.toolCpu.usPerOrder, 1)
        } µs of its CPU per order): that figure is a ` +
          "floor of what the server can do.",
      );
    }
    if (report.errorsTotal > 0 || report.unexpected > 0 || report.aborted) {
      this.warnings.push(
        `${label}: ${report.errorsTotal} transport errors, ${report.unexpected} unexpected replies` +
          (report.aborted ? `; stopped early: ${report.aborted}` : ""),
      );
    }
    if (report.verification && !verificationPassed(report.verification)) {
      this.warnings.push(
        `${label}: verification failed: ${
          renderVerification(report.verification).replaceAll("\n", ";")
        }`,
      );
    }
    if (!report.verification) return;
    say(`    ${label}: ${renderVerification(report.verification).split("\n")[0]}`);
  }

  /** Keeps a measure's CPU use for the document's CPU table; returns it. */
  recordCpu(label: string, use: CpuUse): CpuUse {
    this.cpu.push({ label, use });
    return use;
  }

  async cleanup() {
    for (const dir of this.#dirs) await Deno.remove(dir, { recursive: true }).catch(() => {});
  }

  /** On an interrupted run: kills the children and removes the temporary folders, at once. */
  abandon() {
    for (const child of this.#children) {
      try {
        child.process.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }
    for (const dir of this.#dirs) {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch {
        // Already gone.
      }
    }
  }
}

/** The trivial server, driven exactly as the real one will be. */
async function measureCeilings(bench: Bench) {
  const { plan } = bench;
  bench.step("techo: servidor trivial (pipeline y una conexión por pedido)");
  await using trivial = await bench.trivial();
  await bench.load(trivial, "calentamiento", {
    mode: "pipeline",
    ...PIPE,
    orders: plan.warmOrders,
  });
  const pipe = await bench.load(trivial, "techo pipeline", {
    mode: "pipeline",
    ...PIPE,
    orders: plan.ceilingOrders,
  });
  bench.recordCpu("Ceiling, pipelined (trivial server)", pipe.cpu);
  const conn = await bench.load(trivial, "techo una conexión por pedido", {
    mode: "conexion",
    ...CONN,
    orders: plan.connectionOrders,
  });
  bench.recordCpu("Ceiling, one connection per order (trivial server)", conn.cpu);
  return { ceilingPipe: throughput(pipe.report), ceilingConn: throughput(conn.report) };
}

/** The minimal-stack ceiling, driven as the real server's pipelined runs are. */
async function measureMinimal(bench: Bench): Promise<Measurements["minimalPipe"]> {
  const { plan } = bench;
  bench.step("techo: pila mínima (JSON.parse, zod, INSERT de varias filas por vuelta, respuesta)");
  await using minimal = await bench.minimal();
  await bench.load(minimal, "calentamiento", {
    mode: "pipeline",
    ...PIPE,
    orders: plan.warmOrders,
  });
  const run = await bench.load(minimal, "techo pila mínima", {
    mode: "pipeline",
    ...PIPE,
    orders: plan.pipelineOrders,
  });
  const cpu = bench.recordCpu("Ceiling, pipelined (minimal stack)", run.cpu);
  return { ...throughput(run.report), cpu };
}

/**
 * beanstalkd's in-memory `put` at the pipelined shape, with the load tool's
 * order bodies; skipped with a note where beanstalkd is missing or fails.
 */
async function measureBeanstalkd(bench: Bench): Promise<PutReference> {
  const { plan } = bench;
  bench.step(
    `referencia: beanstalkd en memoria, put en pipeline (${PIPE.concurrency} conexiones × ` +
      `${PIPE.depth} en vuelo)`,
  );
  const probe = probeBeanstalkd();
  if ("unavailable" in probe) {
    say(`    se omite: ${probe.unavailable}`);
    return probe;
  }
  try {
    await using beanstalkd = await bench.beanstalkd();
    const orders = new OrderGenerator(newRunTag());
    const body = (index: number) => orders.line(index).slice(0, -1);
    await runPuts(beanstalkd.port, encodePuts(plan.warmOrders, body), PIPE);
    // Encoded before the clock starts, and other bodies than the warm-up's.
    const frames = encodePuts(plan.pipelineOrders, (index) => body(plan.warmOrders + index));
    const before = cpuMark(beanstalkd);
    const run = await runPuts(beanstalkd.port, frames, PIPE);
    const cpu = bench.recordCpu(
      `Reference: ${probe.version} put, in memory`,
      cpuSince(before, cpuMark(beanstalkd)),
    );
    const reference = {
      version: probe.version,
      acceptedPerSecond: run.putsPerSecond,
      p50Ms: run.latency.percentile(0.5),
      p99Ms: run.latency.percentile(0.99),
      maxMs: run.latency.max,
      cpu,
    };
    say(
      `    beanstalkd: ${grouped(reference.acceptedPerSecond)} put/s, p99 ${
        formatMs(reference.p99Ms)
      }`,
    );
    return reference;
  } catch (error) {
    const reason = `beanstalkd falló: ${error instanceof Error ? error.message : error}`;
    say(`    se omite: ${reason}`);
    return { unavailable: reason };
  }
}

/**
 * Durable pipelined ingest while every worker is busy with a long order, so
 * that what is admitted queues: admission alone, the issue's target 1.
 */
async function measureIngest(bench: Bench): Promise<Measurements["ingest"]> {
  const { plan } = bench;
  bench.step(
    "ingesta pipeline durable (--sync full) con los workers ocupados: los pedidos hacen cola",
  );
  await using server = await bench.server({
    workers: bench.cores,
    workMs: INGEST_WORK_MS,
    max: BIG_MAX,
    drainMs: 0,
  });
  await bench.load(server, "calentamiento", { mode: "pipeline", ...PIPE, orders: plan.warmOrders });
  const run = await bench.load(server, "ingesta pipeline", {
    mode: "pipeline",
    ...PIPE,
    orders: plan.pipelineOrders,
    verify: server.db,
  });
  const cpu = bench.recordCpu("Ingest, pipelined, durable (workers busy, orders queue)", run.cpu);
  return { ...throughput(run.report), cpu };
}

/**
 * The backlog on disk (target 4): orders queued behind busy workers, the
 * resident memory then, and again after a kill -9 and a restart on the same
 * database, whose recovery must not load the backlog.
 */
async function measureBacklog(bench: Bench): Promise<Measurements["backlog"]> {
  const orders = bench.plan.backlogOrders;
  bench.step(`${grouped(orders)} pedidos en cola en disco; kill -9 y rearranque`);
  const config = { workers: 1, workMs: INGEST_WORK_MS, max: BIG_MAX, drainMs: 0 };
  const first = await bench.server(config);
  await bench.load(first, "cola", { mode: "pipeline", ...PIPE, orders });
  const queuedBytes = first.rss();
  const peakBytes = first.peakRss();
  say(`    con ${grouped(orders)} en cola: ${mebibytes(queuedBytes)} residentes`);
  first.process.kill("SIGKILL");
  await first.process.status;
  const started = performance.now();
  await using again = await bench.server({ ...config, db: first.db });
  const restartMs = performance.now() - started;
  // Let the pool read its first window and settle.
  await sleep(1000);
  const restartedBytes = again.rss();
  const recovered = Number(again.log().match(/recuperados (\d+) pedidos/)?.[1] ?? 0);
  say(
    `    tras kill -9: ${grouped(recovered)} recuperados, ${mebibytes(restartedBytes)} residentes`,
  );
  return { orders, queuedBytes, peakBytes, restartedBytes, recovered, restartMs };
}

/** Durable pipelined admission with --work-ms 0, end to end on the same orders, then an open loop at half the rate. */
async function measureAdmission(bench: Bench) {
  const { plan } = bench;
  bench.step("admisión pipeline durable (--sync full, --work-ms 0) y extremo a extremo");
  await using server = await bench.server({ workers: bench.cores, workMs: 0, max: BIG_MAX });
  await bench.load(server, "calentamiento", { mode: "pipeline", ...PIPE, orders: plan.warmOrders });
  const run = await bench.load(server, "admisión pipeline", {
    mode: "pipeline",
    ...PIPE,
    orders: plan.pipelineOrders,
    verify: server.db,
    waitDone: true,
  });
  const cpu = bench.recordCpu("Admission, pipelined, durable", run.cpu);
  const admitted = run.report.acceptedPerSecond;
  const rate = Math.max(100, Math.round(admitted / 2 / 100) * 100);
  bench.step(`lazo abierto a ${grouped(rate)} pedidos/s (la mitad de lo admitido en lazo cerrado)`);
  const open = await bench.load(server, "lazo abierto", {
    mode: "pipeline",
    ...PIPE,
    depth: 1024,
    rate,
    durationMs: plan.openLoopSeconds * 1000,
  });
  bench.recordCpu(`Open loop at ${grouped(rate)}/s`, open.cpu);
  return {
    admission: { ...throughput(run.report), cpu },
    endToEndPerSecond: run.report.accepted / (makespan(run.report) / 1000),
    openLoop: { ...throughput(open.report), rate },
  };
}

/** Admission with one connection per order. */
async function measurePerConnection(bench: Bench) {
  bench.step("admisión con una conexión por pedido");
  await using server = await bench.server({ workers: bench.cores, workMs: 0, max: BIG_MAX });
  await bench.load(server, "calentamiento", { mode: "conexion", ...CONN, orders: 2000 });
  const run = await bench.load(server, "una conexión por pedido", {
    mode: "conexion",
    ...CONN,
    orders: bench.plan.connectionOrders,
  });
  const cpu = bench.recordCpu("Admission, one connection per order", run.cpu);
  return { ...throughput(run.report), cpu };
}

/** Sleeping work on more workers than cores: how close to the ideal makespan. */
async function measureParallel(bench: Bench) {
  bench.step(
    `eficiencia paralela: ${PARALLEL.orders} pedidos de ${PARALLEL.workMs} ms en ${PARALLEL.workers} workers`,
  );
  await using server = await bench.server({
    workers: PARALLEL.workers,
    workMs: PARALLEL.workMs,
    max: BIG_MAX,
  });
  const run = await bench.load(server, "eficiencia paralela", {
    mode: "pipeline",
    concurrency: 1,
    depth: PARALLEL.orders,
    orders: PARALLEL.orders,
    verify: server.db,
    waitDone: true,
  }, "terminados");
  return {
    makespanMs: makespan(run.report),
    idealMs: PARALLEL.orders * PARALLEL.workMs / PARALLEL.workers,
    cpu: bench.recordCpu("Parallel efficiency (sleep, until done)", run.cpu),
  };
}

/** CPU work on 1, 2, cores and twice the cores workers: makespans, and the CPU the workers received. */
async function measureScaling(bench: Bench): Promise<ScalingRun[]> {
  const { plan, cores } = bench;
  const workerCounts = [...new Set([1, 2, cores, 2 * cores])];
  bench.step(`escalado de CPU: --work-mode cpu, workers ${workerCounts.join(", ")}`);
  const runs: ScalingRun[] = [];
  for (const workers of workerCounts) {
    await using server = await bench.server({
      workers,
      workMs: CPU_WORK_MS,
      workMode: "cpu",
      max: BIG_MAX,
    });
    const run = await bench.load(server, `cpu, ${workers} workers`, {
      mode: "pipeline",
      concurrency: 1,
      depth: plan.cpuOrders,
      orders: plan.cpuOrders,
      verify: server.db,
      waitDone: true,
    }, "terminados");
    const span = makespan(run.report);
    const iterations = Number(server.log().match(/trabajo cpu: (\d+) iteraciones/)?.[1] ?? NaN);
    runs.push({
      workers,
      makespanMs: span,
      iterations,
      workerCores: run.workerSeconds / (span / 1000),
      cpu: bench.recordCpu(`CPU work, ${workers} workers (until done)`, run.cpu),
    });
  }
  return runs;
}

/** Resident memory before and after opening the plan's idle connections. */
async function measureIdle(bench: Bench) {
  const connections = bench.plan.idleConnections;
  bench.step(`memoria con ${grouped(connections)} conexiones inactivas`);
  await using server = await bench.server({ workers: bench.cores, workMs: 0, max: BIG_MAX });
  await sleep(500);
  const beforeBytes = server.rss();
  const open = await openIdle(server.port, connections);
  await sleep(1000);
  const afterBytes = server.rss();
  say(
    `    ${grouped(open.length)} conexiones: ${mebibytes(beforeBytes)} → ${mebibytes(afterBytes)}`,
  );
  for (const conn of open) conn.close();
  return { connections, beforeBytes, afterBytes };
}

/**
 * Memory across a long run, in equal segments after one segment of warm-up:
 * the warm-up reaches the heap's working size, so growth across the segments
 * is what stays. With the inspector, each reading follows a full garbage
 * collection: what is left is what the server holds, not what the collector
 * has not reached yet.
 */
async function measureLong(bench: Bench): Promise<Measurements["long"]> {
  const orders = bench.plan.longOrders;
  const segmentOrders = Math.ceil(orders / LONG_SEGMENTS);
  bench.step(
    `memoria a lo largo de ${grouped(orders)} pedidos (${LONG_SEGMENTS} tramos de ` +
      `${grouped(segmentOrders)}, tras uno de calentamiento)`,
  );
  const long = { orders, rssBytes: [] as number[], heapBytes: [] as number[], peakBytes: NaN };
  let accepted = 0;
  let lost = 0;
  let duplicated = 0;
  await using server = await bench.server({ workers: bench.cores, workMs: 0, max: BIG_MAX }, true);
  await using inspector = await Inspector.connect(server.inspector!);
  for (let segment = 0; segment <= LONG_SEGMENTS; segment++) {
    const run = await bench.load(
      server,
      segment === 0 ? "calentamiento" : `tramo ${segment}/${LONG_SEGMENTS}`,
      { mode: "pipeline", ...PIPE, orders: segmentOrders, verify: server.db, waitDone: true },
    );
    long.heapBytes.push(await inspector.collectGarbage());
    await sleep(500);
    long.rssBytes.push(server.rss());
    if (segment === 0) continue;
    accepted += run.report.accepted;
    lost += run.report.verification?.lost.count ?? 0;
    duplicated += run.report.verification?.duplicated.count ?? 0;
    if (segment === 1) bench.recordCpu(`Long run, segment 1 of ${LONG_SEGMENTS}`, run.cpu);
  }
  long.peakBytes = server.peakRss();
  say(
    `    memoria: ${long.rssBytes.map(mebibytes).join(" → ")} (pico ${mebibytes(long.peakBytes)})`,
  );
  say(`    heap de JavaScript: ${long.heapBytes.map(mebibytes).join(" → ")}`);
  return { ...long, accepted, lost, duplicated };
}

/** Main-thread profiles, in separate short repetitions so that profiling does not touch the figures. */
async function measureProfiles(
  bench: Bench,
  rates: { pipeline: number; conexion: number },
): Promise<Measurements["profiles"]> {
  const profiles: Measurements["profiles"] = {};
  if (!bench.plan.profile) return profiles;
  bench.step("perfiles de CPU del servidor (repeticiones cortas con --inspect)");
  for (const mode of ["pipeline", "conexion"] as const) {
    await using server = await bench.server(
      { workers: bench.cores, workMs: 0, max: BIG_MAX },
      true,
    );
    const shape = mode === "pipeline" ? { mode, ...PIPE } : { mode, ...CONN };
    const warm = mode === "pipeline" ? bench.plan.warmOrders : 2000;
    await bench.load(server, "calentamiento", { ...shape, orders: warm });
    const orders = Math.max(2000, Math.round(rates[mode] * 4));
    let cpu: CpuUse | undefined;
    await using inspector = await Inspector.connect(server.inspector!);
    const profile = await inspector.profile(async () => {
      cpu = (await bench.load(server, `perfil ${mode}`, { ...shape, orders })).cpu;
    });
    const summary: ProfileSummary = summarizeProfile(profile);
    if (mode === "pipeline") profiles.pipeline = summary;
    else profiles.connection = summary;
    bench.profiles.push({
      label: mode === "pipeline" ? "pipelined, durable" : "one connection per order",
      summary,
      mainThreadBusy: cpu?.serverMain ?? NaN,
    });
  }
  return profiles;
}

/** Every measure, in order. */
async function measureAll(bench: Bench): Promise<Measurements> {
  const ceilings = await measureCeilings(bench);
  const minimalPipe = await measureMinimal(bench);
  const beanstalkd = await measureBeanstalkd(bench);
  const ingest = await measureIngest(bench);
  const backlog = await measureBacklog(bench);
  const admission = await measureAdmission(bench);
  const perConnection = await measurePerConnection(bench);
  const parallel = await measureParallel(bench);
  const scaling = await measureScaling(bench);
  const idle = await measureIdle(bench);
  const long = await measureLong(bench);
  const profiles = await measureProfiles(bench, {
    pipeline: admission.admission.acceptedPerSecond,
    conexion: perConnection.acceptedPerSecond,
  });
  return {
    plan: bench.plan,
    cores: bench.cores,
    ...ceilings,
    minimalPipe,
    beanstalkd,
    ingest,
    backlog,
    ...admission,
    perConnection,
    parallel,
    scaling,
    idle,
    long,
    profiles,
  };
}

/**
 * Runs the bench and returns the document `BENCHMARKS.md` is rendered from.
 * SIGINT or SIGTERM stop the servers and remove their databases at once.
 */
export async function runBench(plan: BenchPlan): Promise<BenchDocument> {
  const noPostgres = postgresUnavailable();
  const bench = new Bench(plan, noPostgres === undefined);
  const started = performance.now();
  const date = new Date().toISOString();
  const loadAverage = Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  const interrupted = () => {
    say("interrumpido: se detienen los servidores y se borran sus bases de datos temporales");
    bench.abandon();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", interrupted);
  Deno.addSignalListener("SIGTERM", interrupted);
  let measurements: Measurements;
  let cluster: ClusterBench | undefined;
  try {
    measurements = await measureAll(bench);
    if (noPostgres === undefined) {
      bench.step("varios servidores en una PostgreSQL, y el rescate de uno muerto");
      cluster = await measureCluster({ orders: plan.quick ? 10_000 : 40_000 }, say);
    }
  } finally {
    Deno.removeSignalListener("SIGINT", interrupted);
    Deno.removeSignalListener("SIGTERM", interrupted);
    await bench.cleanup();
  }
  const cpuInfo = parseCpuInfo(Deno.readTextFileSync("/proc/cpuinfo"));
  return {
    machine: {
      cores: bench.cores,
      model: cpuInfo.model,
      memoryBytes: readKilobytes(Deno.readTextFileSync("/proc/meminfo"), "MemTotal"),
      os: `${Deno.build.os} ${Deno.build.arch}`,
      deno: `${Deno.version.deno} (V8 ${Deno.version.v8}, TypeScript ${Deno.version.typescript})`,
    },
    date,
    durationMs: performance.now() - started,
    command: `deno task bench${plan.quick ? " --quick" : ""}${
      plan.longOrders !== (plan.quick ? 100_000 : 1_000_000) ? ` --long ${plan.longOrders}` : ""
    }`,
    loadAverage,
    rows: resultRows(measurements),
    cpu: bench.cpu,
    profiles: bench.profiles,
    findings: findings(measurements),
    method: methodNotes(plan),
    cluster,
    warnings: [
      ...bench.warnings,
      ...("unavailable" in measurements.beanstalkd
        ? [`No beanstalkd reference: ${measurements.beanstalkd.unavailable}.`]
        : []),
      ...(noPostgres ? [`No cluster figures: ${noPostgres}.`] : []),
      ...interferenceWarnings(bench.cpu),
      ...(plan.quick ? ["Run with --quick: smaller counts, less stable figures."] : []),
    ],
  };
}
