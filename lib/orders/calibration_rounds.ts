/**
 * The worker's side of the calibration (see `calibration.ts`): timing the
 * work kernel. The worker loads it only when asked to calibrate, because
 * `node:process` (for CPU time) costs a worker tens of milliseconds to load.
 *
 * @module
 */
import { cpuUsage } from "node:process";
import { burnCpu, KERNEL_CHUNK } from "./work.ts";
import type { CalibrationRound } from "./calibration.ts";

/**
 * Runs the cpu work's own code, a chunk at a time, for `count` rounds of
 * at least `windowMs` each, and notes each round's iterations, wall time
 * and process CPU time.
 */
export function measureRounds(count: number, windowMs: number): CalibrationRound[] {
  const rounds: CalibrationRound[] = [];
  for (let round = 0; round < count; round++) {
    const cpuBefore = cpuUsage();
    const start = performance.now();
    let iterations = 0;
    let wallMs: number;
    do {
      burnCpu(KERNEL_CHUNK);
      iterations += KERNEL_CHUNK;
    } while ((wallMs = performance.now() - start) < windowMs);
    const cpu = cpuUsage(cpuBefore);
    rounds.push({ iterations, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 });
  }
  return rounds;
}
