import assert from "node:assert/strict";
import fc from "fast-check";
import { beanstalkdRun, sampleMeasurements } from "./sample_measurements.ts";
import {
  atLeast,
  atMost,
  type BenchDocument,
  grouped,
  ratioTargets,
  renderBenchmarks,
  resultRows,
  shownCount,
  shownFixed,
  shownMebibytes,
  shownMs,
} from "./tables.ts";

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
        ratio: shownFixed(0.1, 2),
        target: { text: "≥ 50", met: false },
      },
      { label: "2. B", value: "1 ms", ceiling: "—" },
      {
        label: "3. C",
        value: "ok",
        ceiling: "—",
        ratio: shownFixed(0.9796, 3),
        target: { text: "≥ 0.98", met: true },
      },
    ],
    cpu: [{
      label: "A",
      use: { serverMain: 0.9, serverWorkers: 0.1, server: 1, load: 0.5, others: 0 },
    }],
    profiles: [{
      label: "A",
      summary: { samples: 10, shares: { "SQLite (store/sqlite.ts)": 0.4, idle: 0.6 } },
      mainThreadBusy: 0.9,
    }],
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
  assert.match(markdown, /\| 3\. C \| ok \| — \| 0\.980 \| ≥ 0\.98 \| yes \|/);
  assert.match(markdown, /\| A \| 0\.90 \| 0\.10 \| 1\.00 \| 0\.50 \| 0\.00 \|/);
  assert.match(markdown, /\| SQLite \(store\/sqlite\.ts\) \| 40\.0 % \|/);
  assert.match(markdown, /## Warnings\n\n- Something else ran\./);
  assert.match(markdown, /## What limits each figure\n\n- \*\*A\*\* is limited by X\./);
  assert.match(markdown, /## How it was measured\n\n- Measured like this\./);
});

Deno.test("a figure shown with more digits is judged on those digits, so the verdict agrees", () => {
  // The row that showed "0.98" beside "≥ 0.98" and "no": 0.976 now shows as 0.976.
  const low = shownFixed(0.976, 3);
  assert.deepEqual([low.text, atLeast(low, 0.98).met], ["0.976", false]);
  const rounded = shownFixed(0.9796, 3);
  assert.deepEqual([rounded.text, atLeast(rounded, 0.98).met], ["0.980", true]);
  assert.equal(atLeast(shownFixed(NaN, 3), 0.98).met, false, "an unmeasured figure meets nothing");
  assert.equal(shownFixed(NaN, 3).text, "—");
});

Deno.test("counts, milliseconds and MiB are judged as shown too", () => {
  const rate = shownCount(99_999.6);
  assert.deepEqual([rate.text, atLeast(rate, 100_000).met], ["100 000", true]);
  const p99 = shownMs(15.04);
  assert.deepEqual([p99.text, atMost(p99, 15).met], ["15.0 ms", true]);
  assert.equal(atMost(shownMs(15.06), 15).met, false);
  const memory = shownMebibytes(190.76 * 1024 * 1024);
  assert.deepEqual([memory.text, atMost(memory, 190.7).met], ["190.8 MiB", false]);
});

Deno.test("for any figure, met is exactly the shown number compared with the bound", () => {
  fc.assert(
    fc.property(
      fc.double({ min: 0, max: 2, noNaN: true }),
      fc.integer({ min: 0, max: 4 }),
      (value, digits) => {
        const shown = shownFixed(value, digits);
        assert.equal(atLeast(shown, 0.98).met, Number(shown.text) >= 0.98);
        assert.equal(atMost(shown, 1.1).met, Number(shown.text) <= 1.1);
      },
    ),
  );
});

Deno.test("the results table of a run: references, ratios against them, every target judged", () => {
  const rows = resultRows(sampleMeasurements());
  const row = (part: string) => {
    const found = rows.filter((r) => r.label.includes(part));
    assert.equal(found.length, 1, `one row with ${part}`);
    return found[0]!;
  };
  assert.equal(rows.length, 17);
  assert.equal(row("Ceiling, pipelined: minimal stack").value, "79 000 orders/s · p99 20.0 ms");
  const reference = row("Reference: beanstalkd 1.12 put, in memory (4 connections × 64 in flight)");
  assert.equal(reference.value, "45 000 puts/s · p99 9.60 ms");
  assert.equal(reference.target, undefined);
  const vsBeanstalkd = row(
    "1. Durable ingest, pipelined (--sync full; workers busy, orders queue; 4 connections × 64 in flight), against beanstalkd's put",
  );
  assert.equal(vsBeanstalkd.value, "35 500 orders/s · p99 32.0 ms");
  assert.equal(vsBeanstalkd.ceiling, "45 000 puts/s (beanstalkd)");
  assert.deepEqual(vsBeanstalkd.ratio, { text: "0.79", value: 0.79 });
  assert.deepEqual(vsBeanstalkd.target, { text: "≥ 1.3×", met: false });
  const vsMinimal = row("against the minimal stack");
  assert.equal(vsMinimal.ceiling, "79 000 orders/s (minimal stack)");
  assert.deepEqual(vsMinimal.ratio, { text: "0.45", value: 0.45 });
  assert.deepEqual(vsMinimal.target, { text: "≥ 0.8× with p99 ≤ 15 ms", met: false });
  const endToEnd = row("2. End to end");
  assert.equal(endToEnd.value, "21 938 orders/s");
  assert.deepEqual(endToEnd.ratio, { text: "0.49", value: 0.49 });
  assert.deepEqual(endToEnd.target, { text: "≥ 0.8×", met: false });
  assert.deepEqual(row("3. Admission, one connection per order").ratio?.text, "0.39");
  assert.deepEqual(row("3. Admission").target, { text: "≥ 0.8 of the ceiling", met: false });
  assert.equal(row("Admission, pipelined, durable, --work-ms 0").ratio?.text, "0.28");
  assert.equal(row("Admission, pipelined, durable, --work-ms 0").target, undefined);
  const efficiency = row("5. No regression: parallel efficiency");
  assert.deepEqual(efficiency.ratio, { text: "0.976", value: 0.976 });
  assert.equal(efficiency.target?.met, false);
  const twoWorkers = row("CPU scaling, 1 → 2 workers on 2 cores");
  assert.equal(twoWorkers.value.slice(0, 13), "1.79× faster ");
  assert.equal(twoWorkers.target?.met, true);
  const fourWorkers = row("CPU scaling, 2 → 4 workers on 2 cores");
  assert.deepEqual(fourWorkers.target, { text: "no faster than 2 (≤ 1.05×)", met: true });
  assert.equal(row("idle connections").target?.text, "≤ 200 MB (190.7 MiB)");
  assert.equal(row("idle connections").target?.met, true);
  assert.equal(row("memory across").target?.met, true);
  assert.equal(row("Ceiling, pipelined: trivial").ratio, undefined);
  const queued = rows.find((r) => r.label.endsWith("1 000 000 orders queued (workers busy)"))!;
  assert.equal(queued.value, "165.4 MiB (peak while sending 201.2 MiB)");
  assert.deepEqual(queued.target, { text: "≤ 250 MB (238.4 MiB)", met: true });
  const restarted = row("after kill -9 and a restart");
  assert.equal(restarted.value, "84.8 MiB; 1 000 000 recovered, listening after 412 ms");
  assert.equal(restarted.target?.met, true);
});

Deno.test("a backlog that holds memory per queued order fails target 4", () => {
  const sample = sampleMeasurements();
  const rows = resultRows(
    sampleMeasurements({ backlog: { ...sample.backlog, queuedBytes: 238.5 * 1024 * 1024 } }),
  );
  const queued = rows.find((r) => r.label.endsWith("orders queued (workers busy)"))!;
  assert.equal(queued.target?.met, false, "238.5 MiB is over 250 MB");
  const restarted = rows.find((r) => r.label.includes("after kill -9"))!;
  assert.equal(restarted.target?.met, true);
});

/** The sample run with the ingest, references and other figures replaced. */
function withFigures(figures: {
  ingest?: number;
  ingestP99?: number;
  minimal?: number;
  beanstalkd?: number;
  endToEnd?: number;
  perConnection?: number;
}) {
  const sample = sampleMeasurements();
  return sampleMeasurements({
    ingest: {
      ...sample.ingest,
      acceptedPerSecond: figures.ingest ?? sample.ingest.acceptedPerSecond,
      p99Ms: figures.ingestP99 ?? sample.ingest.p99Ms,
    },
    minimalPipe: {
      ...sample.minimalPipe,
      acceptedPerSecond: figures.minimal ?? sample.minimalPipe.acceptedPerSecond,
    },
    beanstalkd: beanstalkdRun(
      figures.beanstalkd === undefined ? {} : { acceptedPerSecond: figures.beanstalkd },
    ),
    endToEndPerSecond: figures.endToEnd ?? sample.endToEndPerSecond,
    perConnection: {
      ...sample.perConnection,
      acceptedPerSecond: figures.perConnection ?? sample.perConnection.acceptedPerSecond,
    },
    parallel: { ...sample.parallel, makespanMs: 5050 },
  });
}

Deno.test("a run that meets the targets says so in the same rows", () => {
  const rows = resultRows(withFigures({
    ingest: 60_000,
    ingestP99: 9,
    minimal: 70_000,
    beanstalkd: 45_000,
    endToEnd: 40_000,
    perConnection: 5500,
  }));
  const judged = (part: string) => {
    const row = rows.find((r) => r.label.includes(part))!;
    return [row.ratio?.text, row.target?.met];
  };
  assert.deepEqual(judged("against beanstalkd's put"), ["1.33", true]);
  assert.deepEqual(judged("against the minimal stack"), ["0.86", true]);
  assert.deepEqual(judged("2. End to end"), ["0.89", true]);
  assert.deepEqual(judged("3. Admission"), ["0.85", true]);
  assert.deepEqual(judged("parallel efficiency"), ["0.990", true]);
});

Deno.test("the ratio targets are judged on the ratios as shown, at their bounds", () => {
  // 58 480 / 45 000 = 1.2996: shown as 1.30, so met, as the reader sees it.
  const atBound = ratioTargets(withFigures({ ingest: 58_480, beanstalkd: 45_000 }));
  assert.deepEqual(atBound.ingestVsBeanstalkd, {
    ratio: { text: "1.30", value: 1.3 },
    target: { text: "≥ 1.3×", met: true },
  });
  const below = ratioTargets(withFigures({ ingest: 58_270, beanstalkd: 45_000 }));
  assert.deepEqual([below.ingestVsBeanstalkd?.ratio.text, below.ingestVsBeanstalkd?.target.met], [
    "1.29",
    false,
  ]);
  const endToEnd = ratioTargets(withFigures({ endToEnd: 35_900, beanstalkd: 45_000 }));
  assert.deepEqual(
    [endToEnd.endToEndVsBeanstalkd?.ratio.text, endToEnd.endToEndVsBeanstalkd?.target.met],
    ["0.80", true],
  );
});

Deno.test("the minimal-stack target needs both the ratio and the p99", () => {
  const fastButSlowTail = ratioTargets(withFigures({ ingest: 70_000, ingestP99: 15.06 }));
  assert.deepEqual(fastButSlowTail.ingestVsMinimal.ratio.text, "0.89");
  assert.equal(fastButSlowTail.ingestVsMinimal.target.met, false, "p99 15.1 ms > 15 ms");
  const quickButSlow = ratioTargets(withFigures({ ingest: 60_000, ingestP99: 8 }));
  assert.equal(quickButSlow.ingestVsMinimal.target.met, false, "0.76× < 0.8×");
  const both = ratioTargets(withFigures({ ingest: 70_000, ingestP99: 15.04 }));
  assert.equal(both.ingestVsMinimal.target.met, true, "p99 shown as 15.0 ms");
});

Deno.test("without beanstalkd the rows against it say so and judge nothing, the others still judge", () => {
  const rows = resultRows(sampleMeasurements({
    beanstalkd: { unavailable: "beanstalkd no está instalado (apt-get install -y beanstalkd)" },
  }));
  assert.equal(rows.length, 17);
  const reference = rows.find((r) => r.label.startsWith("Reference:"))!;
  assert.equal(
    reference.label,
    "Reference: beanstalkd put, in memory (4 connections × 64 in flight)",
  );
  assert.equal(
    reference.value,
    "not measured: beanstalkd no está instalado (apt-get install -y beanstalkd)",
  );
  for (const part of ["against beanstalkd's put", "2. End to end"]) {
    const row = rows.find((r) => r.label.includes(part))!;
    assert.equal(row.ceiling, "— (beanstalkd not measured)");
    assert.equal(row.ratio, undefined);
    assert.equal(row.target, undefined);
  }
  assert.equal(rows.find((r) => r.label.includes("against the minimal stack"))!.target?.met, false);
  const markdown = renderBenchmarks({
    machine: { cores: 2, model: "x", memoryBytes: 1, os: "linux", deno: "2" },
    date: "d",
    durationMs: 1,
    command: "deno task bench",
    loadAverage: "0",
    rows,
    cpu: [],
    profiles: [],
    findings: [],
    method: [],
    warnings: [],
  });
  assert.match(markdown, /\| — \(beanstalkd not measured\) \| — \| — \| — \|/);
});
