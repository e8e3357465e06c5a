/**
 * The soak's verdict, pure: the database's rows checked against what the
 * load learned (the exactly-once comparison of `tools/ledger.ts`, with the
 * orders meant to fail expected `fallido`), and whether memory stayed flat.
 * No I/O; `tools/soak/main.ts` does the rest.
 *
 * @module
 */
import { compareTags, exactlyOnce, type TagComparison, type TagLedger } from "../ledger.ts";

/** What the load sent and was told. Tags are unique `cliente` values. */
export interface SoakLedger extends TagLedger {
  /** Tags of orders that make the worker fail on purpose (they must end `fallido`). */
  faulty: Set<string>;
}

/**
 * Checks the exactly-once contract (nothing lost, duplicated, misfiled or
 * invented) and that every stored order reached its final state: `listo`,
 * or `fallido` for the faulty ones.
 *
 * @example
 * ```ts
 * const ledger = { sent: new Set(["a"]), acked: new Map([["a", 1]]), faulty: new Set<string>() };
 * verifyLedger([{ id: 1, cliente: "a", estado: "listo" }], ledger).lost.count; // 0
 * ```
 */
export function verifyLedger(
  rows: Iterable<{ id: number; cliente: string; estado: string }>,
  ledger: SoakLedger,
): TagComparison {
  return compareTags(rows, ledger, (tag) => ledger.faulty.has(tag) ? "fallido" : "listo");
}

/** Everything a soak run learned that its verdict depends on. */
export interface SoakFacts {
  /** The database compared with the ledger ({@linkcode verifyLedger}). */
  ledger: TagComparison;
  /** Orders still `en cola` or `en proceso` after the wait for completion. */
  unfinished: number;
  /** `PRAGMA integrity_check`: "ok" when intact. */
  integrity: string;
  /** The server's exit code after SIGTERM. */
  serverExit: number;
  memory: MemoryTrend;
  /** Whether the open descriptors came back to the baseline. */
  descriptorsBack: boolean;
  /** Replies that contradicted the protocol. */
  wrongAnswers: number;
}

/**
 * Why a soak run failed, one line per failed check; empty when it passed.
 * A run that acknowledged nothing, or sampled no memory, proves nothing and
 * fails too.
 *
 * @example
 * ```ts
 * soakFailures({ ...facts, unfinished: 2 }); // ["2 pedidos sin terminar"]
 * ```
 */
export function soakFailures(facts: SoakFacts): string[] {
  const { ledger, memory } = facts;
  const failures: string[] = [];
  if (ledger.acknowledged === 0) {
    failures.push("ningún pedido confirmado: la carga no comprobó nada");
  }
  if (!exactlyOnce(ledger)) failures.push("pedidos perdidos, duplicados o inventados");
  if (ledger.wrongState.count > 0) {
    failures.push(`${ledger.wrongState.count} pedidos en un estado final incorrecto`);
  }
  if (facts.unfinished > 0) failures.push(`${facts.unfinished} pedidos sin terminar`);
  if (facts.integrity !== "ok") failures.push(`integridad de la base: ${facts.integrity}`);
  if (facts.serverExit !== 0) failures.push(`el servidor salió con ${facts.serverExit}`);
  if (memory.samples < MIN_MEMORY_SAMPLES) {
    failures.push(`${memory.samples} muestras de memoria: no bastan para juzgar la tendencia`);
  } else if (!memory.flat) failures.push("la memoria residente crece");
  if (!facts.descriptorsBack) failures.push("los descriptores no vuelven a la base");
  if (facts.wrongAnswers > 0) failures.push(`${facts.wrongAnswers} respuestas incorrectas`);
  return failures;
}

/** Fewest memory samples a trend is judged on: a start and an end. */
export const MIN_MEMORY_SAMPLES = 2;

/** Resident-memory samples summarised: start (after warm-up), end, peak, and whether flat. */
export interface MemoryTrend {
  /** Samples taken (the warm-up one included). */
  samples: number;
  startMb: number;
  endMb: number;
  peakMb: number;
  /**
   * The last quarter's median is within 25 % (plus 16 MB of slack) of the
   * first quarter's; false with fewer than {@linkcode MIN_MEMORY_SAMPLES}
   * samples, where nothing shows that memory stayed flat.
   */
  flat: boolean;
}

/**
 * Judges whether resident memory stayed flat over a run. The first sample
 * is treated as warm-up and ignored when there are enough samples.
 *
 * @example
 * ```ts
 * memoryTrend([40_000, 60_000, 61_000, 60_500, 61_200]).flat; // true
 * memoryTrend([]).flat; // false: nothing was sampled
 * ```
 */
export function memoryTrend(samplesKb: readonly number[]): MemoryTrend {
  if (samplesKb.length < MIN_MEMORY_SAMPLES) {
    const only = samplesKb.length ? megabytes(samplesKb[0]!) : NaN;
    return { samples: samplesKb.length, startMb: only, endMb: only, peakMb: only, flat: false };
  }
  const samples = samplesKb.length > 4 ? samplesKb.slice(1) : [...samplesKb];
  const quarter = Math.max(1, Math.floor(samples.length / 4));
  const first = median(samples.slice(0, quarter));
  const last = median(samples.slice(-quarter));
  return {
    samples: samplesKb.length,
    startMb: megabytes(first),
    endMb: megabytes(last),
    peakMb: megabytes(Math.max(...samples)),
    flat: last <= first * 1.25 + 16 * 1024,
  };
}

/** Kilobytes as megabytes with one decimal. */
function megabytes(kb: number): number {
  return Math.round(kb / 102.4) / 10;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
