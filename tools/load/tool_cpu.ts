/**
 * The load tool's own cost: the CPU time its process used over a run (every
 * thread, workers included), per order and in cores, and whether the tool
 * itself was the limit of what it measured. {@linkcode toolCpu} and
 * {@linkcode saturationReasons} are pure; {@linkcode cpuMark} reads the clock.
 *
 * The clock is the whole process's: run from `deno task load` it is the
 * tool's alone; where `runLoad` runs inside a larger program (the bench),
 * whatever else that process does meanwhile, other runs at the same time
 * included, counts too.
 *
 * **When the tool is saturated.** A run's figures describe the server only if
 * the tool kept up. It did not when either:
 *
 * - **its CPU was used up**: it used at least {@linkcode SATURATED_SHARE} (90 %)
 *   of the cores its threads can occupy, `min(threads, cpus)`, where `threads`
 *   counts the JavaScript threads that drive connections (each runs on at most
 *   one core at a time) and `cpus` the cores the machine offers. The 10 %
 *   margin is for the runtime's own helper threads (garbage collection,
 *   compilation), which count in the process's time but drive nothing; or
 * - **its event loop ran late**: one tick in ten or more
 *   ({@linkcode LAG_QUANTILE}) fired at least {@linkcode LAG_LIMIT_MS} (10 ms)
 *   after it was due. A late tick means the loop was busy (or not scheduled by
 *   the operating system) for that long, and every reply that arrived
 *   meanwhile was read, and timed, that much late: the latencies then hold the
 *   tool's delay. One late tick in a run (a garbage collection) is not enough.
 *
 * @module
 */
import process from "node:process";
import { quantileRank } from "../../lib/stats/histogram.ts";

/** Share of its usable cores at or above which the tool counts as CPU-saturated. */
export const SATURATED_SHARE = 0.9;
/** Event-loop lag (ms) that, at {@linkcode LAG_QUANTILE}, marks the loop as late. */
export const LAG_LIMIT_MS = 10;
/** The quantile of the loop's lag compared with {@linkcode LAG_LIMIT_MS}. */
export const LAG_QUANTILE = 0.9;

/** The load tool's own cost over a run, as the report carries it. */
export interface ToolCpu {
  /** User plus system CPU time of the whole process (every thread) over the run, seconds. */
  seconds: number;
  /** Microseconds of CPU per order sent. */
  usPerOrder: number;
  /** Cores used on average: CPU seconds / wall seconds over the same span. */
  cores: number;
  /** JavaScript threads that drove connections. */
  threads: number;
  /** Cores the machine offers. */
  cpus: number;
  /** Event-loop lag of the threads that drove connections at {@linkcode LAG_QUANTILE}, ms. */
  loopLagMs: number;
  /** Largest event-loop lag seen, ms. */
  loopLagMaxMs: number;
  /** Why the tool itself was the limit (one Spanish line each); empty when it was not. */
  saturation: string[];
}

/** The process's CPU clock at one moment: user plus system microseconds, and wall milliseconds. */
export interface CpuMark {
  cpuUs: number;
  wallMs: number;
}

/** Reads the process's CPU time (all threads, workers included) and the wall clock. */
export function cpuMark(): CpuMark {
  const { user, system } = process.cpuUsage();
  return { cpuUs: user + system, wallMs: performance.now() };
}

/** Cores this machine offers the process. */
export function machineCpus(): number {
  return Math.max(1, navigator.hardwareConcurrency || 1);
}

/** What {@linkcode toolCpu} needs: plain values measured by the run. */
export interface ToolCpuInput {
  from: CpuMark;
  to: CpuMark;
  /** Orders sent over the span. */
  orders: number;
  threads: number;
  cpus: number;
  /** Event-loop lag samples of the driving threads, ms. */
  lagSamplesMs: readonly number[];
}

/**
 * Turns two clock marks and the run's counts into the report's figures.
 *
 * @example
 * ```ts
 * const cpu = toolCpu({
 *   from: { cpuUs: 0, wallMs: 0 },
 *   to: { cpuUs: 800_000, wallMs: 2000 },
 *   orders: 10_000, threads: 1, cpus: 2, lagSamplesMs: [0, 1, 0],
 * });
 * cpu.usPerOrder; // 80
 * cpu.cores; // 0.4
 * cpu.saturation; // []
 * ```
 */
export function toolCpu(input: ToolCpuInput): ToolCpu {
  const cpuUs = Math.max(0, input.to.cpuUs - input.from.cpuUs);
  const wallMs = input.to.wallMs - input.from.wallMs;
  const cores = wallMs > 0 ? cpuUs / 1000 / wallMs : 0;
  const loopLagMs = quantile(input.lagSamplesMs, LAG_QUANTILE);
  return {
    seconds: cpuUs / 1e6,
    usPerOrder: input.orders > 0 ? cpuUs / input.orders : 0,
    cores,
    threads: input.threads,
    cpus: input.cpus,
    loopLagMs,
    loopLagMaxMs: input.lagSamplesMs.reduce((a, b) => Math.max(a, b), 0),
    saturation: saturationReasons({
      cores,
      threads: input.threads,
      cpus: input.cpus,
      loopLagMs,
    }),
  };
}

/**
 * The reasons the tool was itself the limit, by the rule in this module's
 * documentation; empty when it kept up.
 *
 * @example
 * ```ts
 * saturationReasons({ cores: 0.95, threads: 1, cpus: 2, loopLagMs: 0 });
 * // ["usó 0.95 de 1 núcleo que sus hilos pueden ocupar"]
 * saturationReasons({ cores: 0.95, threads: 2, cpus: 2, loopLagMs: 0 }); // []
 * ```
 */
export function saturationReasons(
  input: { cores: number; threads: number; cpus: number; loopLagMs: number },
): string[] {
  const reasons: string[] = [];
  const usable = Math.min(input.threads, input.cpus);
  if (usable > 0 && input.cores >= SATURATED_SHARE * usable) {
    reasons.push(
      `usó ${input.cores.toFixed(2)} de ${usable} ${
        usable === 1 ? "núcleo" : "núcleos"
      } que sus hilos pueden ocupar`,
    );
  }
  if (input.loopLagMs >= LAG_LIMIT_MS) {
    reasons.push(
      `su bucle de eventos iba con retraso: p${LAG_QUANTILE * 100} ${
        input.loopLagMs.toFixed(1)
      } ms (límite ${LAG_LIMIT_MS} ms)`,
    );
  }
  return reasons;
}

/** Nearest-rank quantile of a list of values; 0 for none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[quantileRank(q, sorted.length) - 1]!;
}

/**
 * Measures how late a periodic tick fires: call {@linkcode LagProbe.tick}
 * from a timer that should fire every `intervalMs`.
 *
 * @example
 * ```ts
 * const probe = new LagProbe(100, 0);
 * probe.tick(100); // on time
 * probe.tick(230); // 30 ms late
 * probe.samples; // [0, 30]
 * ```
 */
export class LagProbe {
  readonly #intervalMs: number;
  #last: number;
  readonly samples: number[] = [];

  constructor(intervalMs: number, nowMs: number) {
    this.#intervalMs = intervalMs;
    this.#last = nowMs;
  }

  /** Records one tick at `nowMs`. */
  tick(nowMs: number): void {
    this.samples.push(Math.max(0, nowMs - this.#last - this.#intervalMs));
    this.#last = nowMs;
  }
}
