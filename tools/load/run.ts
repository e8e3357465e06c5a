/**
 * The load tool as a library: {@linkcode runLoad} drives any server speaking
 * the pedidos protocol and returns what it got back (and, with `verify`, how
 * the database compares with the acknowledgements). The bench runs it
 * in-process; `tools/load/main.ts` is its command line.
 *
 * Two ways to send (`mode`): `conexion` opens one TCP connection per order
 * (read the greeting, send, read the reply, close), as the seed's clients do;
 * `pipeline` keeps `concurrency` connections open with `depth` orders in
 * flight on each. Two ways to pace: a closed loop sends `orders` as fast as
 * replies come back; an open loop (`rate`) sends on a fixed schedule for
 * `durationMs` and measures each latency from the order's scheduled time, so
 * a stalled server shows as latency rather than as fewer arrivals.
 *
 * The connections are driven on the calling thread (`threads: 1`) or spread
 * over workers (`tools/load/threads.ts`); either way the report measures the
 * tool's own CPU over the run (`tools/load/tool_cpu.ts`).
 *
 * @module
 */
import { Driver } from "./driver.ts";
import { newRunTag, OrderGenerator } from "./orders.ts";
import { type LoadOptions, threadsFor } from "./options.ts";
import { type ProgressSample, RateMeter } from "./progress.ts";
import { buildReport, type LoadReport, Tally } from "./report.ts";
import { OpenLoopSchedule } from "./schedule.ts";
import { newCounter, OrderSource } from "./source.ts";
import { type DriveResult, type SharedPlan, ThreadPool } from "./threads.ts";
import { type CpuMark, cpuMark, machineCpus, toolCpu } from "./tool_cpu.ts";
import { Ledger, verifyDatabase } from "./verify.ts";

export type { LoadOptions } from "./options.ts";
export type { LoadReport } from "./report.ts";

/** Optional observers of a run. */
export interface LoadHooks {
  /** Called every `progressIntervalMs` while orders are being sent. */
  onProgress?: (sample: ProgressSample) => void;
  /** @default 1000 */
  progressIntervalMs?: number;
  /** Called while `--wait-done` waits, with how many orders are still unfinished. */
  onWait?: (unfinished: number) => void;
  /** Called once every order has its outcome, before any verification starts. */
  onRunEnd?: () => void;
}

/**
 * Runs one load test and returns its report (with the verification, if
 * `options.verify` names a database).
 *
 * @example
 * ```ts
 * const report = await runLoad({ ...LOAD_DEFAULTS, port: 8888, mode: "pipeline", orders: 1000 });
 * report.sent === report.accepted + report.rejectedTotal + report.errorsTotal; // true
 * ```
 * @throws {Error} if a worker thread fails
 */
export async function runLoad(options: LoadOptions, hooks: LoadHooks = {}): Promise<LoadReport> {
  const orders = new OrderGenerator(newRunTag(), options.bad);
  const tally = new Tally();
  const ledger = options.verify === undefined ? undefined : new Ledger();
  const cpus = machineCpus();
  const threads = threadsFor(options, cpus);
  const execution: Execution = threads > 1
    ? await ThreadPool.open(options, orders.tag, threads)
    : await LocalExecution.open(options, orders, tally, ledger);
  let ran: Ran;
  try {
    ran = await drive(options, execution, tally, ledger, hooks);
  } finally {
    execution.close();
  }
  const report = buildReport(tally, {
    target: `${options.host}:${options.port}`,
    mode: options.mode,
    loop: options.rate === undefined ? "cerrado" : "abierto",
    concurrency: options.concurrency,
    depth: options.mode === "pipeline" ? options.depth : 1,
    ...(options.rate !== undefined ? { rate: options.rate } : {}),
    startedAt: ran.startEpochMs,
    elapsedMs: Math.max(0, ran.lastOutcomeEpochMs - ran.startEpochMs),
    toolCpu: toolCpu({
      from: ran.cpuFrom,
      to: ran.cpuTo,
      orders: tally.sentCount,
      threads,
      cpus,
      lagSamplesMs: ran.lagSamplesMs,
    }),
    ...(ran.aborted ? { aborted: ran.aborted } : {}),
  });
  hooks.onRunEnd?.();
  if (!ledger || options.verify === undefined) return report;
  const verification = await verifyDatabase(options.verify, ledger, orders, {
    waitDone: options.waitDone,
    waitMs: options.waitMs,
    ...(hooks.onWait ? { onWait: hooks.onWait } : {}),
  });
  return { ...report, verification };
}

/** What a run did, and the tool's clock at its start and end. */
interface Ran extends DriveResult {
  startEpochMs: number;
  cpuFrom: CpuMark;
  cpuTo: CpuMark;
}

/** Where the connections are driven, once open: this thread, or a {@linkcode ThreadPool}. */
interface Execution {
  /** Orders with an outcome so far, and errors among them. */
  progress(): { done: number; errors: number };
  drive(plan: SharedPlan, tally: Tally, ledger: Ledger | undefined): Promise<DriveResult>;
  close(): void;
}

/**
 * Drives an opened execution until every order has its outcome, with
 * progress; the tool's clock starts when the orders do.
 */
async function drive(
  options: LoadOptions,
  execution: Execution,
  tally: Tally,
  ledger: Ledger | undefined,
  hooks: LoadHooks,
): Promise<Ran> {
  const cpuFrom = cpuMark();
  const startEpochMs = performance.timeOrigin + cpuFrom.wallMs;
  const total = options.rate === undefined
    ? options.orders
    : new OpenLoopSchedule({ rate: options.rate, durationMs: options.durationMs, startMs: 0 })
      .total;
  const sample = (rate: number): ProgressSample => {
    const { done, errors } = execution.progress();
    return { done, total, errors, elapsedMs: performance.now() - cpuFrom.wallMs, rate };
  };
  let progress: ReturnType<typeof setInterval> | undefined;
  if (hooks.onProgress) {
    const meter = new RateMeter(0, cpuFrom.wallMs);
    progress = setInterval(() => {
      hooks.onProgress!(sample(meter.update(execution.progress().done, performance.now())));
    }, hooks.progressIntervalMs ?? 1000);
  }
  const plan: SharedPlan = options.rate === undefined
    ? { orders: options.orders }
    : { rate: options.rate, durationMs: options.durationMs, startEpochMs };
  let result;
  try {
    result = await execution.drive(plan, tally, ledger);
  } finally {
    clearInterval(progress);
  }
  const cpuTo = cpuMark();
  const elapsedMs = result.lastOutcomeEpochMs - startEpochMs;
  hooks.onProgress?.({
    done: tally.completed,
    total,
    errors: tally.errorsTotal,
    elapsedMs: cpuTo.wallMs - cpuFrom.wallMs,
    rate: elapsedMs > 0 ? tally.completed * 1000 / elapsedMs : 0,
  });
  return { ...result, startEpochMs, cpuFrom, cpuTo };
}

/** The run on the calling thread: one {@linkcode Driver} over every connection. */
class LocalExecution implements Execution {
  readonly #driver: Driver;
  readonly #tally: Tally;

  private constructor(driver: Driver, tally: Tally) {
    this.#driver = driver;
    this.#tally = tally;
  }

  /** Opens every connection (pipeline mode) on this thread. */
  static async open(
    options: LoadOptions,
    orders: OrderGenerator,
    tally: Tally,
    ledger: Ledger | undefined,
  ): Promise<LocalExecution> {
    const driver = new Driver(options, orders, options.concurrency, tally, ledger);
    await driver.open();
    return new LocalExecution(driver, tally);
  }

  progress(): { done: number; errors: number } {
    return { done: this.#tally.completed, errors: this.#tally.errorsTotal };
  }

  async drive(plan: SharedPlan): Promise<DriveResult> {
    const source = new OrderSource(
      newCounter(false),
      "orders" in plan ? plan : {
        rate: plan.rate,
        durationMs: plan.durationMs,
        startMs: plan.startEpochMs - performance.timeOrigin,
      },
    );
    const result = await this.#driver.drive(source);
    return {
      lastOutcomeEpochMs: performance.timeOrigin + result.lastOutcomeAt,
      ...(result.aborted ? { aborted: result.aborted } : {}),
      lagSamplesMs: result.lagSamplesMs,
    };
  }

  close(): void {
    // The driver closes its lanes when it finishes.
  }
}
