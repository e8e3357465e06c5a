/**
 * The soak's verdict, pure: the database's rows checked against what the
 * load learned (which orders were acknowledged, which were meant to fail),
 * and whether memory stayed flat. No I/O; `tools/soak/main.ts` does the rest.
 *
 * @module
 */

/** What the load sent and was told. Tags are unique `cliente` values. */
export interface SoakLedger {
  /** Every tag written to a socket, acknowledged or not. */
  sent: Set<string>;
  /** Acknowledged orders: tag → id. */
  acked: Map<string, number>;
  /** Tags of orders that make the worker fail on purpose (they must end `fallido`). */
  faulty: Set<string>;
}

/** One stored order, as the verdict needs it. */
export interface SoakRow {
  id: number;
  cliente: string;
  estado: string;
}

/** How the database compares with the ledger; every count but `stored` must be 0. */
export interface SoakVerdict {
  /** Rows stored for tags of this run. */
  stored: number;
  /** Acknowledged orders missing from the database (or stored under another id). */
  lost: number;
  /** Tags stored more than once. */
  duplicated: number;
  /** Rows whose tag was never sent. */
  invented: number;
  /** Rows not in their expected final state (`listo`, or `fallido` for faulty orders). */
  wrongState: number;
  /** A few examples of what went wrong, for the report. */
  examples: string[];
}

/**
 * Checks the exactly-once contract: every acknowledged order stored once
 * under its id, nothing stored that was not sent, every stored order in its
 * final state (`listo`, or `fallido` for the faulty ones).
 *
 * @example
 * ```ts
 * const ledger = { sent: new Set(["a"]), acked: new Map([["a", 1]]), faulty: new Set<string>() };
 * verifyLedger([{ id: 1, cliente: "a", estado: "listo" }], ledger).lost; // 0
 * ```
 */
export function verifyLedger(rows: Iterable<SoakRow>, ledger: SoakLedger): SoakVerdict {
  const verdict: SoakVerdict = {
    stored: 0,
    lost: 0,
    duplicated: 0,
    invented: 0,
    wrongState: 0,
    examples: [],
  };
  const note = (text: string) => {
    if (verdict.examples.length < 10) verdict.examples.push(text);
  };
  const byTag = new Map<string, SoakRow>();
  for (const row of rows) {
    verdict.stored++;
    if (byTag.has(row.cliente)) {
      verdict.duplicated++;
      note(`duplicado: ${row.cliente} (#${byTag.get(row.cliente)!.id} y #${row.id})`);
      continue;
    }
    byTag.set(row.cliente, row);
    if (!ledger.sent.has(row.cliente)) {
      verdict.invented++;
      note(`inventado: #${row.id} ${row.cliente}`);
    }
    const expected = ledger.faulty.has(row.cliente) ? "fallido" : "listo";
    if (row.estado !== expected) {
      verdict.wrongState++;
      note(`#${row.id} ${row.cliente}: ${row.estado}, se esperaba ${expected}`);
    }
  }
  for (const [tag, id] of ledger.acked) {
    const row = byTag.get(tag);
    if (!row || row.id !== id) {
      verdict.lost++;
      note(`perdido: ${tag} (#${id})`);
    }
  }
  return verdict;
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
