import assert from "node:assert/strict";
import {
  explainAdmission,
  explainEndToEnd,
  explainIntegrity,
  explainMemory,
  explainParallel,
  explainPerConnection,
  explainScaling,
  findings,
  interferenceWarnings,
  limitOf,
  methodNotes,
} from "./explain.ts";
import { cpu, sampleMeasurements } from "./sample_measurements.ts";

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
  assert.match(busy, /every commit waits for its fsync on that thread/);
  const idle = explainAdmission(sampleMeasurements({
    admission: { ...sample.admission, cpu: cpu({ serverMain: 0.4, server: 0.6, load: 0.3 }) },
  }));
  assert.doesNotMatch(idle, /main thread is the bottleneck/);
  assert.doesNotMatch(idle, /every commit waits for its fsync/);
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

Deno.test("one connection per order names its own limit", () => {
  assert.match(explainPerConnection(sample), /0\.39 of the ceiling.*no thread was busy 80 %/);
  const saturated = sampleMeasurements({
    perConnection: { ...sample.perConnection, cpu: cpu({ serverMain: 0.93 }) },
  });
  assert.match(explainPerConnection(saturated), /the main thread is the bottleneck/);
});

Deno.test("end to end says the workers wait for the main thread only when it is saturated and they are not", () => {
  const waiting = explainEndToEnd(sample);
  assert.match(waiting, /orders finish as fast as they are admitted/);
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

Deno.test("CPU scaling says the makespan keeps falling only when it outruns the CPU received", () => {
  const falling = explainScaling(sample);
  assert.match(falling, /2 workers received 1\.79× the CPU of 1/);
  assert.match(
    falling,
    /short of the 2× ideal: the 2 workers received 1\.74 cores, while the server's main thread used 0\.10/,
  );
  assert.match(
    falling,
    /keeps falling with 4 workers \(2 516 → 765 ms\) although they only get 1\.56/,
  );
  const honest = explainScaling(sampleMeasurements({
    cores: 8,
    scaling: [
      { workers: 1, makespanMs: 2400, workerCores: 1, cpu: cpu() },
      { workers: 2, makespanMs: 1200, workerCores: 2, cpu: cpu() },
      { workers: 16, makespanMs: 300, workerCores: 8, cpu: cpu() },
    ],
  }));
  assert.doesNotMatch(honest, /keeps falling/);
  assert.match(honest, /\(2 workers received 2\.00× the CPU of 1\): close to the 2× ideal\./);
  assert.match(honest, /rather than the makespan \(2 400 → 300 ms with 16 workers\)/);
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
  assert.equal(findings(contrary).length, 7);
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
  assert.match(method, /300 000 orders \(500 000 against the ceiling\)/);
  assert.match(method, /a thread busy 0\.80 cores or more is named the bottleneck/);
});
