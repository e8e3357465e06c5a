/**
 * What one bench run measures, as plain values: the plan (how much of each
 * measure), the fixed shapes of the load, and the {@linkcode Measurements}
 * the tables and the explanations are computed from. No I/O.
 *
 * @module
 */
import type { ProfileSummary } from "./profile.ts";

/** What one bench run measures, and how much of it. */
export interface BenchPlan {
  out: string;
  quick: boolean;
  profile: boolean;
  /**
   * Orders in the pipelined runs of the real server, and the orders (or puts)
   * of the minimal-stack ceiling and of beanstalkd.
   */
  pipelineOrders: number;
  /** Orders in the pipelined ceiling run (trivial server, much faster). */
  ceilingOrders: number;
  /** Orders in the one-connection-per-order runs. */
  connectionOrders: number;
  /** Seconds of the open-loop run. */
  openLoopSeconds: number;
  cpuOrders: number;
  warmOrders: number;
  longOrders: number;
  /** Orders queued on disk behind busy workers in the backlog run. */
  backlogOrders: number;
  idleConnections: number;
}

/** Pipelined runs: 4 connections × 64 in flight. */
export const PIPE = { concurrency: 4, depth: 64 } as const;
/**
 * Simulated work per order in the ingest run: far longer than the run, so
 * that every worker holds one order the whole time and the rest queue.
 */
export const INGEST_WORK_MS = 3_600_000;
/** One connection per order: 32 at once. */
export const CONN = { concurrency: 32 } as const;
/** Parallel efficiency, as the issue states it: 600 orders of 50 ms on 6 workers. */
export const PARALLEL = { orders: 600, workMs: 50, workers: 6 } as const;
/** Milliseconds of `--work-mode cpu` work per order in the scaling runs. */
export const CPU_WORK_MS = 20;
/** The long memory run is split in this many equal segments. */
export const LONG_SEGMENTS = 4;

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

/** A load run's throughput and latency (for beanstalkd, `put`s and their `INSERTED` replies). */
export interface Throughput {
  acceptedPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** One CPU-scaling run: `--work-mode cpu` with `workers` workers, until every order was done. */
export interface ScalingRun {
  workers: number;
  /** From the first send to the last `fecha_fin`. */
  makespanMs: number;
  /** Cores' worth of CPU the worker threads received over the makespan. */
  workerCores: number;
  /** The computation per order the server calibrated at start-up (its log line). */
  iterations: number;
  cpu: CpuUse;
}

/**
 * How much faster `run` finished than `base`, for the same computation:
 * each server calibrates its own iterations per order at start-up, so the
 * makespans are compared per iteration.
 *
 * @example
 * ```ts
 * speedup({ makespanMs: 4000, iterations: 100 }, { makespanMs: 2000, iterations: 100 }); // 2
 * ```
 */
export function speedup(
  base: Pick<ScalingRun, "makespanMs" | "iterations">,
  run: Pick<ScalingRun, "makespanMs" | "iterations">,
): number {
  return (base.makespanMs / base.iterations) / (run.makespanMs / run.iterations);
}

/** beanstalkd's pipelined `put`, in memory, with the CPU while putting; or why it was not measured. */
export type PutReference =
  | (Throughput & { version: string; cpu: CpuUse })
  | { unavailable: string };

/** Every figure of one bench run. */
export interface Measurements {
  plan: BenchPlan;
  /** Logical processors of the machine. */
  cores: number;
  /** The trivial server, pipelined and one connection per order. */
  ceilingPipe: Throughput;
  ceilingConn: Throughput;
  /** The minimal-stack ceiling (`tools/bench/minimal_server.ts`), pipelined, with its CPU. */
  minimalPipe: Throughput & { cpu: CpuUse };
  /** beanstalkd's in-memory `put` at the pipelined shape. */
  beanstalkd: PutReference;
  /**
   * Durable pipelined ingest with every worker busy ({@linkcode INGEST_WORK_MS}),
   * so that admitted orders queue: the target 1.
   */
  ingest: Throughput & { cpu: CpuUse };
  /** Durable pipelined admission with `--work-ms 0` (workers processing meanwhile), with the CPU while sending. */
  admission: Throughput & { cpu: CpuUse };
  /** The same orders until the last one is `listo`, in orders per second. */
  endToEndPerSecond: number;
  /** The open-loop run at `rate` orders per second. */
  openLoop: Throughput & { rate: number };
  /** One connection per order, with the CPU while sending. */
  perConnection: Throughput & { cpu: CpuUse };
  /** Sleep work on {@linkcode PARALLEL}.workers workers: measured and ideal makespan. */
  parallel: { makespanMs: number; idealMs: number; cpu: CpuUse };
  /** CPU scaling, the one-worker run first. */
  scaling: ScalingRun[];
  /** Resident memory before and after opening `connections` idle connections, bytes. */
  idle: { connections: number; beforeBytes: number; afterBytes: number };
  /** The long run: readings after warm-up and after each segment (each after a full GC). */
  long: {
    orders: number;
    rssBytes: number[];
    heapBytes: number[];
    peakBytes: number;
    accepted: number;
    lost: number;
    duplicated: number;
  };
  /**
   * The backlog run: `orders` queued behind busy workers; resident memory
   * then, and after a kill -9 and a restart on the same database.
   */
  backlog: {
    orders: number;
    queuedBytes: number;
    /** Largest resident size while they were sent. */
    peakBytes: number;
    restartedBytes: number;
    /** What the restarted server logged as recovered. */
    recovered: number;
    /** From the restart's spawn to its listening line. */
    restartMs: number;
  };
  /** Main-thread profiles of short repetitions (absent with --skip-profile). */
  profiles: { pipeline?: ProfileSummary; connection?: ProfileSummary };
}
