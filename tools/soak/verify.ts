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

/** Whether the ledger comparison holds: exactly once, and every order in its final state. */
export function ledgerPassed(comparison: TagComparison): boolean {
  return exactlyOnce(comparison) && comparison.wrongState.count === 0;
}

/** Resident-memory samples summarised: start (after warm-up), end, peak, and whether flat. */
export interface MemoryTrend {
  startMb: number;
  endMb: number;
  peakMb: number;
  /** The last quarter's median is within 25 % (plus 16 MB of slack) of the first quarter's. */
  flat: boolean;
}

/**
 * Judges whether resident memory stayed flat over a run. The first sample
 * is treated as warm-up and ignored when there are enough samples.
 *
 * @example
 * ```ts
 * memoryTrend([40_000, 60_000, 61_000, 60_500, 61_200]).flat; // true
 * ```
 */
export function memoryTrend(samplesKb: readonly number[]): MemoryTrend {
  const samples = samplesKb.length > 4 ? samplesKb.slice(1) : [...samplesKb];
  if (samples.length === 0) return { startMb: 0, endMb: 0, peakMb: 0, flat: true };
  const quarter = Math.max(1, Math.floor(samples.length / 4));
  const first = median(samples.slice(0, quarter));
  const last = median(samples.slice(-quarter));
  const mb = (kb: number) => Math.round(kb / 102.4) / 10;
  return {
    startMb: mb(first),
    endMb: mb(last),
    peakMb: mb(Math.max(...samples)),
    flat: last <= first * 1.25 + 16 * 1024,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
