/**
 * Sizing `--work-mode cpu` at start-up. An order's cpu work is a fixed
 * number of iterations of the work kernel (`cpuKernel` in `work.ts`), not a
 * span of wall-clock time: a span passes just as fast for a worker waiting
 * for a core as for one computing, so more workers than cores would seem to
 * finish sooner. The number comes from timing the kernel once, in a worker
 * (the kind of thread that will run it), before the server listens.
 *
 * @module
 */
import { sandboxedWorker, type WorkerFactory } from "./pool.ts";
import type { CalibrationReply, CalibrationRequest } from "./work.ts";

/** One calibration round: the kernel's iterations in a window, and what they took. */
export interface CalibrationRound {
  iterations: number;
  /** Wall-clock milliseconds, by the worker's clock. */
  wallMs: number;
  /** The whole process's CPU milliseconds from asking for the round to its answer; 0 if unknown. */
  cpuMs: number;
}

/** Rounds per calibration; the best one counts, so a busy moment does not skew it. */
export const CALIBRATION_ROUNDS = 5;
/** Milliseconds per round: long enough for V8 to have optimised the kernel by the later ones. */
export const CALIBRATION_WINDOW_MS = 20;
const CALIBRATION_TIMEOUT_MS = 30_000;

/**
 * The kernel's iterations per millisecond on one core, from calibration
 * rounds: the best round's. Each round is timed by the shorter of its wall
 * clock (which runs on while the thread waits for a core) and the process's
 * CPU time (which also counts the process's other threads). Both are at
 * least the time the thread computed, so the figure is never above what
 * an idle core does.
 *
 * @example
 * ```ts
 * iterationsPerMs([
 *   { iterations: 2_000_000, wallMs: 20, cpuMs: 10 }, // waited for a core half the time
 *   { iterations: 1_000_000, wallMs: 20, cpuMs: 25 }, // other threads were busy too
 * ]); // 200_000
 * ```
 * @throws {RangeError} if no round did any iterations in a positive time
 */
export function iterationsPerMs(rounds: readonly CalibrationRound[]): number {
  let best = 0;
  for (const { iterations, wallMs, cpuMs } of rounds) {
    const ms = cpuMs > 0 ? Math.min(wallMs, cpuMs) : wallMs;
    if (iterations > 0 && ms > 0) best = Math.max(best, iterations / ms);
  }
  if (best === 0) throw new RangeError("la calibración del trabajo cpu no midió ninguna iteración");
  return best;
}

/**
 * The iterations that make `workMs` of work at `perMs` iterations per ms.
 *
 * @example
 * ```ts
 * iterationsFor(20, 150_000.4); // 3_000_008
 * ```
 */
export function iterationsFor(workMs: number, perMs: number): number {
  return Math.round(workMs * perMs);
}

/**
 * Times the kernel in a worker made by `createWorker` from `workerUrl`, one
 * round per message, and returns its iterations per millisecond (see
 * {@linkcode iterationsPerMs}). The process's CPU time is read here, around
 * each round: this thread only waits meanwhile, and reading it in the worker
 * would make every worker load `node:process`.
 *
 * @throws {Error} with a one-line message if the worker fails or does not answer in time
 */
export async function calibrateCpu(
  workerUrl: URL,
  createWorker: WorkerFactory = sandboxedWorker,
): Promise<number> {
  // Only a cpu-mode server needs it.
  const { cpuUsage } = await import("node:process");
  const worker = createWorker(workerUrl);
  let answer: PromiseWithResolvers<CalibrationReply> = Promise.withResolvers();
  const failed = Promise.withResolvers<never>();
  const timer = setTimeout(
    () => failed.reject(new Error(`no terminó en ${CALIBRATION_TIMEOUT_MS} ms`)),
    CALIBRATION_TIMEOUT_MS,
  );
  worker.onmessage = (event: MessageEvent<CalibrationReply>) => answer.resolve(event.data);
  worker.onerror = (event) => {
    event.preventDefault();
    failed.reject(new Error(`el worker falló: ${event.message}`));
  };
  try {
    const rounds: CalibrationRound[] = [];
    for (let round = 0; round < CALIBRATION_ROUNDS; round++) {
      answer = Promise.withResolvers();
      const before = cpuUsage();
      worker.postMessage(
        { calibrar: { ventanaMs: CALIBRATION_WINDOW_MS } } satisfies CalibrationRequest,
      );
      const { iteraciones, ms } = await Promise.race([answer.promise, failed.promise]);
      const cpu = cpuUsage(before);
      rounds.push({ iterations: iteraciones, wallMs: ms, cpuMs: (cpu.user + cpu.system) / 1000 });
    }
    return iterationsPerMs(rounds);
  } catch (error) {
    throw new Error(
      `no se pudo calibrar el trabajo cpu: ${error instanceof Error ? error.message : error}`,
    );
  } finally {
    clearTimeout(timer);
    worker.terminate();
  }
}
