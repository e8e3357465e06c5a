/**
 * The figures of a real bench run (2 cores, the BENCHMARKS.md of November
 * 2026, with the references of issue 10's own table: the minimal stack,
 * beanstalkd and ingest with busy workers) as plain values, for the tests
 * of the tables and the explanations: each test changes the figures its
 * branch depends on.
 *
 * @module
 */
import type { CpuUse, Measurements, PutReference } from "./figures.ts";

const MIB = 1024 * 1024;

/** CPU use with every reading given. */
export function cpu(use: Partial<CpuUse> = {}): CpuUse {
  return { serverMain: 0.5, serverWorkers: 0.1, server: 0.7, load: 0.2, others: 0, ...use };
}

/** beanstalkd measured: the sample's put run, with some figures replaced. */
export function beanstalkdRun(
  overrides: Partial<Exclude<PutReference, { unavailable: string }>> = {},
): PutReference {
  return {
    version: "beanstalkd 1.12",
    acceptedPerSecond: 45_000,
    p50Ms: 5.4,
    p99Ms: 9.6,
    maxMs: 14,
    cpu: cpu({ serverMain: 0.97, serverWorkers: 0, server: 0.97, load: 0.41, others: 0.05 }),
    ...overrides,
  };
}

/** A profile summary where SQLite leads, as in the pipelined run. */
function sqliteLeads() {
  return {
    samples: 4698,
    shares: {
      "SQLite (store/sqlite.ts)": 0.539,
      "messages to and from workers (orders/pool.ts)": 0.105,
      "validation (wire/schema.ts, zod)": 0.077,
      "framing (wire/framing.ts)": 0.058,
      "connection and sockets (server/connection.ts)": 0.036,
      "order service, group commit, replies": 0.109,
      "runtime (timers, promises, I/O)": 0.028,
      "garbage collection": 0.02,
      "idle": 0.029,
    },
  };
}

/** The sample run, with some figures replaced. */
export function sampleMeasurements(overrides: Partial<Measurements> = {}): Measurements {
  return {
    plan: {
      out: "BENCHMARKS.md",
      quick: false,
      profile: true,
      pipelineOrders: 300_000,
      ceilingOrders: 500_000,
      connectionOrders: 20_000,
      openLoopSeconds: 5,
      cpuOrders: 120,
      warmOrders: 30_000,
      longOrders: 1_000_000,
      backlogOrders: 1_000_000,
      idleConnections: 5000,
    },
    cores: 2,
    ceilingPipe: { acceptedPerSecond: 375_579, p50Ms: 0.8, p99Ms: 2.57, maxMs: 9 },
    ceilingConn: { acceptedPerSecond: 6507, p50Ms: 4, p99Ms: 16.1, maxMs: 30 },
    minimalPipe: {
      acceptedPerSecond: 79_000,
      p50Ms: 3.1,
      p99Ms: 20.0,
      maxMs: 31,
      cpu: cpu({ serverMain: 0.93, serverWorkers: 0, server: 0.97, load: 0.55, others: 0.1 }),
    },
    beanstalkd: beanstalkdRun(),
    ingest: {
      acceptedPerSecond: 35_500,
      p50Ms: 6.8,
      p99Ms: 32.0,
      maxMs: 45,
      cpu: cpu({ serverMain: 0.9, serverWorkers: 0, server: 1.01, load: 0.12, others: 0.1 }),
    },
    admission: {
      acceptedPerSecond: 21_939,
      p50Ms: 11,
      p99Ms: 24.0,
      maxMs: 40,
      cpu: cpu({ serverMain: 0.85, serverWorkers: 0.14, server: 1.06, load: 0.08, others: 0.12 }),
    },
    endToEndPerSecond: 21_938,
    openLoop: { acceptedPerSecond: 11_000, p50Ms: 10.7, p99Ms: 53.4, maxMs: 67.9, rate: 11_000 },
    perConnection: {
      acceptedPerSecond: 2519,
      p50Ms: 12,
      p99Ms: 27.5,
      maxMs: 50,
      cpu: cpu({ serverMain: 0.68, serverWorkers: 0.08, server: 0.83, load: 0.38, others: 0.17 }),
    },
    parallel: { makespanMs: 5122, idealMs: 5000, cpu: cpu({ others: 0.03 }) },
    scaling: [
      {
        workers: 1,
        makespanMs: 2516,
        iterations: 5_300_000,
        workerCores: 0.97,
        cpu: cpu({ serverMain: 0.07 }),
      },
      {
        workers: 2,
        makespanMs: 1407,
        iterations: 5_300_000,
        workerCores: 1.74,
        cpu: cpu({ serverMain: 0.1 }),
      },
      {
        workers: 4,
        makespanMs: 1450,
        iterations: 5_300_000,
        workerCores: 1.76,
        cpu: cpu({ serverMain: 0.16 }),
      },
    ],
    idle: { connections: 5000, beforeBytes: 75.9 * MIB, afterBytes: 153.4 * MIB },
    backlog: {
      orders: 1_000_000,
      queuedBytes: 165.4 * MIB,
      peakBytes: 201.2 * MIB,
      restartedBytes: 84.8 * MIB,
      recovered: 1_000_000,
      restartMs: 412,
    },
    long: {
      orders: 1_000_000,
      rssBytes: [94.3, 95.2, 97.3, 98.7, 100.3].map((mib) => mib * MIB),
      heapBytes: [8.7, 8.7, 8.7, 8.8, 8.8].map((mib) => mib * MIB),
      peakBytes: 192 * MIB,
      accepted: 1_000_000,
      lost: 0,
      duplicated: 0,
    },
    profiles: { pipeline: sqliteLeads() },
    ...overrides,
  };
}
