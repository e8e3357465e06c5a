import assert from "node:assert/strict";
import {
  type BenchDocument,
  type CpuProfile,
  grouped,
  parseCpuInfo,
  parseMachineCpu,
  parseThreadStat,
  PROFILE_CATEGORIES,
  readKilobytes,
  renderBenchmarks,
  summarizeProfile,
} from "./load_bench.ts";

Deno.test("a thread's stat line gives its name and user plus system seconds", () => {
  const line = "24435 (V8 DefaultWorke) S 1 2 3 4 5 6 7 8 9 10 150 50 0 0 20 0 1 0 9 9 9";
  assert.deepEqual(parseThreadStat(line), { name: "V8 DefaultWorke", seconds: 2 });
});

Deno.test("a name holding parentheses and spaces does not shift the fields", () => {
  const line = "7 (a) b (c)) R 1 2 3 4 5 6 7 8 9 10 300 100 0 0 20 0 1 0";
  assert.deepEqual(parseThreadStat(line), { name: "a) b (c)", seconds: 4 });
  assert.throws(() => parseThreadStat("garbage"), Error);
});

Deno.test("machine CPU counts everything but idle and I/O wait as busy", () => {
  const stat = "cpu  100 10 50 800 40 0 0 0 0 0\ncpu0 50 5 25 400 20 0 0 0 0 0\nintr 1\n";
  assert.deepEqual(parseMachineCpu(stat), { busy: 1.6, total: 10 });
  assert.throws(() => parseMachineCpu("intr 1\n"), Error);
});

Deno.test("kilobyte fields are read in bytes, and a missing one is an error", () => {
  const status = "Name:\tdeno\nVmHWM:\t  120000 kB\nVmRSS:\t   74748 kB\n";
  assert.equal(readKilobytes(status, "VmRSS"), 74748 * 1024);
  assert.equal(readKilobytes(status, "VmHWM"), 120000 * 1024);
  assert.equal(readKilobytes("MemTotal:       24684148 kB\n", "MemTotal"), 24684148 * 1024);
  assert.throws(() => readKilobytes(status, "VmSwap"), Error);
});

Deno.test("cpuinfo gives the model and counts the processors", () => {
  const text = "processor\t: 0\nmodel name\t: AMD EPYC\n\nprocessor\t: 1\nmodel name\t: AMD EPYC\n";
  assert.deepEqual(parseCpuInfo(text), { model: "AMD EPYC", processors: 2 });
  assert.deepEqual(parseCpuInfo("processor\t: 0\nHardware\t: BCM2835\n"), {
    model: "BCM2835",
    processors: 1,
  });
});

/** A profile tree: root → timers → group_commit → store → (native run); root → framing; idle. */
function sampleProfile(): CpuProfile {
  const frame = (functionName: string, url = "") => ({ functionName, url });
  return {
    nodes: [
      { id: 1, callFrame: frame("(root)"), children: [2, 6, 7, 8] },
      { id: 2, callFrame: frame("processTimers", "ext:core/02_timers.js"), children: [3] },
      { id: 3, callFrame: frame("flush", "file:///p/lib/store/group_commit.ts"), children: [4] },
      { id: 4, callFrame: frame("commit", "file:///p/lib/store/sqlite.ts"), children: [5] },
      { id: 5, callFrame: frame("run") },
      { id: 6, callFrame: frame("push", "file:///p/lib/wire/framing.ts") },
      { id: 7, callFrame: frame("(idle)") },
      { id: 8, callFrame: frame("(garbage collector)") },
    ],
    samples: [5, 5, 5, 4, 3, 6, 7, 7, 8, 2],
  };
}

Deno.test("each sample counts for the innermost known part of the server on its stack", () => {
  const summary = summarizeProfile(sampleProfile());
  assert.equal(summary.samples, 10);
  assert.equal(
    summary.shares["SQLite (store/sqlite.ts)"],
    0.4,
    "native run under store.ts is SQLite",
  );
  assert.equal(summary.shares["order service, group commit, replies"], 0.1);
  assert.equal(summary.shares["framing (wire/framing.ts)"], 0.1);
  assert.equal(summary.shares["idle"], 0.2);
  assert.equal(summary.shares["garbage collection"], 0.1);
  assert.equal(summary.shares["runtime (timers, promises, I/O)"], 0.1);
  const total = PROFILE_CATEGORIES.reduce((sum, c) => sum + (summary.shares[c] ?? 0), 0);
  assert.ok(Math.abs(total - 1) < 1e-9);
});

Deno.test("an empty profile has all shares zero", () => {
  const summary = summarizeProfile({ nodes: [], samples: [] });
  assert.equal(summary.samples, 0);
  for (const category of PROFILE_CATEGORIES) assert.equal(summary.shares[category], 0);
});

Deno.test("large counts are grouped by thousands", () => {
  assert.equal(grouped(1234567.4), "1 234 567");
  assert.equal(grouped(999), "999");
  assert.equal(grouped(NaN), "—");
});

Deno.test("the document shows the machine, every row with its ratio and verdict, and the method", () => {
  const doc: BenchDocument = {
    machine: {
      cores: 2,
      model: "AMD EPYC",
      memoryBytes: 24 * 1024 ** 3,
      os: "linux x86_64",
      deno: "2.9.6",
    },
    date: "2026-11-28T08:00:00.000Z",
    durationMs: 125_000,
    command: "deno task bench",
    loadAverage: "0.10 0.20 0.30",
    rows: [
      {
        label: "1. A",
        value: "10 orders/s",
        ceiling: "100 orders/s",
        ratio: 0.1,
        target: "≥ 50",
        met: false,
      },
      { label: "2. B", value: "1 ms", ceiling: "—", ratio: undefined, target: "—", met: undefined },
      { label: "3. C", value: "ok", ceiling: "—", ratio: 1, target: "≥ 1", met: true },
    ],
    cpu: [{
      label: "A",
      use: { serverMain: 0.9, serverWorkers: 0.1, server: 1, load: 0.5, others: 0 },
    }],
    profiles: [{ label: "A", summary: summarizeProfile(sampleProfile()), mainThreadBusy: 0.9 }],
    findings: ["**A** is limited by X."],
    method: ["Measured like this."],
    warnings: ["Something else ran."],
  };
  const markdown = renderBenchmarks(doc);
  assert.match(markdown, /^# Benchmarks\n/);
  assert.match(markdown, /Written by `deno task bench` on 2026-11-28T08:00:00.000Z, in 2 min 5 s/);
  assert.match(markdown, /\| Cores \| 2 \|/);
  assert.match(markdown, /\| CPU \| AMD EPYC \|/);
  assert.match(markdown, /\| Memory \| 24.0 GiB \|/);
  assert.match(markdown, /\| Deno \| 2.9.6 \|/);
  assert.match(
    markdown,
    /\| 1\. A \| 10 orders\/s \| 100 orders\/s \| 0\.10 \| ≥ 50 \| \*\*no\*\* \|/,
  );
  assert.match(markdown, /\| 2\. B \| 1 ms \| — \| — \| — \| — \|/);
  assert.match(markdown, /\| 3\. C \| ok \| — \| 1\.00 \| ≥ 1 \| yes \|/);
  assert.match(markdown, /\| A \| 0\.90 \| 0\.10 \| 1\.00 \| 0\.50 \| 0\.00 \|/);
  assert.match(markdown, /\| SQLite \(store\/sqlite\.ts\) \| 40\.0 % \|/);
  assert.match(markdown, /## Warnings\n\n- Something else ran\./);
  assert.match(markdown, /## What limits each figure\n\n- \*\*A\*\* is limited by X\./);
  assert.match(markdown, /## How it was measured\n\n- Measured like this\./);
});
