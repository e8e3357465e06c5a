import assert from "node:assert/strict";
import fc from "fast-check";
import { sampleMeasurements } from "./sample_measurements.ts";
import {
  atLeast,
  atMost,
  type BenchDocument,
  grouped,
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

Deno.test("the results table of a run: efficiency with three digits, every target judged", () => {
  const rows = resultRows(sampleMeasurements());
  const row = (prefix: string) => rows.find((r) => r.label.startsWith(prefix))!;
  assert.equal(rows.length, 11);
  assert.deepEqual(row("5.").ratio, { text: "0.976", value: 0.976 });
  assert.equal(row("5.").target?.met, false);
  assert.equal(row("1.").target?.met, false);
  assert.equal(row("6. CPU scaling, 1 → 2").target?.met, true);
  assert.equal(row("6. CPU scaling, 1 → 4").target, undefined);
  assert.equal(row("7.").target?.text, "≤ 200 MB (190.7 MiB)");
  assert.equal(row("7.").target?.met, true);
  assert.equal(row("7b.").target?.met, true);
  assert.equal(row("Ceiling, pipelined").ratio, undefined);
});

Deno.test("a run that meets the targets says so in the same rows", () => {
  const fast = sampleMeasurements({
    admission: { ...sampleMeasurements().admission, acceptedPerSecond: 120_000, p99Ms: 9 },
    parallel: { ...sampleMeasurements().parallel, makespanMs: 5050 },
  });
  const rows = resultRows(fast);
  assert.equal(rows.find((r) => r.label.startsWith("1."))?.target?.met, true);
  const efficiency = rows.find((r) => r.label.startsWith("5."))!;
  assert.deepEqual([efficiency.ratio?.text, efficiency.target?.met], ["0.990", true]);
});
