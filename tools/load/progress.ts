/**
 * Progress display for long runs: a bar redrawn in place on a terminal, or a
 * plain line every few seconds when the output is a file or a pipe. Pure:
 * renders strings from counters; the caller writes them.
 *
 * @module
 */
import { formatCount } from "./report.ts";

/** A moment in a run, as the display needs it. */
export interface ProgressSample {
  /** Orders with an outcome so far. */
  done: number;
  /** Orders in the whole run. */
  total: number;
  /** Transport errors so far. */
  errors: number;
  /** Milliseconds since the run started. */
  elapsedMs: number;
  /** Outcomes per second over the last interval. */
  rate: number;
}

/**
 * Measures a rate from successive cumulative counts.
 *
 * @example
 * ```ts
 * const meter = new RateMeter(0, 0);
 * meter.update(500, 1000); // 500 per second
 * meter.update(1500, 1500); // 2000 per second
 * ```
 */
export class RateMeter {
  #count: number;
  #atMs: number;

  constructor(count: number, atMs: number) {
    this.#count = count;
    this.#atMs = atMs;
  }

  /** The rate per second since the previous update (0 if no time passed). */
  update(count: number, atMs: number): number {
    const elapsed = atMs - this.#atMs;
    const rate = elapsed > 0 ? (count - this.#count) * 1000 / elapsed : 0;
    this.#count = count;
    this.#atMs = atMs;
    return rate;
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * The terminal bar, meant to be written after a carriage return.
 *
 * @example
 * ```ts
 * renderProgressBar({ done: 250, total: 1000, errors: 0, elapsedMs: 1500, rate: 180 }, 20);
 * // "[#####...............]  25% 250/1000 · 180/s · 1.5 s"
 * ```
 */
export function renderProgressBar(sample: ProgressSample, width = 30): string {
  const fraction = sample.total > 0 ? Math.min(1, sample.done / sample.total) : 0;
  const filled = Math.floor(fraction * width);
  const bar = "#".repeat(filled) + ".".repeat(width - filled);
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  return `[${bar}] ${percent} ${formatCount(sample.done)}/${formatCount(sample.total)} · ${
    formatCount(sample.rate)
  }/s · ${seconds(sample.elapsedMs)}${
    sample.errors > 0 ? ` · errores ${formatCount(sample.errors)}` : ""
  }`;
}

/**
 * The periodic line for logs and pipes.
 *
 * @example
 * ```ts
 * renderProgressLine({ done: 250, total: 1000, errors: 2, elapsedMs: 1500, rate: 180 });
 * // "carga: 1.5 s · 250/1000 (25%) · 180/s · errores 2"
 * ```
 */
export function renderProgressLine(sample: ProgressSample): string {
  const percent = sample.total > 0 ? Math.floor(Math.min(1, sample.done / sample.total) * 100) : 0;
  return `carga: ${seconds(sample.elapsedMs)} · ${formatCount(sample.done)}/${
    formatCount(sample.total)
  } (${percent}%) · ${formatCount(sample.rate)}/s · errores ${formatCount(sample.errors)}`;
}
