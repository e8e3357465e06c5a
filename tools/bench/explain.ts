/**
 * The words of `BENCHMARKS.md`: what limits each figure, the warnings, and
 * how it was measured. Every conclusion is a pure function of the figures
 * measured in the same run: a sentence such as "the main thread is the
 * bottleneck" is printed only when the CPU readings show it, and its
 * opposite when they show that.
 *
 * Facts about the design (what the main thread does per order, how the
 * pool hands work over) are stated as such; they do not depend on a run.
 *
 * @module
 */
import {
  type BenchPlan,
  CONN,
  CPU_WORK_MS,
  type CpuUse,
  INGEST_WORK_MS,
  type Measurements,
  PARALLEL,
  PIPE,
  speedup,
} from "./figures.ts";
import { PROFILE_CATEGORIES, type ProfileSummary } from "./profile.ts";
import { formatMs } from "../load/report.ts";
import { fixed, grouped, type Judged, mebibytes, ratioTargets, type Target } from "./tables.ts";

/** A thread busy at least this many cores' worth (80 % of the time) is taken as the limit. */
export const SATURATED_CORES = 0.8;
/** The machine counts as full when this share of its cores was in use. */
export const MACHINE_FULL_SHARE = 0.9;
/** Other processes' CPU above this (in cores) during a measure earns a warning. */
export const INTERFERENCE_CORES = 0.25;

/** What held a measure back, read from its CPU use. */
export type Limit = "main thread" | "load tool" | "machine" | "waiting";

/**
 * Which part held a measure back: the server's main thread or the load
 * tool when one was saturated, the machine when its cores were all in use,
 * and otherwise waiting (no thread was busy enough to be the limit).
 *
 * @example
 * ```ts
 * limitOf({ serverMain: 0.92, serverWorkers: 0.1, server: 1.1, load: 0.1, others: 0 }, 2); // "main thread"
 * limitOf({ serverMain: 0.3, serverWorkers: 0.1, server: 0.4, load: 0.2, others: 0 }, 2); // "waiting"
 * ```
 */
export function limitOf(cpu: CpuUse, cores: number): Limit {
  if (cpu.serverMain >= SATURATED_CORES) return "main thread";
  if (cpu.load >= SATURATED_CORES) return "load tool";
  if (cpu.server + cpu.load + cpu.others >= MACHINE_FULL_SHARE * cores) return "machine";
  return "waiting";
}

function limitSentence(limit: Limit, cpu: CpuUse, cores: number): string {
  switch (limit) {
    case "main thread":
      return "the main thread is the bottleneck";
    case "load tool":
      return "the load tool, not the server, is the bottleneck";
    case "machine":
      return `the machine's ${cores} cores were all in use (other processes ${
        fixed(cpu.others, 2)
      }), so the figure is bound by the machine rather than by one thread`;
    case "waiting":
      return `no thread was busy ${
        Math.round(SATURATED_CORES * 100)
      } % of the time, so the limit is waiting rather than computing`;
  }
}

/** The `count` largest categories of a profile, idle aside, e.g. `SQLite (…) 54 %, …`. */
export function topCategories(summary: ProfileSummary, count: number): string {
  return rankedCategories(summary)
    .slice(0, count)
    .map(([category, value]) => `${category} ${fixed(value * 100, 0)} %`)
    .join(", ");
}

function rankedCategories(summary: ProfileSummary): [string, number][] {
  return PROFILE_CATEGORIES
    .filter((category) => category !== "idle")
    .map((category) => [category, summary.shares[category] ?? 0] as [string, number])
    .sort((a, b) => b[1] - a[1]);
}

function share(summary: ProfileSummary, category: string): string {
  return `${fixed((summary.shares[category] ?? 0) * 100, 0)} %`;
}

const SQLITE = "SQLite (store/sqlite.ts)";
const MESSAGES = "messages to and from workers (orders/pool.ts)";

/** A target's verdict as the findings print it, e.g. `target ≥ 1.3×: **not met**`. */
export function verdict(target: Target): string {
  return `target ${target.text}: ${target.met ? "met" : "**not met**"}`;
}

function judgedText(judged: Judged): string {
  return `${judged.ratio.text}×, ${verdict(judged.target)}`;
}

/** Durable ingest with the workers busy, against beanstalkd and the minimal stack, and its limit. */
export function explainIngest(m: Measurements): string {
  const { ingest, minimalPipe, beanstalkd } = m;
  const { cpu } = ingest;
  const judged = ratioTargets(m);
  const againstBeanstalkd = "unavailable" in beanstalkd || !judged.ingestVsBeanstalkd
    ? "No beanstalkd figure in this run, so the target against its put cannot be judged."
    : `Against beanstalkd's in-memory put (${grouped(beanstalkd.acceptedPerSecond)}/s): ${
      judgedText(judged.ingestVsBeanstalkd)
    }.`;
  return `**Durable ingest** (workers busy, orders queue): ${
    grouped(ingest.acceptedPerSecond)
  } orders/s with p99 ${formatMs(ingest.p99Ms)}. ${againstBeanstalkd} Against the minimal stack (${
    grouped(minimalPipe.acceptedPerSecond)
  }/s, p99 ${formatMs(minimalPipe.p99Ms)}): ${judgedText(judged.ingestVsMinimal)}. ` +
    `While admitting, the server's main thread was busy ${fixed(cpu.serverMain, 2)} cores, ` +
    `the whole server ${fixed(cpu.server, 2)} and the load tool ${
      fixed(cpu.load, 2)
    }, on a ${m.cores}-core machine: ${limitSentence(limitOf(cpu, m.cores), cpu, m.cores)}.`;
}

/**
 * What held the two references back: the minimal stack's main thread, and
 * beanstalkd's one thread against the driver that fed it. A reference held
 * back by its load rather than by itself is slower than it could be, and
 * every ratio against it looks better than it is.
 */
export function explainReferences(m: Measurements): string {
  const { minimalPipe, beanstalkd } = m;
  let text =
    `**The references**: the minimal stack (${
      grouped(minimalPipe.acceptedPerSecond)
    } orders/s) used ${fixed(minimalPipe.cpu.serverMain, 2)} cores on its main thread and the ` +
    `load tool ${fixed(minimalPipe.cpu.load, 2)}: ${minimalLimit(m)}.`;
  if ("unavailable" in beanstalkd) {
    return `${text} beanstalkd was not measured: ${beanstalkd.unavailable}.`;
  }
  const { cpu } = beanstalkd;
  text += ` ${beanstalkd.version} (${grouped(beanstalkd.acceptedPerSecond)} puts/s, p99 ${
    formatMs(beanstalkd.p99Ms)
  }) used ${fixed(cpu.server, 2)} cores on its one thread and its driver in the bench ${
    fixed(cpu.load, 2)
  }: `;
  if (cpu.server >= SATURATED_CORES) {
    return text + "beanstalkd itself is the limit.";
  }
  if (cpu.load >= SATURATED_CORES) {
    return text + "the driver, not beanstalkd, is the limit, so beanstalkd's rate is a floor and " +
      "the ratios against it flatter pedidos.";
  }
  return text + `${limitSentence(limitOf(cpu, m.cores), cpu, m.cores)}.`;
}

/** What held the minimal stack back, and what that makes of its figure. */
function minimalLimit(m: Measurements): string {
  const { cpu } = m.minimalPipe;
  const limit = limitOf(cpu, m.cores);
  switch (limit) {
    case "main thread":
      return "its main thread is the limit, so it shows what parsing, validating, the durable " +
        "insert and the reply cost on this stack";
    case "load tool":
      return `${
        limitSentence(limit, cpu, m.cores)
      }: the figure is a floor of what this stack allows, and the ratio against it flatters pedidos`;
    case "machine":
      return `${
        limitSentence(limit, cpu, m.cores)
      }: the figure is a floor of what this stack allows on a quiet machine`;
    case "waiting":
      return limitSentence(limit, cpu, m.cores);
  }
}

/** What limits pipelined admission with --work-ms 0, from its CPU readings and profile. */
export function explainAdmission(m: Measurements): string {
  const { cpu } = m.admission;
  const limit = limitOf(cpu, m.cores);
  const profile = m.profiles.pipeline;
  let text =
    `**Pipelined admission with --work-ms 0** (${
      grouped(m.admission.acceptedPerSecond)
    } orders/s, ${
      fixed(m.admission.acceptedPerSecond / m.minimalPipe.acceptedPerSecond, 2)
    }× the minimal stack): the server's main thread was busy ${
      fixed(cpu.serverMain, 2)
    } cores on average while admitting (with the workers processing at the same time); the whole ` +
    `server ${fixed(cpu.server, 2)} cores and the load tool ${fixed(cpu.load, 2)}, on a ` +
    `${m.cores}-core machine: ${limitSentence(limit, cpu, m.cores)}.`;
  if (profile) {
    text += ` Its profile: ${topCategories(profile, 4)}.`;
    const [largest] = rankedCategories(profile)[0] ?? [];
    text += largest === SQLITE
      ? " SQLite, the largest share, runs synchronously on the main thread by design: it alone " +
        "owns the database."
      : ` The largest share is ${largest}.`;
  }
  if (limit === "main thread") {
    text += " With --work-ms 0 the same thread also completes every order it admits: besides its " +
      `INSERT, each order goes to a worker (${PIPE.depth} to a message, lib/orders/pool.ts) and ` +
      "comes back as a state change (start and end, one UPDATE when they share a commit), also " +
      "written by that thread; each commit's fdatasync of the -wal (--sync full) runs off it " +
      "(lib/store/wal_sync.ts).";
  }
  return text;
}

/** What limits admission with one connection per order. */
export function explainPerConnection(m: Measurements): string {
  const { cpu } = m.perConnection;
  const profile = m.profiles.connection;
  const judged = ratioTargets(m).perConnection;
  return `**One connection per order** (${judged.ratio.text} of the ceiling, ${CONN.concurrency} connections at a time; ${
    verdict(judged.target)
  }): the server's main thread used ${fixed(cpu.serverMain, 2)} cores and the load tool ${
    fixed(cpu.load, 2)
  }: ${limitSentence(limitOf(cpu, m.cores), cpu, m.cores)}.` +
    (profile ? ` Profile: ${topCategories(profile, 4)}.` : "") +
    " Accepting, greeting and closing a connection costs the trivial server the same; what " +
    "the real server adds is validation, the INSERT and its commit (small batches, so one " +
    "fsync for few orders) and sending the order to a worker.";
}

/** Whether finishing keeps up with admission, and what the workers wait for. */
export function explainEndToEnd(m: Measurements): string {
  const { cpu } = m.admission;
  const e2e = m.endToEndPerSecond;
  const admitted = m.admission.acceptedPerSecond;
  const behind = 1 - e2e / admitted;
  const workersBusy = cpu.serverWorkers / m.cores;
  const judged = ratioTargets(m).endToEndVsBeanstalkd;
  let text = `**End to end** (${grouped(e2e)} orders/s against ${grouped(admitted)} admitted/s; ${
    judged
      ? `against beanstalkd's in-memory put: ${judgedText(judged)}`
      : "beanstalkd was not measured, so the target against its put cannot be judged in this run"
  }): ${
    behind <= 0.05
      ? "orders finish as fast as they are admitted"
      : `finishing runs ${fixed(behind * 100, 0)} % behind admission`
  }. With --work-ms 0 each of the ${m.cores} workers finished one order every ${
    fixed(m.cores / e2e * 1e6, 0)
  } µs, using ${fixed(cpu.serverWorkers, 2)} cores between them: `;
  if (workersBusy >= SATURATED_CORES) {
    text += "the workers are busy, so processing is the limit.";
  } else if (cpu.serverMain >= SATURATED_CORES) {
    text += "the workers wait for the main thread, which admits, stores and completes every order.";
    const profile = m.profiles.pipeline;
    if (profile) {
      text += ` On the main thread, messages to and from workers are ${
        share(profile, MESSAGES)
      } of the profile and SQLite ${share(profile, SQLITE)}.`;
    }
  } else {
    text += `neither the workers nor the main thread (${
      fixed(cpu.serverMain, 2)
    } cores) was saturated.`;
  }
  return text;
}

/** How far parallel sleep work is from its ideal makespan, and what else ran meanwhile. */
export function explainParallel(m: Measurements): string {
  const { makespanMs, idealMs, cpu } = m.parallel;
  const over = makespanMs - idealMs;
  let text = `**Parallel efficiency** (${fixed(idealMs / makespanMs, 3)}): `;
  if (over <= 0) return text + "no time over the ideal could be measured.";
  text +=
    `${grouped(over)} ms over the ideal, that is ${
      fixed(over * PARALLEL.workers / PARALLEL.orders, 2)
    } ms per order and worker. It is measured from the load tool's first send, so it includes ` +
    "connecting, admitting and committing the first orders; each worker already holds its " +
    "next order when one ends (lib/orders/pool.ts), and sleep work lasts its " +
    `${PARALLEL.workMs} ms to within a fraction of a millisecond (lib/orders/work.ts).`;
  if (cpu.others > INTERFERENCE_CORES) {
    text += ` Other processes used ${fixed(cpu.others, 2)} cores meanwhile.`;
  }
  return text;
}

/** How much more CPU two workers got than one, and why the makespan is not judged. */
export function explainScaling(m: Measurements): string {
  const [one, ...more] = m.scaling;
  const two = more.find((run) => run.workers === 2);
  const busiest = more.at(-1);
  if (!one || !two || !busiest) return "**CPU scaling**: not measured.";
  const factor = speedup(one, two);
  const ideal = Math.min(two.workers, m.cores);
  let text = `**CPU scaling** (2 workers finished ${fixed(factor, 2)}× faster than 1): `;
  if (factor >= 0.95 * ideal) {
    text += `close to the ${ideal}× ideal.`;
  } else {
    const { serverMain, load, others } = two.cpu;
    text += `short of the ${ideal}× ideal: the 2 workers received ${
      fixed(two.workerCores, 2)
    } cores, while the server's main thread used ${fixed(serverMain, 2)}, the load tool ${
      fixed(load, 2)
    } and other processes ${fixed(others, 2)}, on ${m.cores} cores.`;
  }
  text += " Each order is a fixed computation, calibrated when the server starts to " +
    `${CPU_WORK_MS} ms of an idle core (lib/orders/calibration.ts)`;
  if (busiest.workers > m.cores) {
    const atCores = m.scaling.find((run) => run.workers === m.cores) ?? two;
    const more = speedup(atCores, busiest);
    text += `: with ${busiest.workers} workers on ${m.cores} cores the makespan went ${
      grouped(atCores.makespanMs)
    } → ${grouped(busiest.makespanMs)} ms (${fixed(more, 2)}×), ${
      more <= 1.05
        ? "no faster, as it must be when the cores are all busy already."
        : "**faster**, which a fixed computation should not be: the runs' calibrations differed " +
          `(${grouped(atCores.iterations)} and ${
            grouped(busiest.iterations)
          } iterations per order) ` +
          "or the machine's load changed between them."
    }`;
  } else {
    text += ".";
  }
  return text;
}

/** Memory per idle connection, resident and JavaScript heap growth across the long run. */
export function explainMemory(m: Measurements): string {
  const { idle, long } = m;
  const resident = long.rssBytes.at(-1)! / long.rssBytes[0]!;
  const heap = long.heapBytes.at(-1)! / long.heapBytes[0]!;
  let text =
    `**Memory**: ${
      fixed((idle.afterBytes - idle.beforeBytes) / idle.connections / 1024, 1)
    } KiB per idle connection; across ${
      grouped(long.orders)
    } orders the resident size after each segment (each reading after a full garbage ` +
    `collection) went ${mebibytes(long.rssBytes[0]!)} → ${mebibytes(long.rssBytes.at(-1)!)} (${
      fixed(resident, 2)
    }×), with a peak of ${
      mebibytes(long.peakBytes)
    } during the run (the peak is not taken after a collection). The JavaScript heap after the ` +
    `same collections went ${mebibytes(long.heapBytes[0]!)} → ${
      mebibytes(long.heapBytes.at(-1)!)
    } (${fixed(heap, 2)}×): `;
  if (heap > 1.10) return text + "the heap grew, so something accumulates in JavaScript.";
  text += "nothing accumulates in JavaScript";
  return text +
    (resident > 1.02
      ? ", so the resident growth is native memory (SQLite's cache, socket and message buffers, " +
        "and what the allocator keeps after the peak)."
      : ", and resident memory stayed flat too.");
}

/** Whether the long run lost or duplicated anything. */
export function explainIntegrity(m: Measurements): string {
  const { lost, duplicated, accepted } = m.long;
  return lost === 0 && duplicated === 0
    ? `**Integrity**: the long run ended with lost: 0, duplicated: 0 over ${
      grouped(accepted)
    } acknowledged orders, every one checked in the database.`
    : `**Integrity**: the long run ended with **lost: ${lost}, duplicated: ${duplicated}** over ${
      grouped(accepted)
    } acknowledged orders, checked in the database.`;
}

/** Every finding, in the order of the table. */
export function findings(m: Measurements): string[] {
  return [
    explainIngest(m),
    explainReferences(m),
    explainAdmission(m),
    explainPerConnection(m),
    explainEndToEnd(m),
    explainParallel(m),
    explainScaling(m),
    explainMemory(m),
    explainBacklog(m),
    explainIntegrity(m),
  ];
}

/** Target 4, from the backlog run's readings. */
export function explainBacklog(m: Measurements): string {
  const { backlog } = m;
  const perOrder = (backlog.queuedBytes - m.idle.beforeBytes) / backlog.orders;
  const recovered = backlog.recovered === backlog.orders
    ? `all ${grouped(backlog.recovered)} orders`
    : `${grouped(backlog.recovered)} of ${grouped(backlog.orders)} orders (**some were not**)`;
  return `**Backlog on disk**: with ${grouped(backlog.orders)} orders queued behind busy ` +
    `workers the server held ${mebibytes(backlog.queuedBytes)} resident, ${
      fixed(Math.max(0, perOrder), 1)
    } bytes per queued order above an idle server's ${mebibytes(m.idle.beforeBytes)}: queued ` +
    "orders stay in the database and only a window of them is in memory " +
    "(lib/orders/backlog.ts). After a kill -9 the restarted server counted " +
    `${recovered} as recovered, was listening after ${grouped(backlog.restartMs)} ms and held ${
      mebibytes(backlog.restartedBytes)
    }: recovery counts the backlog and reads one window, it does not load it.`;
}

/** A warning for each measure during which other processes used noticeable CPU. */
export function interferenceWarnings(cpu: readonly { label: string; use: CpuUse }[]): string[] {
  return cpu
    .filter(({ use }) => use.others > INTERFERENCE_CORES)
    .map(({ label, use }) =>
      `During "${label}" other processes on the machine used ${fixed(use.others, 2)} cores: ` +
      "that figure may be worse than this machine gives without interference."
    );
}

/** How the run measured what it did, with the plan's counts. */
export function methodNotes(plan: BenchPlan): string[] {
  return [
    "Servers: `server.ts` as a child process on 127.0.0.1, ephemeral port, fresh temporary " +
    "database, `--sync full`, `--max 1000000`, `--work-ms 0` and as many workers as cores " +
    `unless stated. Durable ingest runs with \`--work-ms ${INGEST_WORK_MS} --drain-ms 0\`, ` +
    "so that each worker holds one order for the whole run and every other order queues. The " +
    "trivial ceiling is `tools/bench/trivial_server.ts`, which greets and answers `ok` to every " +
    "line without validating or storing anything; the minimal-stack ceiling is " +
    "`tools/bench/minimal_server.ts`, which parses each line, validates it with the project's zod " +
    "schema, stores the orders of each event-loop turn with one multi-row INSERT into SQLite (WAL, " +
    "`synchronous=FULL`) and only then replies; each is a child process too.",
    "Reference: Debian's `beanstalkd` as a child process on 127.0.0.1 and an ephemeral port, jobs " +
    "in memory (no `-b`, so no binlog and no fsync), fed by `tools/bench/beanstalkd.ts` in the " +
    `bench process: \`put\` with the load tool's order bodies, ${PIPE.concurrency} connections ` +
    `with ${PIPE.depth} puts in flight each, frames encoded before the clock starts, latency from ` +
    "each put's send to its `INSERTED`. Where beanstalkd is missing the rows against it say so " +
    "and their targets are not judged.",
    `Load: \`runLoad\` from \`tools/load/run.ts\` in the bench process. Pipelined: ${PIPE.concurrency} ` +
    `connections with ${PIPE.depth} orders in flight each, ${
      grouped(plan.pipelineOrders)
    } orders against the real server and the minimal stack (and as many puts to beanstalkd), ` +
    `${grouped(plan.ceilingOrders)} against the trivial server. One connection per order: ` +
    `${CONN.concurrency} at a time, ${grouped(plan.connectionOrders)} orders. Each server first ` +
    `gets ${grouped(plan.warmOrders)} warm-up orders that are not counted.`,
    "Latency: `lib/stats/histogram.ts`; in a closed loop from the send, in an open loop from each " +
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
    `Limits: a thread busy ${
      fixed(SATURATED_CORES, 2)
    } cores or more is named the bottleneck; the machine counts as full at ${
      Math.round(MACHINE_FULL_SHARE * 100)
    } % of its cores. Targets are judged on the figures as the table shows them.`,
  ];
}
