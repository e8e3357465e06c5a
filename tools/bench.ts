/**
 * `deno task bench`: measures the server end to end on this machine and
 * writes `BENCHMARKS.md`.
 *
 * Every server (the real one and the trivial ceiling server) runs as a child
 * process on an ephemeral loopback port with a temporary database; the load
 * tool runs in this process (`runLoad`). CPU time comes from
 * `/proc/PID/task/*∕stat`, memory from `/proc/PID/status`, and the profiles
 * from the V8 inspector of a server started with `--inspect`.
 *
 * ```sh
 * deno task bench            # the full run, a few minutes
 * deno task bench --quick    # smaller counts, for a smoke test
 * ```
 *
 * @module
 */
import { z } from "zod";
import {
  type FlagSpec,
  integerFlag,
  parseFlags,
  runMain,
  usage,
  validateFlags,
} from "../lib/cli.ts";
import {
  type BenchDocument,
  type CpuProfile,
  type CpuUse,
  fixed,
  grouped,
  mebibytes,
  parseCpuInfo,
  parseMachineCpu,
  parseThreadStat,
  PROFILE_CATEGORIES,
  type ProfileSummary,
  readKilobytes,
  renderBenchmarks,
  type ResultRow,
  summarizeProfile,
  type ThreadCpu,
} from "../lib/load_bench.ts";
import { LOAD_DEFAULTS, type LoadOptions } from "../lib/load_options.ts";
import { renderProgressLine } from "../lib/load_progress.ts";
import { formatMs, type LoadReport } from "../lib/load_report.ts";
import { renderVerification, verificationPassed } from "../lib/load_verify.ts";
import { runLoad } from "./load.ts";

const ROOT = new URL("../", import.meta.url);
const HOST = "127.0.0.1";
const encoder = new TextEncoder();

const FLAGS: readonly FlagSpec[] = [
  {
    name: "out",
    type: "string",
    placeholder: "RUTA",
    default: "BENCHMARKS.md",
    description: "archivo en el que escribir los resultados",
  },
  {
    name: "long",
    type: "string",
    placeholder: "N",
    default: "1000000 (100000 con --quick)",
    description: "pedidos de la prueba larga de memoria",
  },
  {
    name: "idle",
    type: "string",
    placeholder: "N",
    default: "5000",
    description: "conexiones inactivas abiertas para medir la memoria",
  },
  {
    name: "quick",
    type: "boolean",
    description: "cantidades reducidas (prueba rápida; las cifras son menos estables)",
  },
  {
    name: "skip-profile",
    type: "boolean",
    description: "no toma perfiles de CPU del servidor",
  },
  { name: "help", type: "boolean", short: "h", description: "muestra esta ayuda" },
];

const flagsSchema = z.object({
  out: z.string().min(1, { error: "no puede estar vacío" }).optional(),
  long: integerFlag(1000, 10_000_000).optional(),
  idle: integerFlag(1, 15_000).optional(),
  quick: z.boolean().optional(),
  "skip-profile": z.boolean().optional(),
});

/** What one bench run measures, and how much of it. */
interface BenchPlan {
  out: string;
  quick: boolean;
  profile: boolean;
  /** Orders in the pipelined admission runs (real server). */
  pipelineOrders: number;
  /** Orders in the pipelined ceiling run (trivial server, much faster). */
  ceilingOrders: number;
  /** Orders in the one-connection-per-order runs. */
  connectionOrders: number;
  /** Seconds of the open-loop run. */
  openLoopSeconds: number;
  cpuOrders: number;
  warmOrders: number;
  longOrders: number;
  idleConnections: number;
}

// Pipelined runs: 4 connections × 64 in flight. One connection per order: 32 at once.
const PIPE = { concurrency: 4, depth: 64 };
const CONN = { concurrency: 32 };
// Parallel efficiency, as the issue states it: 600 orders of 50 ms on 6 workers.
const PARALLEL = { orders: 600, workMs: 50, workers: 6 };
const CPU_WORK_MS = 20;
/** The long memory run is split in this many equal segments. */
const LONG_SEGMENTS = 4;

/** A child process running a server, with its port and /proc readings. */
class Child implements AsyncDisposable {
  readonly process: Deno.ChildProcess;
  readonly label: string;
  port = 0;
  inspector: string | undefined;
  /** The database of a real server. */
  db = "";
  #stderr = "";
  #exit: Promise<Deno.CommandStatus>;

  private constructor(process: Deno.ChildProcess, label: string) {
    this.process = process;
    this.label = label;
    this.#exit = process.status;
    process.stdout.pipeTo(new WritableStream()).catch(() => {});
    process.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
      new WritableStream({ write: (text) => void (this.#stderr += text) }),
    ).catch(() => {});
  }

  /** Spawns `deno run` on `script` and waits until it logs its address. */
  static async start(
    label: string,
    script: string,
    permissions: string[],
    args: string[],
    inspect = false,
  ): Promise<Child> {
    const process = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...(inspect ? [`--inspect=${HOST}:0`] : []),
        ...permissions,
        new URL(script, ROOT).pathname,
        ...args,
      ],
      cwd: new URL(".", ROOT).pathname,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const child = new Child(process, label);
    let exited = false;
    child.#exit.then(() => exited = true);
    const deadline = Date.now() + 30_000;
    while (!/escuchando en \S+:\d+/.test(child.#stderr)) {
      if (exited || Date.now() > deadline) {
        await child.stop();
        throw new Error(`${label} no arrancó: ${child.#stderr.trim().split("\n").at(-1) ?? ""}`);
      }
      await sleep(20);
    }
    child.port = Number(child.#stderr.match(/escuchando en \S+:(\d+)/)![1]);
    child.inspector = child.#stderr.match(/Debugger listening on (ws:\/\/\S+)/)?.[1];
    return child;
  }

  get pid(): number {
    return this.process.pid;
  }

  /** Resident set size now, bytes. */
  rss(): number {
    return readKilobytes(Deno.readTextFileSync(`/proc/${this.pid}/status`), "VmRSS");
  }

  /** Peak resident set size so far, bytes. */
  peakRss(): number {
    return readKilobytes(Deno.readTextFileSync(`/proc/${this.pid}/status`), "VmHWM");
  }

  /** CPU seconds of the main thread, of the worker threads and of all threads. */
  cpu(): { main: number; all: number; workers: number } {
    return processCpu(this.pid);
  }

  /** SIGTERM, then SIGKILL if it does not exit within 30 s. */
  async stop(): Promise<void> {
    try {
      this.process.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    const timer = setTimeout(() => {
      try {
        this.process.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }, 30_000);
    await this.#exit;
    clearTimeout(timer);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/** CPU seconds used so far by the main thread (tid = pid) and by every thread of `pid`. */
function processCpu(pid: number): { main: number; all: number; workers: number } {
  let main = 0;
  let all = 0;
  let workers = 0;
  for (const entry of Deno.readDirSync(`/proc/${pid}/task`)) {
    let thread: ThreadCpu;
    try {
      thread = parseThreadStat(Deno.readTextFileSync(`/proc/${pid}/task/${entry.name}/stat`));
    } catch {
      continue; // The thread ended meanwhile.
    }
    all += thread.seconds;
    if (entry.name === String(pid)) main = thread.seconds;
    // Deno names the thread of each Web Worker "worker-N".
    if (/^worker-\d+$/.test(thread.name)) workers += thread.seconds;
  }
  return { main, all, workers };
}

interface CpuMark {
  at: number;
  server: { main: number; all: number; workers: number };
  load: number;
  machine: number;
}

function cpuMark(server: Child): CpuMark {
  return {
    at: performance.now(),
    server: server.cpu(),
    load: processCpu(Deno.pid).all,
    machine: parseMachineCpu(Deno.readTextFileSync("/proc/stat")).busy,
  };
}

function cpuSince(before: CpuMark, after: CpuMark): CpuUse {
  const seconds = (after.at - before.at) / 1000;
  const server = after.server.all - before.server.all;
  const load = after.load - before.load;
  const machine = after.machine - before.machine;
  return {
    serverMain: (after.server.main - before.server.main) / seconds,
    serverWorkers: (after.server.workers - before.server.workers) / seconds,
    server: server / seconds,
    load: load / seconds,
    others: Math.max(0, machine - server - load) / seconds,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function say(text: string) {
  Deno.stderr.writeSync(encoder.encode(`${text}\n`));
}

/** The bench: runs every measurement in order and collects the document. */
class Bench {
  readonly plan: BenchPlan;
  readonly cores = parseCpuInfo(Deno.readTextFileSync("/proc/cpuinfo")).processors ||
    navigator.hardwareConcurrency;
  readonly #dirs: string[] = [];
  /** Every child started, so that an interrupted run can kill them. */
  readonly #children: Child[] = [];
  readonly rows: ResultRow[] = [];
  readonly cpu: BenchDocument["cpu"] = [];
  readonly profiles: BenchDocument["profiles"] = [];
  readonly findings: string[] = [];
  readonly warnings: string[] = [];
  #step = 0;
  readonly #steps: number;

  constructor(plan: BenchPlan) {
    this.plan = plan;
    this.#steps = plan.profile ? 9 : 8;
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
    },
    inspect = false,
  ): Promise<Child> {
    const dir = await Deno.makeTempDir({ prefix: "pedidos-bench-" });
    this.#dirs.push(dir);
    const child = await Child.start("el servidor", "server.ts", [
      "--allow-net",
      "--allow-read",
      "--allow-write",
      "--allow-ffi",
    ], [
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
    ], inspect);
    child.db = `${dir}/pedidos.db`;
    this.#children.push(child);
    return child;
  }

  async trivial(): Promise<Child> {
    const child = await Child.start(
      "el servidor trivial",
      "tools/trivial_server.ts",
      ["--allow-net"],
      ["--host", HOST, "--port", "0"],
    );
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

  recordCpu(label: string, use: CpuUse) {
    this.cpu.push({ label, use });
    if (use.others > 0.25) {
      this.warnings.push(
        `During "${label}" other processes on the machine used ${fixed(use.others, 2)} cores: ` +
          "that figure may be worse than this machine gives without interference.",
      );
    }
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

/** A connection to a server's V8 inspector (Chrome DevTools Protocol over WebSocket). */
class Inspector implements AsyncDisposable {
  readonly #socket: WebSocket;
  readonly #pending = new Map<number, (result: unknown) => void>();
  #id = 0;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      this.#pending.get(message.id)?.(message.result);
      this.#pending.delete(message.id);
    };
  }

  static async connect(url: string): Promise<Inspector> {
    const socket = new WebSocket(url);
    const opened = Promise.withResolvers<void>();
    socket.onopen = () => opened.resolve();
    socket.onerror = () => opened.reject(new Error("no se pudo conectar con el inspector"));
    await opened.promise;
    return new Inspector(socket);
  }

  call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const { promise, resolve } = Promise.withResolvers<unknown>();
    this.#pending.set(++this.#id, resolve);
    this.#socket.send(JSON.stringify({ id: this.#id, method, params }));
    return promise;
  }

  /** Profiles the main thread while `during` runs. */
  async profile(during: () => Promise<void>): Promise<CpuProfile> {
    await this.call("Profiler.enable");
    await this.call("Profiler.setSamplingInterval", { interval: 500 });
    await this.call("Profiler.start");
    await during();
    const result = await this.call("Profiler.stop") as { profile: CpuProfile };
    return result.profile;
  }

  /** Runs a full garbage collection; returns the JavaScript heap in use afterwards, bytes. */
  async collectGarbage(): Promise<number> {
    await this.call("HeapProfiler.collectGarbage");
    const usage = await this.call("Runtime.getHeapUsage") as { usedSize: number };
    return usage.usedSize;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    const closed = Promise.withResolvers<void>();
    this.#socket.onclose = () => closed.resolve();
    this.#socket.close();
    await closed.promise;
  }
}

/** Opens `count` connections to `port` and reads each greeting; returns them open. */
async function openIdle(port: number, count: number): Promise<Deno.TcpConn[]> {
  const connections: Deno.TcpConn[] = [];
  const buffer = new Uint8Array(4096);
  for (let start = 0; start < count; start += 250) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(250, count - start) }, async () => {
        const conn = await Deno.connect({ hostname: HOST, port });
        let seen = "";
        while (!seen.includes("\n")) {
          const read = await conn.read(buffer);
          if (read === null) throw new Error("el servidor cerró una conexión inactiva");
          seen += new TextDecoder().decode(buffer.subarray(0, read));
        }
        if (!seen.includes('"bienvenida"')) throw new Error(`saludo inesperado: ${seen.trim()}`);
        return conn;
      }),
    );
    connections.push(...batch);
  }
  return connections;
}

function share(summary: ProfileSummary, category: string): string {
  return `${((summary.shares[category] ?? 0) * 100).toFixed(0)} %`;
}

function topCategories(summary: ProfileSummary, count: number): string {
  return PROFILE_CATEGORIES
    .filter((category) => category !== "idle")
    .map((category) => [category, summary.shares[category] ?? 0] as const)
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([category, value]) => `${category} ${(value * 100).toFixed(0)} %`)
    .join(", ");
}

function e2eRate(report: LoadReport): number {
  const last = report.verification?.lastFinishedAt;
  return last === undefined ? NaN : report.accepted / ((last - report.startedAt) / 1000);
}

async function runBench(plan: BenchPlan): Promise<BenchDocument> {
  const bench = new Bench(plan);
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
  try {
    return await measureAll(bench, { started, date, loadAverage });
  } finally {
    Deno.removeSignalListener("SIGINT", interrupted);
    Deno.removeSignalListener("SIGTERM", interrupted);
    await bench.cleanup();
  }
}

async function measureAll(
  bench: Bench,
  meta: { started: number; date: string; loadAverage: string },
): Promise<BenchDocument> {
  const { plan, cores } = bench;
  const bigMax = 1_000_000;

  // 1. Ceilings: the trivial server, driven exactly as the real one will be.
  bench.step("techo: servidor trivial (pipeline y una conexión por pedido)");
  let ceilingPipe: LoadReport;
  let ceilingConn: LoadReport;
  {
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
    ceilingPipe = pipe.report;
    bench.recordCpu("Ceiling, pipelined (trivial server)", pipe.cpu);
    const conn = await bench.load(trivial, "techo una conexión por pedido", {
      mode: "conexion",
      ...CONN,
      orders: plan.connectionOrders,
    });
    ceilingConn = conn.report;
    bench.recordCpu("Ceiling, one connection per order (trivial server)", conn.cpu);
  }

  // 2 and 4. Durable pipelined admission, then end to end on the same orders.
  bench.step("admisión pipeline durable (--sync full, --work-ms 0) y extremo a extremo");
  let admission: LoadReport;
  let openLoop: LoadReport;
  {
    await using server = await bench.server({ workers: cores, workMs: 0, max: bigMax });
    await bench.load(server, "calentamiento", {
      mode: "pipeline",
      ...PIPE,
      orders: plan.warmOrders,
    });
    const run = await bench.load(server, "admisión pipeline", {
      mode: "pipeline",
      ...PIPE,
      orders: plan.pipelineOrders,
      verify: server.db,
      waitDone: true,
    });
    admission = run.report;
    bench.recordCpu("Admission, pipelined, durable", run.cpu);
    const rate = Math.max(100, Math.round(admission.acceptedPerSecond / 2 / 100) * 100);
    bench.step(
      `lazo abierto a ${grouped(rate)} pedidos/s (la mitad de lo admitido en lazo cerrado)`,
    );
    const open = await bench.load(server, "lazo abierto", {
      mode: "pipeline",
      ...PIPE,
      depth: 1024,
      rate,
      durationMs: plan.openLoopSeconds * 1000,
    });
    openLoop = open.report;
    bench.recordCpu(`Open loop at ${grouped(rate)}/s`, open.cpu);
  }

  // 2. One connection per order.
  bench.step("admisión con una conexión por pedido");
  let perConnection: LoadReport;
  {
    await using server = await bench.server({ workers: cores, workMs: 0, max: bigMax });
    await bench.load(server, "calentamiento", { mode: "conexion", ...CONN, orders: 2000 });
    const run = await bench.load(server, "una conexión por pedido", {
      mode: "conexion",
      ...CONN,
      orders: plan.connectionOrders,
    });
    perConnection = run.report;
    bench.recordCpu("Admission, one connection per order", run.cpu);
  }

  // 5. Parallel efficiency with sleeping work.
  bench.step(
    `eficiencia paralela: ${PARALLEL.orders} pedidos de ${PARALLEL.workMs} ms en ${PARALLEL.workers} workers`,
  );
  let makespan: number;
  {
    await using server = await bench.server({
      workers: PARALLEL.workers,
      workMs: PARALLEL.workMs,
      max: bigMax,
    });
    const run = await bench.load(server, "eficiencia paralela", {
      mode: "pipeline",
      concurrency: 1,
      depth: PARALLEL.orders,
      orders: PARALLEL.orders,
      verify: server.db,
      waitDone: true,
    }, "terminados");
    makespan = (run.report.verification?.lastFinishedAt ?? NaN) - run.report.startedAt;
    bench.recordCpu("Parallel efficiency (sleep, until done)", run.cpu);
  }
  const idealMakespan = PARALLEL.orders * PARALLEL.workMs / PARALLEL.workers;

  // 6. CPU scaling.
  const workerCounts = [...new Set([1, 2, cores, 2 * cores])];
  bench.step(`escalado de CPU: --work-mode cpu, workers ${workerCounts.join(", ")}`);
  const cpuTimes = new Map<number, number>();
  /** Cores' worth of CPU the worker threads got over the makespan. */
  const workerCores = new Map<number, number>();
  for (const workers of workerCounts) {
    await using server = await bench.server({
      workers,
      workMs: CPU_WORK_MS,
      workMode: "cpu",
      max: bigMax,
    });
    const run = await bench.load(server, `cpu, ${workers} workers`, {
      mode: "pipeline",
      concurrency: 1,
      depth: plan.cpuOrders,
      orders: plan.cpuOrders,
      verify: server.db,
      waitDone: true,
    }, "terminados");
    const span = (run.report.verification?.lastFinishedAt ?? NaN) - run.report.startedAt;
    cpuTimes.set(workers, span);
    workerCores.set(workers, run.workerSeconds / (span / 1000));
    bench.recordCpu(`CPU work, ${workers} workers (until done)`, run.cpu);
  }

  // 7a. Memory with idle connections.
  bench.step(`memoria con ${grouped(plan.idleConnections)} conexiones inactivas`);
  let idleBefore: number;
  let idleAfter: number;
  {
    await using server = await bench.server({ workers: cores, workMs: 0, max: bigMax });
    await sleep(500);
    idleBefore = server.rss();
    const connections = await openIdle(server.port, plan.idleConnections);
    await sleep(1000);
    idleAfter = server.rss();
    say(
      `    ${grouped(connections.length)} conexiones: ${mebibytes(idleBefore)} → ${
        mebibytes(idleAfter)
      }`,
    );
    for (const conn of connections) conn.close();
  }

  // 7b. Memory across a long run, in equal segments after one segment of warm-up: the
  // warm-up reaches the heap's working size, so growth across the segments is what stays.
  const segmentOrders = Math.ceil(plan.longOrders / LONG_SEGMENTS);
  bench.step(
    `memoria a lo largo de ${grouped(plan.longOrders)} pedidos (${LONG_SEGMENTS} tramos de ` +
      `${grouped(segmentOrders)}, tras uno de calentamiento)`,
  );
  const longRss: number[] = [];
  const longHeap: number[] = [];
  let longPeak: number;
  let longAccepted = 0;
  const longVerifications: LoadReport["verification"][] = [];
  {
    // With the inspector, each reading follows a full garbage collection: what
    // is left is what the server holds, not what the collector has not reached yet.
    await using server = await bench.server({ workers: cores, workMs: 0, max: bigMax }, true);
    await using inspector = await Inspector.connect(server.inspector!);
    for (let segment = 0; segment <= LONG_SEGMENTS; segment++) {
      const run = await bench.load(
        server,
        segment === 0 ? "calentamiento" : `tramo ${segment}/${LONG_SEGMENTS}`,
        { mode: "pipeline", ...PIPE, orders: segmentOrders, verify: server.db, waitDone: true },
      );
      longHeap.push(await inspector.collectGarbage());
      await sleep(500);
      longRss.push(server.rss());
      if (segment === 0) continue;
      longAccepted += run.report.accepted;
      longVerifications.push(run.report.verification);
      if (segment === 1) bench.recordCpu(`Long run, segment 1 of ${LONG_SEGMENTS}`, run.cpu);
    }
    longPeak = server.peakRss();
    say(`    memoria: ${longRss.map(mebibytes).join(" → ")} (pico ${mebibytes(longPeak)})`);
    say(`    heap de JavaScript: ${longHeap.map(mebibytes).join(" → ")}`);
  }
  const longBefore = longRss[0]!;
  const longAfter = longRss.at(-1)!;

  // Profiles, in separate short repetitions so that profiling does not touch the figures.
  let pipeProfile: ProfileSummary | undefined;
  let connProfile: ProfileSummary | undefined;
  if (plan.profile) {
    bench.step("perfiles de CPU del servidor (repeticiones cortas con --inspect)");
    for (const mode of ["pipeline", "conexion"] as const) {
      await using server = await bench.server({ workers: cores, workMs: 0, max: bigMax }, true);
      await bench.load(
        server,
        "calentamiento",
        mode === "pipeline"
          ? { mode, ...PIPE, orders: plan.warmOrders }
          : { mode, ...CONN, orders: 2000 },
      );
      const measuredRate = mode === "pipeline"
        ? admission.acceptedPerSecond
        : perConnection.acceptedPerSecond;
      const orders = Math.max(2000, Math.round(measuredRate * 4));
      let cpu: CpuUse | undefined;
      await using inspector = await Inspector.connect(server.inspector!);
      const profile = await inspector.profile(async () => {
        const run = await bench.load(
          server,
          `perfil ${mode}`,
          mode === "pipeline" ? { mode, ...PIPE, orders } : { mode, ...CONN, orders },
        );
        cpu = run.cpu;
      });
      const summary = summarizeProfile(profile);
      if (mode === "pipeline") pipeProfile = summary;
      else connProfile = summary;
      bench.profiles.push({
        label: mode === "pipeline" ? "pipelined, durable" : "one connection per order",
        summary,
        mainThreadBusy: cpu?.serverMain ?? NaN,
      });
    }
  }

  // The table.
  const admissionRatio = admission.acceptedPerSecond / ceilingPipe.acceptedPerSecond;
  bench.rows.push({
    label: "Ceiling, pipelined: trivial server",
    value: `${grouped(ceilingPipe.acceptedPerSecond)} orders/s · p99 ${
      formatMs(ceilingPipe.latencyMs.p99)
    }`,
    ceiling: "— (this is the ceiling)",
    ratio: undefined,
    target: "—",
    met: undefined,
  });
  bench.rows.push({
    label: "Ceiling, one connection per order: trivial server",
    value: `${grouped(ceilingConn.acceptedPerSecond)} orders/s · p99 ${
      formatMs(ceilingConn.latencyMs.p99)
    }`,
    ceiling: "— (this is the ceiling)",
    ratio: undefined,
    target: "—",
    met: undefined,
  });
  bench.rows.push({
    label: `1. Admission, pipelined, durable (${PIPE.concurrency} connections × ${PIPE.depth} ` +
      "in flight)",
    value: `${grouped(admission.acceptedPerSecond)} orders/s · p99 ${
      formatMs(admission.latencyMs.p99)
    }`,
    ceiling: `${grouped(ceilingPipe.acceptedPerSecond)} orders/s (trivial)`,
    ratio: admissionRatio,
    target: "≥ 100 000/s with p99 ≤ 15 ms",
    met: admission.acceptedPerSecond >= 100_000 && admission.latencyMs.p99 <= 15,
  });
  bench.rows.push({
    label: `1b. Open loop at ${grouped(openLoop.rate ?? 0)} orders/s (latency from the ` +
      "scheduled time)",
    value: `p50 ${formatMs(openLoop.latencyMs.p50)} · p99 ${
      formatMs(openLoop.latencyMs.p99)
    } · max ${formatMs(openLoop.latencyMs.max)}`,
    ceiling: `p99 ${formatMs(ceilingPipe.latencyMs.p99)} (trivial, closed loop)`,
    ratio: undefined,
    target: "—",
    met: undefined,
  });
  const connRatio = perConnection.acceptedPerSecond / ceilingConn.acceptedPerSecond;
  bench.rows.push({
    label: `2. Admission, one connection per order (${CONN.concurrency} at a time)`,
    value: `${grouped(perConnection.acceptedPerSecond)} orders/s · p99 ${
      formatMs(perConnection.latencyMs.p99)
    }`,
    ceiling: `${grouped(ceilingConn.acceptedPerSecond)} orders/s (trivial)`,
    ratio: connRatio,
    target: "≥ 0.8 of the ceiling",
    met: connRatio >= 0.8,
  });
  const e2e = e2eRate(admission);
  bench.rows.push({
    label: "4. End to end with --work-ms 0 (until every order is listo)",
    value: `${grouped(e2e)} orders/s`,
    ceiling: `${grouped(ceilingPipe.acceptedPerSecond)} orders/s (trivial)`,
    ratio: e2e / ceilingPipe.acceptedPerSecond,
    target: "≥ 40 000/s",
    met: e2e >= 40_000,
  });
  const efficiency = idealMakespan / makespan;
  bench.rows.push({
    label: `5. Parallel efficiency (${PARALLEL.orders} × ${PARALLEL.workMs} ms sleep, ` +
      `${PARALLEL.workers} workers)`,
    value: `${grouped(makespan)} ms from first send to last fecha_fin`,
    ceiling: `${grouped(idealMakespan)} ms ideal`,
    ratio: efficiency,
    target: "≥ 0.98",
    met: efficiency >= 0.98,
  });
  // `--work-mode cpu` spins for a span of wall-clock time (lib/work.ts), so an order
  // "finishes" on time even on a core it shares: the makespan cannot show contention.
  // The CPU the worker threads actually got can, and that is what is judged.
  const t1 = cpuTimes.get(1)!;
  const c1 = workerCores.get(1)!;
  for (const workers of workerCounts.slice(1)) {
    const scaling = workerCores.get(workers)! / c1;
    const ideal = Math.min(workers, cores);
    bench.rows.push({
      label: `6. CPU scaling, 1 → ${workers} workers (${plan.cpuOrders} × ${CPU_WORK_MS} ms ` +
        "cpu work): CPU the workers received",
      value: `${fixed(scaling, 2)}× (${fixed(c1, 2)} → ${fixed(workerCores.get(workers)!, 2)} ` +
        `cores); makespan ${grouped(t1)} → ${grouped(cpuTimes.get(workers)!)} ms`,
      ceiling: `${ideal}× ideal (${cores} cores)`,
      ratio: scaling / ideal,
      target: workers === 2 ? "≥ 1.7×" : "—",
      met: workers === 2 ? scaling >= 1.7 : undefined,
    });
  }
  bench.rows.push({
    label: `7. Memory with ${grouped(plan.idleConnections)} idle connections`,
    value: `${mebibytes(idleAfter)} resident (${
      fixed((idleAfter - idleBefore) / plan.idleConnections / 1024, 1)
    } KiB per connection)`,
    ceiling: `${mebibytes(idleBefore)} with no connections`,
    ratio: idleAfter / idleBefore,
    target: "≤ 200 MB",
    met: idleAfter <= 200_000_000,
  });
  const growth = longAfter / longBefore;
  bench.rows.push({
    label: `7b. Memory across ${grouped(plan.longOrders)} orders (after warm-up, then after ` +
      `each of ${LONG_SEGMENTS} segments)`,
    value: `resident ${longRss.map(mebibytes).join(" → ")} (peak ${mebibytes(longPeak)}); ` +
      `JS heap ${longHeap.map(mebibytes).join(" → ")}`,
    ceiling: `${mebibytes(longBefore)} before`,
    ratio: growth,
    target: "no growth (≤ 1.10)",
    met: growth <= 1.10,
  });

  // What limits each figure, from this run's profiles and CPU readings.
  const cpuOf = (label: string) => bench.cpu.find((row) => row.label.startsWith(label))?.use;
  const admissionCpu = cpuOf("Admission, pipelined");
  const connCpu = cpuOf("Admission, one connection");
  bench.findings.push(
    `**Pipelined admission** (${fixed(admissionRatio, 2)} of the ceiling): the server's main ` +
      `thread was busy ${fixed(admissionCpu?.serverMain ?? NaN, 2)} cores on average while ` +
      `admitting (with the workers processing at the same time); the whole server ` +
      `${fixed(admissionCpu?.server ?? NaN, 2)} cores and the load tool ` +
      `${fixed(admissionCpu?.load ?? NaN, 2)}, on a ${cores}-core machine: the main thread is ` +
      "the bottleneck." +
      (pipeProfile ? ` Its profile: ${topCategories(pipeProfile, 4)}.` : "") +
      " With --work-ms 0 the same thread also completes every order it admits: besides its " +
      "INSERT, each order goes to a worker (64 to a message, lib/pool.ts) and comes back as a " +
      "state change (start and end, one UPDATE when they share a commit), and every commit " +
      "waits for its fsync on that thread (--sync full). SQLite, the largest share, runs " +
      "synchronously on the main thread by design: it alone owns the database.",
  );
  bench.findings.push(
    `**One connection per order** (${fixed(connRatio, 2)} of the ceiling): the server's main ` +
      `thread used ${fixed(connCpu?.serverMain ?? NaN, 2)} cores and the load tool ` +
      `${fixed(connCpu?.load ?? NaN, 2)}.` +
      (connProfile ? ` Profile: ${topCategories(connProfile, 4)}.` : "") +
      " Accepting, greeting and closing a connection costs the trivial server the same; what " +
      "the real server adds is validation, the INSERT and its commit (small batches, so one " +
      "fsync for few orders) and sending the order to a worker.",
  );
  bench.findings.push(
    `**End to end** (${grouped(e2e)} orders/s, against ` +
      `${grouped(admission.acceptedPerSecond)} admitted/s). With --work-ms 0 each of the ` +
      `${cores} workers finished one order every ${fixed(cores / e2e * 1e6, 0)} µs, using ` +
      `${fixed(admissionCpu?.serverWorkers ?? NaN, 2)} cores between them: the workers wait for ` +
      "the main thread, which admits, stores and completes every order." +
      (pipeProfile
        ? ` On the main thread, messages to and from workers are ${
          share(pipeProfile, "messages to and from workers (pool.ts)")
        } of the profile and SQLite ${share(pipeProfile, "SQLite (store.ts)")}.`
        : ""),
  );
  bench.findings.push(
    `**Parallel efficiency** (${fixed(efficiency, 3)}): ${grouped(makespan - idealMakespan)} ms ` +
      `over the ideal, that is ${
        fixed((makespan - idealMakespan) * PARALLEL.workers / PARALLEL.orders, 2)
      } ms per order and worker. It is measured from the load tool's first send, so it includes ` +
      "connecting, admitting and committing the first orders; each worker already holds its " +
      "next order when one ends (lib/pool.ts), and sleep work lasts its 50 ms to within a " +
      "fraction of a millisecond (lib/work.ts), so the rest is what those fractions add up to.",
  );
  const scaling2 = workerCores.get(2)! / c1;
  const busiest = workerCounts.at(-1)!;
  bench.findings.push(
    `**CPU scaling** (${fixed(scaling2, 2)}× more CPU with 2 workers than with 1): with ` +
      `${cores} cores the workers share the machine with the server's main thread, which ` +
      "receives and dispatches every order. The cpu work mode spins for a fixed span of " +
      "wall-clock time (lib/work.ts), not for a fixed amount of computation: that is why the " +
      `makespan keeps falling with ${busiest} workers (${grouped(t1)} → ${
        grouped(cpuTimes.get(busiest)!)
      } ms) although they only get ${fixed(workerCores.get(busiest)!, 2)} cores; the table ` +
      "judges the CPU received, which cannot be faked that way.",
  );
  bench.findings.push(
    `**Memory**: ${
      fixed((idleAfter - idleBefore) / plan.idleConnections / 1024, 1)
    } KiB per idle connection; across ${grouped(plan.longOrders)} orders the resident size ` +
      `after each segment (each reading after a full garbage collection) grew ${
        fixed(growth, 2)
      }× from the first reading to the last, with a peak of ${mebibytes(longPeak)} while the ` +
      "workers' queue held the orders admitted faster than they were processed. The JavaScript " +
      `heap after the same collections went ${mebibytes(longHeap[0]!)} → ${
        mebibytes(longHeap.at(-1)!)
      } (${fixed(longHeap.at(-1)! / longHeap[0]!, 2)}×): nothing accumulates in JavaScript, so ` +
      "any resident growth is native memory (SQLite's cache, socket and message buffers, and " +
      "what the allocator keeps after the peak).",
  );
  const lost = longVerifications.reduce((sum, v) => sum + (v?.lost.count ?? 0), 0);
  const duplicated = longVerifications.reduce((sum, v) => sum + (v?.duplicated.count ?? 0), 0);
  bench.findings.push(
    `**Integrity**: the long run ended with lost: ${lost}, duplicated: ${duplicated} over ` +
      `${grouped(longAccepted)} acknowledged orders, every one checked in the database.`,
  );

  const method = [
    "Servers: `server.ts` as a child process on 127.0.0.1, ephemeral port, fresh temporary " +
    "database, `--sync full`, `--max 1000000`, `--work-ms 0` and as many workers as cores " +
    "unless stated. The ceiling is `tools/trivial_server.ts`, another child process, which " +
    "greets and answers `ok` to every line without validating or storing anything.",
    `Load: \`runLoad\` from \`tools/load.ts\` in the bench process. Pipelined: ${PIPE.concurrency} ` +
    `connections with ${PIPE.depth} orders in flight each, ${
      grouped(plan.pipelineOrders)
    } orders ` +
    `(${grouped(plan.ceilingOrders)} against the ceiling). One connection per order: ` +
    `${CONN.concurrency} at a time, ${grouped(plan.connectionOrders)} orders. Each server first ` +
    `gets ${grouped(plan.warmOrders)} warm-up orders that are not counted.`,
    "Latency: `lib/histogram.ts`; in a closed loop from the send, in an open loop from each " +
    "order's scheduled time.",
    "End to end, efficiency and scaling: from the first send to the latest `fecha_fin` of the " +
    "acknowledged orders, read from the database by `--verify --wait-done` (which also checks " +
    "that every acknowledged order is stored once, with the content sent).",
    "CPU: user + system time per thread from `/proc/PID/task/*/stat` while the orders of each " +
    "measure are sent (until the last one is done for efficiency and scaling); memory: `VmRSS` " +
    "and `VmHWM` from the server's `/proc/PID/status`. In the long run each reading follows a " +
    "full collection requested through the inspector (`HeapProfiler.collectGarbage`), and the " +
    "JavaScript heap in use is given too (`Runtime.getHeapUsage`).",
    "Profiles: V8 inspector (`--inspect`, `Profiler.start`/`stop`, a sample every 0.5 ms) in a " +
    "separate repetition of about 4 s, so that profiling does not touch the table's figures.",
  ];
  if (plan.quick) {
    bench.warnings.push("Run with --quick: smaller counts, less stable figures.");
  }

  const cpuInfo = parseCpuInfo(Deno.readTextFileSync("/proc/cpuinfo"));
  return {
    machine: {
      cores,
      model: cpuInfo.model,
      memoryBytes: readKilobytes(Deno.readTextFileSync("/proc/meminfo"), "MemTotal"),
      os: `${Deno.build.os} ${Deno.build.arch}`,
      deno: `${Deno.version.deno} (V8 ${Deno.version.v8}, TypeScript ${Deno.version.typescript})`,
    },
    date: meta.date,
    durationMs: performance.now() - meta.started,
    command: `deno task bench${plan.quick ? " --quick" : ""}${
      plan.longOrders !== (plan.quick ? 100_000 : 1_000_000) ? ` --long ${plan.longOrders}` : ""
    }`,
    loadAverage: meta.loadAverage,
    rows: bench.rows,
    cpu: bench.cpu,
    profiles: bench.profiles,
    findings: bench.findings,
    method,
    warnings: bench.warnings,
  };
}

function planFrom(args: string[]): BenchPlan | undefined {
  const { values } = parseFlags(args, FLAGS);
  if (values.help) return undefined;
  const { help: _help, ...rest } = values;
  const flags = validateFlags(flagsSchema, rest);
  const quick = flags.quick ?? false;
  return {
    out: flags.out ?? new URL("BENCHMARKS.md", ROOT).pathname,
    quick,
    profile: !(flags["skip-profile"] ?? false),
    pipelineOrders: quick ? 50_000 : 300_000,
    ceilingOrders: quick ? 100_000 : 500_000,
    connectionOrders: quick ? 4000 : 20_000,
    openLoopSeconds: quick ? 2 : 5,
    cpuOrders: quick ? 40 : 120,
    warmOrders: quick ? 10_000 : 30_000,
    longOrders: flags.long ?? (quick ? 100_000 : 1_000_000),
    idleConnections: flags.idle ?? 5000,
  };
}

async function main(args: string[]): Promise<number> {
  const plan = planFrom(args);
  if (!plan) {
    console.log(usage(
      "deno task bench [opciones]",
      "Mide el servidor de extremo a extremo en esta máquina y escribe BENCHMARKS.md.",
      FLAGS,
      "\nLa ejecución completa tarda unos minutos; el progreso va a stderr.\n",
    ));
    return 0;
  }
  const document = await runBench(plan);
  await Deno.writeTextFile(plan.out, renderBenchmarks(document));
  // Aligned as `deno fmt` aligns tables, so that `deno task check` stays clean.
  const formatted = await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--quiet", plan.out],
    stdout: "null",
    stderr: "null",
  }).output();
  if (!formatted.success) say(`aviso: deno fmt no pudo formatear ${plan.out}`);
  say(`escrito ${plan.out}`);
  return 0;
}

if (import.meta.main) await runMain("bench", () => main(Deno.args), "deno task bench");
