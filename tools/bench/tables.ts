/**
 * The tables of `BENCHMARKS.md`, pure: the results table computed from the
 * {@linkcode Measurements}, and the whole document rendered as Markdown.
 *
 * A target is judged on the figure as the table shows it ({@linkcode Shown}),
 * so "met" and the displayed value always agree: 0.976 against "≥ 0.98" is
 * shown with three decimals and is not met, where two decimals would show
 * 0.98 beside a "no".
 *
 * @module
 */
import { type ClusterBench, renderCluster } from "./cluster.ts";
import { formatMs, msDigits } from "../load/report.ts";
import {
  CONN,
  CPU_WORK_MS,
  type CpuUse,
  LONG_SEGMENTS,
  type Measurements,
  PARALLEL,
  PIPE,
  speedup,
  type Throughput,
} from "./figures.ts";
import { PROFILE_CATEGORIES, type ProfileSummary } from "./profile.ts";

/** A number with at most `digits` decimals, trailing zeros kept for alignment; `—` if not finite. */
export function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "—";
}

/** A whole number with thin-space thousands separators, e.g. `125 300`. */
export function grouped(value: number): string {
  if (!Number.isFinite(value)) return "—";
  return Math.round(value).toString().replace(/\B(?=(\d{3})+(?!\d))/g, " ");
}

/** Bytes as MiB with one decimal. */
export function mebibytes(bytes: number): string {
  return `${fixed(bytes / MIB, 1)} MiB`;
}

/** A fraction as a percentage with one decimal. */
export function percent(share: number): string {
  return `${fixed(share * 100, 1)} %`;
}

const MIB = 1024 * 1024;

/** A figure as the document shows it, and the number that text shows (NaN for `—`). */
export interface Shown {
  text: string;
  value: number;
}

function shownAs(value: number, digits: number, text: string): Shown {
  return { text, value: Number.isFinite(value) ? Number(value.toFixed(digits)) : NaN };
}

/** A ratio or factor with `digits` decimals. */
export function shownFixed(value: number, digits: number): Shown {
  return shownAs(value, digits, fixed(value, digits));
}

/** A count or rate as a whole grouped number. */
export function shownCount(value: number): Shown {
  return shownAs(value, 0, grouped(value));
}

/** Milliseconds as {@linkcode formatMs} shows them. */
export function shownMs(value: number): Shown {
  return Number.isFinite(value)
    ? shownAs(value, msDigits(value), formatMs(value))
    : shownFixed(NaN, 0);
}

/** Bytes in MiB with one decimal. */
export function shownMebibytes(bytes: number): Shown {
  return shownAs(bytes / MIB, 1, mebibytes(bytes));
}

/** A target and whether the shown figure meets it. */
export interface Target {
  text: string;
  met: boolean;
}

/**
 * A lower bound judged on the shown figure.
 *
 * @example
 * ```ts
 * atLeast(shownFixed(0.976, 3), 0.98).met; // false, and the table shows 0.976
 * atLeast(shownFixed(0.9796, 3), 0.98).met; // true, and the table shows 0.980
 * ```
 */
export function atLeast(shown: Shown, bound: number, text = `≥ ${bound}`): Target {
  return { text, met: shown.value >= bound };
}

/** An upper bound judged on the shown figure. */
export function atMost(shown: Shown, bound: number, text = `≤ ${bound}`): Target {
  return { text, met: shown.value <= bound };
}

/** Several bounds under one text, met when all are. */
export function allOf(text: string, ...targets: Target[]): Target {
  return { text, met: targets.every((target) => target.met) };
}

/** One row of the results table. */
export interface ResultRow {
  label: string;
  /** The figure, absolute, with its unit. */
  value: string;
  /** What it is compared with, measured in the same run. */
  ceiling: string;
  /** value / ceiling (or the figure's own definition of it); absent when there is none. */
  ratio?: Shown;
  /** Absent when the figure has no target. */
  target?: Target;
}

/** Everything `BENCHMARKS.md` shows. */
export interface BenchDocument {
  machine: { cores: number; model: string; memoryBytes: number; os: string; deno: string };
  date: string;
  durationMs: number;
  command: string;
  loadAverage: string;
  rows: ResultRow[];
  cpu: { label: string; use: CpuUse }[];
  profiles: { label: string; summary: ProfileSummary; mainThreadBusy: number }[];
  findings: string[];
  method: string[];
  warnings: string[];
  /** Several servers on one PostgreSQL; absent where PostgreSQL is not installed. */
  cluster?: ClusterBench | undefined;
}

/** The 200 MB, in the MiB the table shows (190.7). */
const IDLE_MEMORY_TARGET_MIB = Number((200_000_000 / MIB).toFixed(1));
/** The 250 MB for a million orders queued, in MiB (238.4). */
const BACKLOG_MEMORY_TARGET_MIB = Number((250_000_000 / MIB).toFixed(1));

/** The bounds of the targets that compare two figures of one run (issue 10). */
export const TARGETS = {
  /** Durable ingest ÷ beanstalkd's in-memory put, at least. */
  ingestVsBeanstalkd: 1.3,
  /** Durable ingest ÷ the minimal-stack ceiling, at least… */
  ingestVsMinimal: 0.8,
  /** …with the ingest's p99 at most this, in ms. */
  ingestP99Ms: 15,
  /** End to end with --work-ms 0 ÷ beanstalkd's put, at least. */
  endToEndVsBeanstalkd: 0.8,
  /** One connection per order ÷ the trivial server's, at least. */
  perConnection: 0.8,
} as const;

/** A ratio of two figures of the run, as shown, and its target judged on it. */
export interface Judged {
  ratio: Shown;
  target: Target;
}

/**
 * The targets that compare two figures of the run, computed once so that
 * the table and the findings always agree. Those against beanstalkd are
 * absent when it was not measured.
 *
 * @example
 * ```ts
 * const { ingestVsMinimal } = ratioTargets(measurements);
 * `${ingestVsMinimal.ratio.text}×: ${ingestVsMinimal.target.met ? "met" : "not met"}`;
 * ```
 */
export function ratioTargets(m: Measurements): {
  ingestVsBeanstalkd?: Judged;
  ingestVsMinimal: Judged;
  endToEndVsBeanstalkd?: Judged;
  perConnection: Judged;
} {
  const ingestVsMinimal = shownFixed(
    m.ingest.acceptedPerSecond / m.minimalPipe.acceptedPerSecond,
    2,
  );
  const perConnection = shownFixed(
    m.perConnection.acceptedPerSecond / m.ceilingConn.acceptedPerSecond,
    2,
  );
  const judged = {
    ingestVsMinimal: {
      ratio: ingestVsMinimal,
      target: allOf(
        `≥ ${TARGETS.ingestVsMinimal}× with p99 ≤ ${TARGETS.ingestP99Ms} ms`,
        atLeast(ingestVsMinimal, TARGETS.ingestVsMinimal),
        atMost(shownMs(m.ingest.p99Ms), TARGETS.ingestP99Ms),
      ),
    },
    perConnection: {
      ratio: perConnection,
      target: atLeast(
        perConnection,
        TARGETS.perConnection,
        `≥ ${TARGETS.perConnection} of the ceiling`,
      ),
    },
  };
  const { beanstalkd } = m;
  if ("unavailable" in beanstalkd) return judged;
  const ingest = shownFixed(m.ingest.acceptedPerSecond / beanstalkd.acceptedPerSecond, 2);
  const endToEnd = shownFixed(m.endToEndPerSecond / beanstalkd.acceptedPerSecond, 2);
  return {
    ...judged,
    ingestVsBeanstalkd: {
      ratio: ingest,
      target: atLeast(ingest, TARGETS.ingestVsBeanstalkd, `≥ ${TARGETS.ingestVsBeanstalkd}×`),
    },
    endToEndVsBeanstalkd: {
      ratio: endToEnd,
      target: atLeast(endToEnd, TARGETS.endToEndVsBeanstalkd, `≥ ${TARGETS.endToEndVsBeanstalkd}×`),
    },
  };
}

function rateAndP99(run: Throughput, unit = "orders/s"): string {
  return `${grouped(run.acceptedPerSecond)} ${unit} · p99 ${formatMs(run.p99Ms)}`;
}

/**
 * The results table, one row per measure, with each target judged on the
 * figure as shown. Rows are numbered as issue 10 numbers its targets.
 *
 * @example
 * ```ts
 * resultRows(measurements).find((row) => row.label.startsWith("3."))?.target?.met;
 * ```
 */
export function resultRows(m: Measurements): ResultRow[] {
  const { ceilingPipe, ceilingConn, minimalPipe, beanstalkd, ingest, admission, openLoop } = m;
  const { perConnection, plan } = m;
  const judged = ratioTargets(m);
  const shape = `${PIPE.concurrency} connections × ${PIPE.depth} in flight`;
  const minimalRate = `${grouped(minimalPipe.acceptedPerSecond)} orders/s (minimal stack)`;
  const measured = !("unavailable" in beanstalkd);
  const putRate = measured
    ? `${grouped(beanstalkd.acceptedPerSecond)} puts/s (beanstalkd)`
    : "— (beanstalkd not measured)";
  const rows: ResultRow[] = [
    {
      label: "Ceiling, pipelined: trivial server",
      value: rateAndP99(ceilingPipe),
      ceiling: "— (this is the ceiling)",
    },
    {
      label: "Ceiling, one connection per order: trivial server",
      value: rateAndP99(ceilingConn),
      ceiling: "— (this is the ceiling)",
    },
    {
      label: "Ceiling, pipelined: minimal stack (JSON.parse, zod, one multi-row INSERT per turn " +
        `in WAL with synchronous=FULL, reply; ${shape})`,
      value: rateAndP99(minimalPipe),
      ceiling: "— (this is the ceiling)",
    },
    {
      label: `Reference: ${measured ? beanstalkd.version : "beanstalkd"} put, in memory (${shape})`,
      value: measured
        ? rateAndP99(beanstalkd, "puts/s")
        : `not measured: ${beanstalkd.unavailable}`,
      ceiling: "— (this is the reference)",
    },
  ];
  const ingestLabel = "1. Durable ingest, pipelined (--sync full; workers busy, orders queue; " +
    `${shape})`;
  rows.push({
    label: `${ingestLabel}, against beanstalkd's put`,
    value: rateAndP99(ingest),
    ceiling: putRate,
    ...(judged.ingestVsBeanstalkd ?? {}),
  });
  rows.push({
    label: `${ingestLabel}, against the minimal stack`,
    value: rateAndP99(ingest),
    ceiling: minimalRate,
    ...judged.ingestVsMinimal,
  });
  rows.push({
    label: "Admission, pipelined, durable, --work-ms 0 (workers completing orders meanwhile)",
    value: rateAndP99(admission),
    ceiling: minimalRate,
    ratio: shownFixed(admission.acceptedPerSecond / minimalPipe.acceptedPerSecond, 2),
  });
  rows.push({
    label: `Open loop at ${grouped(openLoop.rate)} orders/s, --work-ms 0 (latency from the ` +
      "scheduled time)",
    value: `p50 ${formatMs(openLoop.p50Ms)} · p99 ${formatMs(openLoop.p99Ms)} · max ${
      formatMs(openLoop.maxMs)
    }`,
    ceiling: `p99 ${formatMs(ceilingPipe.p99Ms)} (trivial, closed loop)`,
  });
  rows.push({
    label: "2. End to end with --work-ms 0 (admitted, processed, recorded, until every order is " +
      "listo), against beanstalkd's put",
    value: `${grouped(m.endToEndPerSecond)} orders/s`,
    ceiling: putRate,
    ...(judged.endToEndVsBeanstalkd ?? {}),
  });
  rows.push({
    label: `3. Admission, one connection per order (${CONN.concurrency} at a time)`,
    value: rateAndP99(perConnection),
    ceiling: `${grouped(ceilingConn.acceptedPerSecond)} orders/s (trivial)`,
    ...judged.perConnection,
  });
  const efficiency = shownFixed(m.parallel.idealMs / m.parallel.makespanMs, 3);
  rows.push({
    label: `5. No regression: parallel efficiency (${PARALLEL.orders} × ${PARALLEL.workMs} ms ` +
      `sleep, ${PARALLEL.workers} workers)`,
    value: `${grouped(m.parallel.makespanMs)} ms from first send to last fecha_fin`,
    ceiling: `${grouped(m.parallel.idealMs)} ms ideal`,
    ratio: efficiency,
    target: atLeast(efficiency, 0.98),
  });
  // `--work-mode cpu` is a fixed computation per order (lib/orders/calibration.ts), so the
  // makespan tells the truth: more workers than cores must not finish sooner.
  const [one, ...more] = m.scaling;
  const atCores = m.scaling.find((run) => run.workers === Math.min(2, m.cores));
  for (const run of one ? more : []) {
    const oversubscribed = run.workers > m.cores && atCores !== undefined && atCores !== run;
    const base = oversubscribed ? atCores! : one!;
    const faster = shownFixed(speedup(base, run), 2);
    const ideal = Math.min(run.workers, m.cores) / Math.min(base.workers, m.cores);
    rows.push({
      label: `CPU scaling, ${base.workers} → ${run.workers} workers on ${m.cores} cores ` +
        `(${plan.cpuOrders} × ${CPU_WORK_MS} ms of calibrated cpu work): makespan`,
      value: `${faster.text}× faster (${grouped(base.makespanMs)} → ${
        grouped(run.makespanMs)
      } ms; workers' CPU ${fixed(base.workerCores, 2)} → ${fixed(run.workerCores, 2)} cores)`,
      ceiling: `${fixed(ideal, 0)}× ideal`,
      ratio: shownFixed(faster.value / ideal, 2),
      ...(oversubscribed
        ? { target: atMost(faster, 1.05, `no faster than ${base.workers} (≤ 1.05×)`) }
        : run.workers === 2
        ? { target: atLeast(faster, 1.7, "≥ 1.7×") }
        : {}),
    });
  }
  const { idle, long } = m;
  const idleAfter = shownMebibytes(idle.afterBytes);
  rows.push({
    label: `5. No regression: memory with ${grouped(idle.connections)} idle connections`,
    value: `${idleAfter.text} resident (${
      fixed((idle.afterBytes - idle.beforeBytes) / idle.connections / 1024, 1)
    } KiB per connection)`,
    ceiling: `${mebibytes(idle.beforeBytes)} with no connections`,
    ratio: shownFixed(idle.afterBytes / idle.beforeBytes, 2),
    target: atMost(idleAfter, IDLE_MEMORY_TARGET_MIB, `≤ 200 MB (${IDLE_MEMORY_TARGET_MIB} MiB)`),
  });
  const { backlog } = m;
  const backlogLabel =
    `4. Backlog on disk: resident memory with ${grouped(backlog.orders)} orders ` +
    "queued (workers busy)";
  const queued = shownMebibytes(backlog.queuedBytes);
  rows.push({
    label: backlogLabel,
    value: `${queued.text} (peak while sending ${mebibytes(backlog.peakBytes)})`,
    ceiling: `${BACKLOG_MEMORY_TARGET_MIB} MiB (250 MB)`,
    target: atMost(
      queued,
      BACKLOG_MEMORY_TARGET_MIB,
      `≤ 250 MB (${BACKLOG_MEMORY_TARGET_MIB} MiB)`,
    ),
  });
  const restarted = shownMebibytes(backlog.restartedBytes);
  rows.push({
    label: `${backlogLabel}, after kill -9 and a restart`,
    value: `${restarted.text}; ${grouped(backlog.recovered)} recovered, listening after ${
      grouped(backlog.restartMs)
    } ms`,
    ceiling: `${BACKLOG_MEMORY_TARGET_MIB} MiB (250 MB)`,
    target: atMost(
      restarted,
      BACKLOG_MEMORY_TARGET_MIB,
      `≤ 250 MB (${BACKLOG_MEMORY_TARGET_MIB} MiB)`,
    ),
  });
  const growth = shownFixed(long.rssBytes.at(-1)! / long.rssBytes[0]!, 2);
  rows.push({
    label:
      `5. No regression: memory across ${grouped(long.orders)} orders (after warm-up, then after ` +
      `each of ${LONG_SEGMENTS} segments)`,
    value: `resident ${long.rssBytes.map(mebibytes).join(" → ")} (peak ${
      mebibytes(long.peakBytes)
    }); JS heap ${long.heapBytes.map(mebibytes).join(" → ")}`,
    ceiling: `${mebibytes(long.rssBytes[0]!)} before`,
    ratio: growth,
    target: atMost(growth, 1.10, "no growth (≤ 1.10)"),
  });
  return rows;
}

/**
 * Renders `BENCHMARKS.md`.
 *
 * @example
 * ```ts
 * const markdown = renderBenchmarks(document);
 * markdown.startsWith("# Benchmarks"); // true
 * ```
 */
export function renderBenchmarks(doc: BenchDocument): string {
  const minutes = Math.floor(doc.durationMs / 60_000);
  const seconds = Math.round((doc.durationMs % 60_000) / 1000);
  const lines = [
    "# Benchmarks",
    "",
    `Written by \`${doc.command}\` on ${doc.date}, in ${minutes} min ${seconds} s. ` +
    "Every figure in this file was measured in that run; none was copied from another.",
    "",
    "## Machine",
    "",
    "| | |",
    "|---|---|",
    `| Cores | ${doc.machine.cores} |`,
    `| CPU | ${doc.machine.model} |`,
    `| Memory | ${(doc.machine.memoryBytes / 1024 ** 3).toFixed(1)} GiB |`,
    `| System | ${doc.machine.os} |`,
    `| Deno | ${doc.machine.deno} |`,
    `| Load average at start (1, 5, 15 min) | ${doc.loadAverage} |`,
    "",
    "The server and the load tool run on the same machine, as the targets require.",
    "",
  ];
  if (doc.warnings.length > 0) {
    lines.push("## Warnings", "", ...doc.warnings.map((warning) => `- ${warning}`), "");
  }
  lines.push(
    "## Results",
    "",
    "| Measure | Value | Ceiling in this run | Ratio | Target | Met |",
    "|---|---|---|---|---|---|",
    ...doc.rows.map((row) =>
      `| ${row.label} | ${row.value} | ${row.ceiling} | ${row.ratio?.text ?? "—"} | ${
        row.target?.text ?? "—"
      } | ${row.target === undefined ? "—" : row.target.met ? "yes" : "**no**"} |`
    ),
    "",
    "## CPU during each measure",
    "",
    "In cores: 1.00 is one core busy all the time; the machine has " +
      `${doc.machine.cores}. "Others" is everything else that ran on the machine meanwhile.`,
    "",
    "| Measure | Server main thread | Server workers | Server (all threads) | Load tool | Others |",
    "|---|---|---|---|---|---|",
    ...doc.cpu.map(({ label, use }) =>
      `| ${label} | ${fixed(use.serverMain, 2)} | ${fixed(use.serverWorkers, 2)} | ${
        fixed(use.server, 2)
      } | ${fixed(use.load, 2)} | ${fixed(use.others, 2)} |`
    ),
    "",
  );
  if (doc.profiles.length > 0) {
    lines.push(
      "## Where the server's main thread spends its time",
      "",
      "V8 CPU profile (inspector) taken in a short repetition of each measure, apart from the " +
        "measure itself. Each sample counts for the innermost part of the server on its stack.",
      "",
      `| Category | ${doc.profiles.map((profile) => profile.label).join(" | ")} |`,
      `|---|${doc.profiles.map(() => "---|").join("")}`,
      ...PROFILE_CATEGORIES.map((category) =>
        `| ${category} | ${
          doc.profiles.map((profile) => percent(profile.summary.shares[category] ?? 0)).join(" | ")
        } |`
      ),
      `| *samples* | ${
        doc.profiles.map((profile) => grouped(profile.summary.samples)).join(" | ")
      } |`,
      `| *main thread busy (CPU)* | ${
        doc.profiles.map((profile) => percent(profile.mainThreadBusy)).join(" | ")
      } |`,
      "",
    );
  }
  if (doc.findings.length > 0) {
    lines.push(
      "## What limits each figure",
      "",
      ...doc.findings.map((finding) => `- ${finding}`),
      "",
    );
  }
  if (doc.cluster) lines.push(...renderCluster(doc.cluster));
  lines.push("## How it was measured", "", ...doc.method.map((step) => `- ${step}`), "");
  return lines.join("\n");
}
