/**
 * Counting a load run's outcomes and turning them into its report: every
 * order sent ends as exactly one of accepted, rejected (by `codigo`) or a
 * transport error, and latencies go into a bounded histogram. Pure: no I/O.
 *
 * @module
 */
import { Histogram } from "../../lib/stats/histogram.ts";
import type { OrderKind } from "./orders.ts";
import type { ServerLine } from "./replies.ts";
import type { ToolCpu } from "./tool_cpu.ts";
import type { Verification } from "./verify.ts";

/** Latency summary, milliseconds. */
export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** Outcomes of the invalid messages mixed in with `--bad`. */
export interface BadSummary {
  /** Invalid messages sent. */
  sent: number;
  /** Answered with exactly the `codigo` their fault calls for. */
  answered: number;
  /** Accepted, or rejected with another `codigo`: a server bug, or a load tool bug. */
  wrong: number;
}

/** Everything a run measured; `--json` prints this object. */
export interface LoadReport {
  target: string;
  mode: "conexion" | "pipeline";
  loop: "cerrado" | "abierto";
  concurrency: number;
  depth: number;
  /** Requested arrivals per second (open loop only). */
  rate?: number;
  /** Epoch milliseconds at which the run started. */
  startedAt: number;
  /** From the first order to the last outcome. */
  elapsedMs: number;
  sent: number;
  accepted: number;
  rejected: Record<string, number>;
  rejectedTotal: number;
  errors: Record<string, number>;
  errorsTotal: number;
  /** Valid orders rejected with a `codigo` only invalid ones deserve, or invalid ones accepted. */
  unexpected: number;
  bad: BadSummary;
  /** Connections that could not be opened or greeted (pipeline mode retries them). */
  failedConnections: number;
  /** Accepted orders per second. */
  acceptedPerSecond: number;
  /** Replies (accepted and rejected) per second. */
  repliesPerSecond: number;
  /** From send (closed loop) or from due time (open loop) to reply. */
  latencyMs: LatencySummary;
  /** The load tool's own CPU use over the run, and whether it was itself the limit. */
  toolCpu: ToolCpu;
  /** Why the run stopped early, if it did. */
  aborted?: string;
  verification?: Verification;
}

/** Where a tally puts each latency: its own histogram, or a batch bound for another thread. */
export interface LatencySink {
  record(valueMs: number): void;
}

/** A tally's counters as plain values, to send from a thread and add up in another. */
export interface TallyCounts {
  sent: number;
  accepted: number;
  rejectedTotal: number;
  errorsTotal: number;
  unexpected: number;
  failedConnections: number;
  rejected: [string, number][];
  errors: [string, number][];
  bad: BadSummary;
}

/**
 * Mutable counters for one run. Every order recorded with `sent` must later
 * be recorded once with `reply` or `error`.
 *
 * @example
 * ```ts
 * const tally = new Tally();
 * tally.sent("valido");
 * tally.reply("valido", { tipo: "ok", id: 1 }, 2.5);
 * tally.outstanding; // 0
 * ```
 */
export class Tally {
  /** Latencies of every reply, milliseconds (empty when they go to another sink). */
  readonly latency: Histogram = new Histogram();
  readonly #sink: LatencySink;
  sentCount = 0;
  accepted = 0;
  rejectedTotal = 0;
  errorsTotal = 0;
  unexpected = 0;
  failedConnections = 0;
  readonly rejected = new Map<string, number>();
  readonly errors = new Map<string, number>();
  readonly bad: BadSummary = { sent: 0, answered: 0, wrong: 0 };

  /** @param sink where latencies go instead of {@linkcode Tally.latency}, if given */
  constructor(sink?: LatencySink) {
    this.#sink = sink ?? this.latency;
  }

  /** Orders sent and not yet answered or failed. */
  get outstanding(): number {
    return this.sentCount - this.accepted - this.rejectedTotal - this.errorsTotal;
  }

  /** Orders with an outcome. */
  get completed(): number {
    return this.accepted + this.rejectedTotal + this.errorsTotal;
  }

  /** Counts one order put on the wire (or attempted, if its connection failed first). */
  sent(kind: OrderKind): void {
    this.sentCount++;
    if (kind !== "valido") this.bad.sent++;
  }

  /** Counts the reply to one order of `kind`. `line` must be `ok` or `error`. */
  reply(kind: OrderKind, line: ServerLine, latencyMs: number): void {
    this.#sink.record(Math.max(0, latencyMs));
    if (line.tipo === "ok") {
      this.accepted++;
      if (kind !== "valido") {
        this.bad.wrong++;
        this.unexpected++;
      }
      return;
    }
    const codigo = line.tipo === "error" ? line.codigo : "desconocido";
    this.rejectedTotal++;
    this.rejected.set(codigo, (this.rejected.get(codigo) ?? 0) + 1);
    if (kind === "valido") {
      if (codigo === "json_invalido" || codigo === "pedido_invalido") this.unexpected++;
    } else if (codigo === kind) {
      this.bad.answered++;
    } else {
      this.bad.wrong++;
      this.unexpected++;
    }
  }

  /** Counts `count` orders that got no reply, for `reason`. */
  error(reason: string, count = 1): void {
    if (count <= 0) return;
    this.errorsTotal += count;
    this.errors.set(reason, (this.errors.get(reason) ?? 0) + count);
  }

  /** The counters (not the latencies) as plain values. */
  counts(): TallyCounts {
    return {
      sent: this.sentCount,
      accepted: this.accepted,
      rejectedTotal: this.rejectedTotal,
      errorsTotal: this.errorsTotal,
      unexpected: this.unexpected,
      failedConnections: this.failedConnections,
      rejected: [...this.rejected],
      errors: [...this.errors],
      bad: { ...this.bad },
    };
  }

  /** Adds another tally's counters to these. */
  add(counts: TallyCounts): void {
    this.sentCount += counts.sent;
    this.accepted += counts.accepted;
    this.rejectedTotal += counts.rejectedTotal;
    this.errorsTotal += counts.errorsTotal;
    this.unexpected += counts.unexpected;
    this.failedConnections += counts.failedConnections;
    for (const [codigo, n] of counts.rejected) {
      this.rejected.set(codigo, (this.rejected.get(codigo) ?? 0) + n);
    }
    for (const [reason, n] of counts.errors) {
      this.errors.set(reason, (this.errors.get(reason) ?? 0) + n);
    }
    this.bad.sent += counts.bad.sent;
    this.bad.answered += counts.bad.answered;
    this.bad.wrong += counts.bad.wrong;
  }
}

/** What the report needs besides the counters. */
export type RunInfo = Pick<
  LoadReport,
  | "target"
  | "mode"
  | "loop"
  | "concurrency"
  | "depth"
  | "rate"
  | "startedAt"
  | "elapsedMs"
  | "toolCpu"
  | "aborted"
>;

/** Summarises a histogram's percentiles (NaN when empty becomes 0 so JSON stays numeric). */
export function summarizeLatency(histogram: Histogram): LatencySummary {
  const at = (q: number) => (histogram.count === 0 ? 0 : histogram.percentile(q));
  return {
    count: histogram.count,
    mean: histogram.count === 0 ? 0 : histogram.mean,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    p999: at(0.999),
    max: histogram.count === 0 ? 0 : histogram.max,
  };
}

/**
 * Freezes a tally into a report.
 *
 * @example
 * ```ts
 * const report = buildReport(tally, { target: "127.0.0.1:8888", mode: "pipeline",
 *   loop: "cerrado", concurrency: 4, depth: 16, startedAt: Date.now(), elapsedMs: 1000 });
 * report.sent === report.accepted + report.rejectedTotal + report.errorsTotal; // true
 * ```
 */
export function buildReport(tally: Tally, info: RunInfo): LoadReport {
  const seconds = info.elapsedMs / 1000;
  const perSecond = (count: number) => (seconds > 0 ? count / seconds : 0);
  return {
    ...info,
    sent: tally.sentCount,
    accepted: tally.accepted,
    rejected: Object.fromEntries([...tally.rejected].sort(([a], [b]) => a.localeCompare(b))),
    rejectedTotal: tally.rejectedTotal,
    errors: Object.fromEntries([...tally.errors].sort(([a], [b]) => a.localeCompare(b))),
    errorsTotal: tally.errorsTotal,
    unexpected: tally.unexpected,
    bad: { ...tally.bad },
    failedConnections: tally.failedConnections,
    acceptedPerSecond: perSecond(tally.accepted),
    repliesPerSecond: perSecond(tally.accepted + tally.rejectedTotal),
    latencyMs: summarizeLatency(tally.latency),
  };
}

/** Formats a count as a whole number, e.g. `12345`. */
export function formatCount(value: number): string {
  return Math.round(value).toString();
}

/** Decimals {@linkcode formatMs} shows for a value: about three significant figures. */
export function msDigits(value: number): number {
  return value >= 100 ? 0 : value >= 10 ? 1 : value >= 1 ? 2 : 3;
}

/** Formats milliseconds with about three significant figures, e.g. `0.412 ms`, `12.3 ms`, `1250 ms`. */
export function formatMs(value: number): string {
  return `${value.toFixed(msDigits(value))} ms`;
}

function breakdown(counts: Record<string, number>): string {
  const entries = Object.entries(counts);
  return entries.length === 0
    ? ""
    : ` (${entries.map(([key, count]) => `${key}: ${formatCount(count)}`).join(", ")})`;
}

/**
 * The human report: counts, throughput, latency percentiles and, if run,
 * the verification.
 */
export function renderReport(report: LoadReport): string {
  const lat = report.latencyMs;
  const loop = report.loop === "abierto"
    ? `lazo abierto a ${formatCount(report.rate ?? 0)} pedidos/s`
    : "lazo cerrado";
  const lines = [
    `Carga contra ${report.target}: modo ${report.mode}, ${loop}, ${report.concurrency} conexiones` +
    (report.mode === "pipeline" ? `, profundidad ${report.depth}` : ""),
    `  enviados      ${formatCount(report.sent)}`,
    `  aceptados     ${formatCount(report.accepted)}`,
    `  rechazados    ${formatCount(report.rejectedTotal)}${breakdown(report.rejected)}`,
    `  errores       ${formatCount(report.errorsTotal)}${breakdown(report.errors)}`,
  ];
  if (report.bad.sent > 0) {
    lines.push(
      `  inválidos     ${formatCount(report.bad.sent)} enviados, ${
        formatCount(report.bad.answered)
      } con su error, ${formatCount(report.bad.wrong)} mal respondidos`,
    );
  }
  if (report.unexpected > 0) {
    lines.push(`  inesperados   ${formatCount(report.unexpected)} respuestas que no corresponden`);
  }
  if (report.failedConnections > 0) {
    lines.push(`  conexiones    ${formatCount(report.failedConnections)} fallidas`);
  }
  lines.push(
    `  duración      ${formatMs(report.elapsedMs)}`,
    `  rendimiento   ${formatCount(report.acceptedPerSecond)} aceptados/s, ${
      formatCount(report.repliesPerSecond)
    } respuestas/s`,
    `  latencia      p50 ${formatMs(lat.p50)} · p90 ${formatMs(lat.p90)} · p99 ${
      formatMs(lat.p99)
    } · p99.9 ${formatMs(lat.p999)} · máx ${formatMs(lat.max)}` +
      (report.loop === "abierto" ? " (desde la hora programada)" : ""),
  );
  const cpu = report.toolCpu;
  lines.push(
    `  herramienta   ${cpu.usPerOrder.toFixed(1)} µs de CPU por pedido · ${
      cpu.cores.toFixed(2)
    } núcleos (${cpu.threads} ${cpu.threads === 1 ? "hilo" : "hilos"}, ${cpu.cpus} en la máquina)`,
  );
  if (cpu.saturation.length > 0) {
    lines.push(
      `  saturada      la herramienta era el límite: ${cpu.saturation.join("; ")}; ` +
        "las cifras miden la herramienta, no solo el servidor" +
        (cpu.threads < cpu.cpus
          ? ` (si quedan núcleos libres, pruebe con --threads ${cpu.threads + 1})`
          : ""),
    );
  }
  if (report.aborted) lines.push(`  interrumpido: ${report.aborted}`);
  return lines.join("\n");
}
