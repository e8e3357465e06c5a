/**
 * The pure half of `deno task bench`: reading Linux `/proc` text (CPU time
 * per thread, machine-wide CPU, memory, CPU model), summarising a V8 CPU
 * profile into where the server's main thread spends its time, and rendering
 * `BENCHMARKS.md`. Text in, values out; `tools/bench/main.ts` does the I/O.
 *
 * @module
 */

/** Clock ticks per second in `/proc/.../stat` (`sysconf(_SC_CLK_TCK)`, 100 on Linux). */
export const CLOCK_TICKS_PER_SECOND = 100;

/** One thread's CPU time, from `/proc/PID/task/TID/stat`. */
export interface ThreadCpu {
  name: string;
  /** User plus system time, in seconds. */
  seconds: number;
}

/**
 * Parses a `/proc/.../stat` line: the name (which may hold spaces and
 * parentheses) and user + system CPU time.
 *
 * @example
 * ```ts
 * parseThreadStat("42 (V8 DefaultWorke) S 1 2 3 4 5 6 7 8 9 10 150 50 0 0 20 0 1 0 9 9 9");
 * // { name: "V8 DefaultWorke", seconds: 2 }
 * ```
 * @throws {Error} if the line is not a stat line
 */
export function parseThreadStat(line: string): ThreadCpu {
  const open = line.indexOf("(");
  const close = line.lastIndexOf(")");
  if (open === -1 || close < open) {
    throw new Error(`Cannot parse a stat line: ${line.slice(0, 60)}`);
  }
  const fields = line.slice(close + 2).split(" ");
  // After the name: state is field 3, utime field 14, stime field 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error(`Cannot parse a stat line: ${line.slice(0, 60)}`);
  }
  return { name: line.slice(open + 1, close), seconds: (utime + stime) / CLOCK_TICKS_PER_SECOND };
}

/** Machine-wide CPU time, from the first line of `/proc/stat`, in seconds. */
export interface MachineCpu {
  busy: number;
  total: number;
}

/**
 * Parses the `cpu` line of `/proc/stat`: busy is everything but idle and
 * I/O wait.
 *
 * @example
 * ```ts
 * parseMachineCpu("cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 ...");
 * // { busy: 1.5, total: 10 }
 * ```
 */
export function parseMachineCpu(procStat: string): MachineCpu {
  const line = procStat.split("\n").find((text) => text.startsWith("cpu "));
  if (!line) throw new Error("Cannot read machine CPU: /proc/stat has no cpu line");
  const values = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = values.reduce((a, b) => a + b, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: (total - idle) / CLOCK_TICKS_PER_SECOND, total: total / CLOCK_TICKS_PER_SECOND };
}

/**
 * Reads a `kB` field (`VmRSS`, `VmHWM`, `MemTotal`, ...) from
 * `/proc/PID/status` or `/proc/meminfo` text, in bytes.
 *
 * @example
 * ```ts
 * readKilobytes("Name:\tdeno\nVmRSS:\t   74748 kB\n", "VmRSS"); // 76541952
 * ```
 * @throws {Error} if the field is missing
 */
export function readKilobytes(text: string, field: string): number {
  const match = text.match(new RegExp(`^${field}:\\s+(\\d+) kB$`, "m"));
  if (!match) throw new Error(`Cannot read ${field}: no such field`);
  return Number(match[1]) * 1024;
}

/**
 * The CPU model and the number of logical processors, from `/proc/cpuinfo`.
 *
 * @example
 * ```ts
 * parseCpuInfo("processor\t: 0\nmodel name\t: AMD EPYC\n\nprocessor\t: 1\nmodel name\t: AMD EPYC\n");
 * // { model: "AMD EPYC", processors: 2 }
 * ```
 */
export function parseCpuInfo(text: string): { model: string; processors: number } {
  const processors = text.match(/^processor\s*:/gm)?.length ?? 0;
  const model = text.match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ??
    text.match(/^(?:Hardware|cpu model|uarch)\s*:\s*(.+)$/m)?.[1]?.trim() ?? "unknown";
  return { model, processors };
}

/** The parts of a V8 `.cpuprofile` the summary uses. */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string };
    children?: number[];
  }[];
  samples: number[];
}

/** Where the main thread's time went, by category, as fractions of all samples. */
export interface ProfileSummary {
  samples: number;
  /** Category name → fraction of samples, summing to 1. */
  shares: Record<string, number>;
}

/** Profile categories in display order; a sample goes to the first match walking from its leaf. */
export const PROFILE_CATEGORIES = [
  "SQLite (store/sqlite.ts)",
  "messages to and from workers (orders/pool.ts)",
  "validation (wire/schema.ts, zod)",
  "framing (wire/framing.ts)",
  "connection and sockets (server/connection.ts)",
  "order service, group commit, replies",
  "runtime (timers, promises, I/O)",
  "garbage collection",
  "idle",
] as const;

/** One profile category. */
export type ProfileCategory = typeof PROFILE_CATEGORIES[number];

function categoryOfFrame(
  frame: { functionName: string; url: string },
): ProfileCategory | undefined {
  const { url, functionName } = frame;
  if (url.endsWith("/lib/store/sqlite.ts")) return "SQLite (store/sqlite.ts)";
  if (
    url.endsWith("/lib/orders/pool.ts") || url.endsWith("/lib/orders/work.ts") ||
    url.includes("11_workers.js") || url.includes("13_message_port.js")
  ) return "messages to and from workers (orders/pool.ts)";
  if (url.endsWith("/lib/wire/schema.ts") || url.includes("/zod/")) {
    return "validation (wire/schema.ts, zod)";
  }
  if (url.endsWith("/lib/wire/framing.ts")) return "framing (wire/framing.ts)";
  if (url.endsWith("/lib/server/connection.ts")) {
    return "connection and sockets (server/connection.ts)";
  }
  if (/\/lib\/(orders|store|server|stats|wire)\/[a-z_]+\.ts$/.test(url)) {
    return "order service, group commit, replies";
  }
  if (functionName === "(garbage collector)") return "garbage collection";
  if (functionName === "(idle)") return "idle";
  return undefined;
}

/**
 * Attributes every sample of a profile to the innermost frame that belongs
 * to a known part of the server (so SQLite called by the group commit counts
 * as SQLite); samples in no known part count as runtime.
 *
 * @example
 * ```ts
 * summarizeProfile(profile).shares["SQLite (store/sqlite.ts)"]; // e.g. 0.31
 * ```
 */
export function summarizeProfile(profile: CpuProfile): ProfileSummary {
  const parent = new Map<number, number>();
  const byId = new Map<number, CpuProfile["nodes"][number]>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const categoryOfNode = new Map<number, ProfileCategory>();
  const resolve = (id: number): ProfileCategory => {
    const known = categoryOfNode.get(id);
    if (known) return known;
    const node = byId.get(id);
    const own = node ? categoryOfFrame(node.callFrame) : undefined;
    const up = parent.get(id);
    const category = own ?? (up === undefined ? "runtime (timers, promises, I/O)" : resolve(up));
    categoryOfNode.set(id, category);
    return category;
  };
  const counts = new Map<ProfileCategory, number>();
  for (const id of profile.samples) {
    const category = resolve(id);
    counts.set(category, (counts.get(category) ?? 0) + 1);
  }
  const shares: Record<string, number> = {};
  for (const category of PROFILE_CATEGORIES) {
    shares[category] = profile.samples.length
      ? (counts.get(category) ?? 0) / profile.samples.length
      : 0;
  }
  return { samples: profile.samples.length, shares };
}

/** CPU used during one measurement, in cores (1 = one core busy the whole time). */
export interface CpuUse {
  /** The server's main thread (JavaScript, SQLite, sockets). */
  serverMain: number;
  /** The server's worker threads (the orders' processing). */
  serverWorkers: number;
  /** Every thread of the server: main, workers, V8 helpers, I/O pool. */
  server: number;
  /** The load tool (the bench process). */
  load: number;
  /** Everything else running on the machine meanwhile. */
  others: number;
}

/** One row of the results table. */
export interface ResultRow {
  label: string;
  /** The figure, absolute, with its unit. */
  value: string;
  /** What it is compared with, measured in the same run. */
  ceiling: string;
  /** value / ceiling (or the figure's own definition of it). */
  ratio: number | undefined;
  target: string;
  /** undefined when there is no target. */
  met: boolean | undefined;
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
}

/** A number with at most `digits` decimals, trailing zeros kept for alignment. */
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
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)} %`;
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
      `| ${row.label} | ${row.value} | ${row.ceiling} | ${
        row.ratio === undefined ? "—" : fixed(row.ratio, 2)
      } | ${row.target} | ${row.met === undefined ? "—" : row.met ? "yes" : "**no**"} |`
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
  lines.push("## How it was measured", "", ...doc.method.map((step) => `- ${step}`), "");
  return lines.join("\n");
}
