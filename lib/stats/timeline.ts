/**
 * Processing intervals per worker: how many ran at once, and a text timeline
 * with one row per worker. Pure: builds values and strings, no I/O.
 *
 * An interval `[inicio, fin)` is open from `inicio` up to, not including,
 * `fin`: one that ends exactly when another starts does not overlap it. A
 * zero-length interval (`inicio === fin`) is open at that single instant.
 * An interval with `fin < inicio` is taken as zero-length at `inicio`.
 *
 * @module
 */

/** One order's processing: which worker, from `inicio` to `fin` (epoch ms). */
export interface Interval {
  worker: number;
  inicio: number;
  fin: number;
}

/** Options of {@link renderTimeline}. */
export interface TimelineOptions {
  /** Number of columns of each row's bar. @default 60 */
  width?: number;
}

/** Line printed by {@link renderTimeline} when there is nothing to draw. */
export const SIN_PEDIDOS = "(sin pedidos procesados)";

const BUSY = "█";
const IDLE = "·";

/**
 * The largest number of intervals open at one instant, with intervals given
 * as two parallel lists of starts and ends (epoch ms). Uses typed arrays, so
 * it suits millions of intervals (see {@link maxOverlap} for the rules).
 * Pairs whose `inicio` is not finite or whose `fin` is `NaN` are ignored; a
 * `fin` of `Infinity` means still open.
 *
 * @example
 * ```ts
 * maxOverlapOfRanges([0, 5, 5], [10, 8, 5]); // 3: all open at 5
 * ```
 */
export function maxOverlapOfRanges(
  inicios: ArrayLike<number>,
  fines: ArrayLike<number>,
): number {
  const n = Math.min(inicios.length, fines.length);
  const starts = new Float64Array(n);
  const ends = new Float64Array(n);
  const points = new Float64Array(n);
  let ranges = 0;
  let zeros = 0;
  for (let i = 0; i < n; i++) {
    const inicio = inicios[i] ?? NaN;
    const fin = fines[i] ?? NaN;
    if (!Number.isFinite(inicio) || Number.isNaN(fin)) continue;
    if (fin > inicio) {
      starts[ranges] = inicio;
      ends[ranges] = fin;
      ranges++;
    } else {
      points[zeros++] = inicio;
    }
  }
  const s = starts.subarray(0, ranges).sort();
  const e = ends.subarray(0, ranges).sort();
  const z = points.subarray(0, zeros).sort();

  // The maximum is reached at some start or zero-length instant: visit each,
  // closing first what ends there, then opening what starts there.
  let i = 0, j = 0, k = 0, open = 0, best = 0;
  while (i < s.length || k < z.length) {
    const t = Math.min(s[i] ?? Infinity, z[k] ?? Infinity);
    while (j < e.length && (e[j] ?? Infinity) <= t) {
      open--;
      j++;
    }
    while (i < s.length && s[i] === t) {
      open++;
      i++;
    }
    let here = 0;
    while (k < z.length && z[k] === t) {
      here++;
      k++;
    }
    best = Math.max(best, open + here);
  }
  return best;
}

/**
 * The largest number of intervals open at one instant. `[inicio, fin)` is
 * half-open, so touching intervals do not overlap; a zero-length interval
 * counts at its instant.
 *
 * @example
 * ```ts
 * maxOverlap([
 *   { worker: 1, inicio: 0, fin: 10 },
 *   { worker: 2, inicio: 10, fin: 20 }, // touches: no overlap
 *   { worker: 3, inicio: 5, fin: 15 },
 * ]); // 2
 * ```
 */
export function maxOverlap(intervals: readonly Interval[]): number {
  return maxOverlapOfRanges(
    intervals.map((it) => it.inicio),
    intervals.map((it) => it.fin),
  );
}

/**
 * A span in milliseconds as seconds for the axis: `0 s`, `0.250 s` under a
 * second, `4.21 s` from one second on.
 *
 * @example
 * ```ts
 * formatSpan(4213); // "4.21 s"
 * ```
 */
export function formatSpan(ms: number): string {
  if (ms === 0) return "0 s";
  return `${(ms / 1000).toFixed(ms < 1000 ? 3 : 2)} s`;
}

/**
 * A text timeline: one row per worker, sorted by worker number, whose columns
 * map the window [earliest `inicio`, latest `fin`] linearly; a cell is `█` if
 * the worker was busy during any part of it (a zero-length interval marks the
 * cell of its instant), `·` otherwise. An axis line under the rows gives the
 * window's start (`0 s`) and total span. If the window lasts 0 ms every row
 * with an interval is drawn busy. Intervals with a non-finite `inicio` or
 * `fin` are left out.
 *
 * @throws {RangeError} if `width` is not a positive integer.
 *
 * @example
 * ```ts
 * renderTimeline([
 *   { worker: 1, inicio: 0, fin: 4000 },
 *   { worker: 2, inicio: 2000, fin: 6000 },
 * ], { width: 12 });
 * // worker 1 │████████····│ 1 pedido
 * // worker 2 │····████████│ 1 pedido
 * //           0 s … 6.00 s
 * ```
 */
export function renderTimeline(
  intervals: readonly Interval[],
  options: TimelineOptions = {},
): string {
  const width = options.width ?? 60;
  if (!Number.isSafeInteger(width) || width < 1) {
    throw new RangeError(`Ancho inválido para la línea de tiempo: ${width}`);
  }
  const valid = intervals
    .filter((it) => Number.isFinite(it.inicio) && Number.isFinite(it.fin))
    .map((it) => ({ worker: it.worker, inicio: it.inicio, fin: Math.max(it.fin, it.inicio) }));
  if (valid.length === 0) return SIN_PEDIDOS;

  let start = Infinity;
  let end = -Infinity;
  for (const it of valid) {
    start = Math.min(start, it.inicio);
    end = Math.max(end, it.fin);
  }
  const span = end - start;

  const rows = new Map<number, { cells: boolean[]; pedidos: number }>();
  for (const it of valid) {
    let row = rows.get(it.worker);
    if (row === undefined) {
      row = { cells: new Array<boolean>(width).fill(false), pedidos: 0 };
      rows.set(it.worker, row);
    }
    row.pedidos++;
    const [first, last] = columnsOf(it.inicio - start, it.fin - start, span, width);
    for (let c = first; c <= last; c++) row.cells[c] = true;
  }

  const workers = [...rows.keys()].sort((a, b) => a - b);
  const labelWidth = Math.max(...workers.map((w) => String(w).length));
  const lines = workers.map((worker) => {
    const row = rows.get(worker);
    const bar = row?.cells.map((busy) => busy ? BUSY : IDLE).join("") ?? "";
    const pedidos = row?.pedidos ?? 0;
    const label = `worker ${String(worker).padStart(labelWidth)}`;
    return `${label} │${bar}│ ${pedidos} ${pedidos === 1 ? "pedido" : "pedidos"}`;
  });
  const indent = " ".repeat(`worker ${"".padStart(labelWidth)} │`.length);
  lines.push(indent + axis(formatSpan(span), width));
  return lines.join("\n");
}

/**
 * First and last column (inclusive) busy for an interval at offsets
 * `[from, to]` of a window `span` ms long drawn in `width` columns. Column
 * `c` covers `[c·span/width, (c+1)·span/width)`; the last one also its end.
 */
function columnsOf(from: number, to: number, span: number, width: number): [number, number] {
  if (span <= 0) return [0, width - 1];
  const clamp = (c: number) => Math.min(width - 1, Math.max(0, c));
  const a = (from * width) / span;
  if (to === from) {
    const c = clamp(Math.floor(a));
    return [c, c];
  }
  const b = (to * width) / span;
  return [clamp(Math.floor(a)), clamp(Math.ceil(b) - 1)];
}

/** `0 s … <span>` stretched to the bar's width when it fits. */
function axis(spanLabel: string, width: number): string {
  const left = "0 s";
  const compact = `${left} … ${spanLabel}`;
  if (compact.length >= width) return compact;
  const room = width - left.length - spanLabel.length - 1;
  const before = Math.floor(room / 2);
  return `${left}${" ".repeat(before)}…${" ".repeat(room - before)}${spanLabel}`;
}
