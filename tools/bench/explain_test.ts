import assert from "node:assert/strict";
import {
  explainAdmission,
  explainBacklog,
  explainEndToEnd,
  explainIngest,
  explainIntegrity,
  explainMemory,
  explainParallel,
  explainPerConnection,
  explainReferences,
  explainScaling,
  findings,
  interferenceWarnings,
  limitOf,
  methodNotes,
  verdict,
} from "./explain.ts";
import { beanstalkdRun, cpu, sampleMeasurements } from "./sample_measurements.ts";

const sample = sampleMeasurements();
const MIB = 1024 * 1024;

Deno.test("limitOf names the saturated thread, else the full machine, else waiting", () => {
  assert.equal(limitOf(cpu({ serverMain: 0.85 }), 2), "main thread");
  assert.equal(limitOf(cpu({ serverMain: 0.5, load: 0.95 }), 2), "load tool");
  assert.equal(
    limitOf(cpu({ serverMain: 0.7, server: 1.2, load: 0.5, others: 0.2 }), 2),
    "machine",
  );
  assert.equal(limitOf(cpu({ serverMain: 0.3, server: 0.4, load: 0.2 }), 2), "waiting");
});

Deno.test("admission blames the main thread only when it was saturated", () => {
  const busy = explainAdmission(sample);
  assert.match(busy, /busy 0\.85 cores .*: the main thread is the bottleneck\./);
  assert.match(busy, /each commit.s fdatasync of the -wal \(--sync full\) runs off it/);
  const idle = explainAdmission(sampleMeasurements({
    admission: { ...sample.admission, cpu: cpu({ serverMain: 0.4, server: 0.6, load: 0.3 }) },
  }));
  assert.doesNotMatch(idle, /main thread is the bottleneck/);
  assert.doesNotMatch(idle, /fdatasync of the -wal/);
  assert.match(idle, /no thread was busy 80 % of the time, so the limit is waiting/);
  const loadBound = explainAdmission(sampleMeasurements({
    admission: { ...sample.admission, cpu: cpu({ serverMain: 0.6, load: 0.97 }) },
  }));
  assert.match(loadBound, /the load tool, not the server, is the bottleneck/);
});

Deno.test("admission calls SQLite the largest share only when the profile says so", () => {
  assert.match(explainAdmission(sample), /SQLite, the largest share, runs synchronously/);
  const framingLeads = sampleMeasurements({
    profiles: {
      pipeline: {
        samples: 10,
        shares: { "framing (wire/framing.ts)": 0.6, "SQLite (store/sqlite.ts)": 0.2 },
      },
    },
  });
  const text = explainAdmission(framingLeads);
  assert.doesNotMatch(text, /SQLite, the largest share/);
  assert.match(text, /The largest share is framing \(wire\/framing\.ts\)\./);
  assert.doesNotMatch(explainAdmission(sampleMeasurements({ profiles: {} })), /profile/);
});

Deno.test("a verdict says met or not met from the target, in bold when not", () => {
  assert.equal(verdict({ text: "≥ 1.3×", met: true }), "target ≥ 1.3×: met");
  assert.equal(verdict({ text: "≥ 1.3×", met: false }), "target ≥ 1.3×: **not met**");
});

/** The sample with the ingest's rate and p99 replaced. */
function ingestRun(ingest: number, p99Ms: number) {
  return sampleMeasurements({ ingest: { ...sample.ingest, acceptedPerSecond: ingest, p99Ms } });
}

Deno.test("durable ingest states each target against its reference as met or not met, from the figures", () => {
  const short = explainIngest(sample);
  assert.match(short, /35 500 orders\/s with p99 32\.0 ms/);
  assert.match(
    short,
    /Against beanstalkd's in-memory put \(45 000\/s\): 0\.79×, target ≥ 1\.3×: \*\*not met\*\*\./,
  );
  assert.match(
    short,
    /Against the minimal stack \(79 000\/s, p99 20\.0 ms\): 0\.45×, target ≥ 0\.8× with p99 ≤ 15 ms: \*\*not met\*\*\./,
  );
  assert.match(short, /main thread was busy 0\.90 cores.*: the main thread is the bottleneck\./);
  const ahead = explainIngest(ingestRun(66_000, 11));
  assert.match(ahead, /put \(45 000\/s\): 1\.47×, target ≥ 1\.3×: met\./);
  assert.match(ahead, /minimal stack \(.*\): 0\.84×, target ≥ 0\.8× with p99 ≤ 15 ms: met\./);
  assert.doesNotMatch(ahead, /not met/);
  const slowTail = explainIngest(ingestRun(66_000, 18));
  assert.match(slowTail, /put \(45 000\/s\): 1\.47×, target ≥ 1\.3×: met\./);
  assert.match(slowTail, /minimal stack \(.*\): 0\.84×, target .*: \*\*not met\*\*\./);
  const none = explainIngest(sampleMeasurements({ beanstalkd: { unavailable: "no está" } }));
  assert.match(
    none,
    /No beanstalkd figure in this run, so the target against its put cannot be judged\./,
  );
  assert.match(none, /Against the minimal stack \(79 000\/s, p99 20\.0 ms\): 0\.45×/);
});

Deno.test("the references say whether they or their load set their rate", () => {
  const saturated = explainReferences(sample);
  assert.match(saturated, /minimal stack \(79 000 orders\/s\) used 0\.93 cores on its main thread/);
  assert.match(saturated, /its main thread is the limit/);
  assert.match(saturated, /beanstalkd 1\.12 \(45 000 puts\/s, p99 9\.60 ms\) used 0\.97 cores/);
  assert.match(saturated, /beanstalkd itself is the limit\./);
  assert.doesNotMatch(saturated, /flatter/);
  const driverBound = explainReferences(sampleMeasurements({
    minimalPipe: { ...sample.minimalPipe, cpu: cpu({ serverMain: 0.5, server: 0.6, load: 0.95 }) },
    beanstalkd: beanstalkdRun({ cpu: cpu({ serverMain: 0.6, server: 0.6, load: 0.9 }) }),
  }));
  assert.match(
    driverBound,
    /the load tool, not the server, is the bottleneck: the figure is a floor of what this stack allows, and the ratio against it flatters pedidos\./,
  );
  assert.match(
    driverBound,
    /the driver, not beanstalkd, is the limit, so beanstalkd's rate is a floor/,
  );
  const crowded = explainReferences(sampleMeasurements({
    minimalPipe: {
      ...sample.minimalPipe,
      cpu: cpu({ serverMain: 0.5, server: 0.6, load: 0.3, others: 1.1 }),
    },
  }));
  assert.match(
    crowded,
    /all in use \(other processes 1\.10\).*: the figure is a floor of what this stack allows on a quiet machine\./,
  );
  assert.doesNotMatch(crowded, /flatters/);
  const waiting = explainReferences(sampleMeasurements({
    minimalPipe: { ...sample.minimalPipe, cpu: cpu({ serverMain: 0.5, server: 0.6, load: 0.3 }) },
  }));
  assert.match(waiting, /load tool 0\.30: no thread was busy 80 % of the time/);
  assert.doesNotMatch(waiting, /floor/);
  const missing = explainReferences(sampleMeasurements({ beanstalkd: { unavailable: "no está" } }));
  assert.match(missing, /beanstalkd was not measured: no está\./);
});

Deno.test("one connection per order names its own limit", () => {
  assert.match(
    explainPerConnection(sample),
    /0\.39 of the ceiling, 32 connections at a time; target ≥ 0\.8 of the ceiling: \*\*not met\*\*\).*no thread was busy 80 %/,
  );
  const close = explainPerConnection(sampleMeasurements({
    perConnection: { ...sample.perConnection, acceptedPerSecond: 5400 },
  }));
  assert.match(
    close,
    /0\.83 of the ceiling, 32 connections at a time; target ≥ 0\.8 of the ceiling: met\)/,
  );
  const saturated = sampleMeasurements({
    perConnection: { ...sample.perConnection, cpu: cpu({ serverMain: 0.93 }) },
  });
  assert.match(explainPerConnection(saturated), /the main thread is the bottleneck/);
});

Deno.test("end to end says the workers wait for the main thread only when it is saturated and they are not", () => {
  const waiting = explainEndToEnd(sample);
  assert.match(
    waiting,
    /against 21 939 admitted\/s; against beanstalkd's in-memory put: 0\.49×, target ≥ 0\.8×: \*\*not met\*\*\)/,
  );
  assert.match(waiting, /orders finish as fast as they are admitted/);
  assert.match(
    explainEndToEnd(sampleMeasurements({ endToEndPerSecond: 40_000 })),
    /in-memory put: 0\.89×, target ≥ 0\.8×: met\)/,
  );
  assert.match(
    explainEndToEnd(sampleMeasurements({ beanstalkd: { unavailable: "no está" } })),
    /beanstalkd was not measured, so the target against its put cannot be judged in this run/,
  );
  assert.match(waiting, /the workers wait for the main thread/);
  assert.match(waiting, /messages to and from workers are 11 % of the profile and SQLite 54 %/);
  const busyWorkers = explainEndToEnd(sampleMeasurements({
    admission: { ...sample.admission, cpu: cpu({ serverMain: 0.9, serverWorkers: 1.8 }) },
    endToEndPerSecond: 15_000,
  }));
  assert.doesNotMatch(busyWorkers, /wait for the main thread/);
  assert.match(busyWorkers, /finishing runs 32 % behind admission/);
  assert.match(busyWorkers, /the workers are busy, so processing is the limit/);
  const neither = explainEndToEnd(sampleMeasurements({
    admission: { ...sample.admission, cpu: cpu({ serverMain: 0.5, serverWorkers: 0.2 }) },
  }));
  assert.match(neither, /neither the workers nor the main thread \(0\.50 cores\) was saturated/);
});

Deno.test("parallel efficiency states the overhead, and interference only when there was some", () => {
  const text = explainParallel(sample);
  assert.match(text, /\(0\.976\): 122 ms over the ideal, that is 1\.22 ms per order and worker/);
  assert.doesNotMatch(text, /Other processes/);
  const disturbed = explainParallel(sampleMeasurements({
    parallel: { ...sample.parallel, cpu: cpu({ others: 0.6 }) },
  }));
  assert.match(disturbed, /Other processes used 0\.60 cores meanwhile\./);
  const ideal = explainParallel(sampleMeasurements({
    parallel: { ...sample.parallel, makespanMs: 4999 },
  }));
  assert.match(ideal, /no time over the ideal could be measured/);
});

Deno.test("CPU scaling compares makespans per calibrated iteration, and flags more workers than cores finishing sooner", () => {
  const text = explainScaling(sample);
  assert.match(text, /2 workers finished 1\.79× faster than 1\): short of the 2× ideal/);
  assert.match(
    text,
    /the 2 workers received 1\.74 cores, while the server's main thread used 0\.10/,
  );
  assert.match(
    text,
    /with 4 workers on 2 cores the makespan went 1 407 → 1 450 ms \(0\.97×\), no faster/,
  );
  const run = (workers: number, makespanMs: number, iterations = 1000) => ({
    workers,
    makespanMs,
    iterations,
    workerCores: Math.min(workers, 8),
    cpu: cpu(),
  });
  const ideal = explainScaling(sampleMeasurements({
    cores: 8,
    scaling: [run(1, 2400), run(2, 1200), run(8, 300)],
  }));
  assert.match(ideal, /\(2 workers finished 2\.00× faster than 1\): close to the 2× ideal\./);
  assert.doesNotMatch(ideal, /no faster/, "8 workers on 8 cores are not oversubscribed");
  const calibrated = explainScaling(sampleMeasurements({
    scaling: [run(1, 4000, 100), run(2, 1000, 50), run(4, 1000, 50)],
  }));
  assert.match(
    calibrated,
    /2 workers finished 2\.00× faster/,
    "half the iterations, half the time",
  );
  const wallClock = explainScaling(sampleMeasurements({
    scaling: [run(1, 4000), run(2, 2000), run(4, 1200)],
  }));
  assert.match(wallClock, /\(1\.67×\), \*\*faster\*\*, which a fixed computation should not be/);
});

Deno.test("memory says nothing accumulates in JavaScript only when the heap stayed flat", () => {
  const flat = explainMemory(sample);
  assert.match(flat, /15\.9 KiB per idle connection/);
  assert.match(flat, /nothing accumulates in JavaScript, so the resident growth is native memory/);
  const growing = explainMemory(sampleMeasurements({
    long: { ...sample.long, heapBytes: [8, 10, 12, 14, 16].map((mib) => mib * MIB) },
  }));
  assert.doesNotMatch(growing, /nothing accumulates/);
  assert.match(growing, /\(2\.00×\): the heap grew, so something accumulates in JavaScript\./);
  const steady = explainMemory(sampleMeasurements({
    long: { ...sample.long, rssBytes: [94, 94, 94.5, 94, 94.2].map((mib) => mib * MIB) },
  }));
  assert.match(steady, /nothing accumulates in JavaScript, and resident memory stayed flat too\./);
});

Deno.test("integrity reports losses in bold and a clean run plainly", () => {
  assert.match(explainIntegrity(sample), /lost: 0, duplicated: 0 over 1 000 000 acknowledged/);
  const bad = explainIntegrity(sampleMeasurements({ long: { ...sample.long, lost: 3 } }));
  assert.match(bad, /\*\*lost: 3, duplicated: 0\*\*/);
});

Deno.test("the fixed sentences of old are gone from a run that contradicts them", () => {
  const contrary = sampleMeasurements({
    ingest: { ...sample.ingest, cpu: cpu({ serverMain: 0.4 }) },
    admission: { ...sample.admission, cpu: cpu({ serverMain: 0.3, serverWorkers: 1.7 }) },
    long: { ...sample.long, heapBytes: [8, 9, 10, 11, 12].map((mib) => mib * MIB) },
  });
  const text = findings(contrary).join("\n");
  for (
    const sentence of [
      "the main thread is the bottleneck",
      "the workers wait for the main thread",
      "nothing accumulates in JavaScript",
    ]
  ) {
    assert.doesNotMatch(text, new RegExp(sentence));
  }
  assert.equal(findings(contrary).length, 10);
});

Deno.test("interference warnings come from the CPU readings, one per disturbed measure", () => {
  const warnings = interferenceWarnings([
    { label: "Quiet", use: cpu({ others: 0.1 }) },
    { label: "Open loop at 11 000/s", use: cpu({ others: 0.32 }) },
  ]);
  assert.deepEqual(warnings, [
    'During "Open loop at 11 000/s" other processes on the machine used 0.32 cores: that figure ' +
    "may be worse than this machine gives without interference.",
  ]);
});

Deno.test("the method quotes the plan's counts and the load tool's module", () => {
  const method = methodNotes(sample.plan).join("\n");
  assert.match(method, /`tools\/load\/run\.ts`/);
  assert.match(
    method,
    /300 000 orders against the real server and the minimal stack \(and as many puts to beanstalkd\), 500 000 against the trivial server/,
  );
  assert.match(method, /Durable ingest runs with `--work-ms 3600000 --drain-ms 0`/);
  assert.match(method, /jobs in memory \(no `-b`, so no binlog and no fsync\)/);
  assert.match(method, /a thread busy 0\.80 cores or more is named the bottleneck/);
});

Deno.test("the backlog finding is computed from the run's readings", () => {
  const sample = sampleMeasurements();
  const text = explainBacklog(sample);
  assert.match(text, /1 000 000 orders queued behind busy workers the server held 165\.4 MiB/);
  assert.match(text, /93\.8 bytes per queued order above an idle server's 75\.9 MiB/);
  assert.match(text, /counted all 1 000 000 orders as recovered, was listening after 412 ms/);
  const partial = explainBacklog(
    sampleMeasurements({ backlog: { ...sample.backlog, recovered: 10 } }),
  );
  assert.match(partial, /10 of 1 000 000 orders \(\*\*some were not\*\*\)/);
});
