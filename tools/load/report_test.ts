import assert from "node:assert/strict";
import fc from "fast-check";
import { buildReport, renderReport, summarizeLatency, Tally } from "./report.ts";
import { Histogram } from "../../lib/stats/histogram.ts";

const INFO = {
  target: "127.0.0.1:8888",
  mode: "pipeline" as const,
  loop: "cerrado" as const,
  concurrency: 2,
  depth: 8,
  startedAt: 0,
  elapsedMs: 2000,
  toolCpu: {
    seconds: 0.4,
    usPerOrder: 40,
    cores: 0.2,
    threads: 1,
    cpus: 2,
    loopLagMs: 0,
    loopLagMaxMs: 1,
    saturation: [],
  },
};

Deno.test("every order ends as exactly one of accepted, rejected or error", () => {
  fc.assert(fc.property(
    fc.array(fc.constantFrom("ok", "limite", "interno", "reset", "timeout"), { maxLength: 200 }),
    (outcomes) => {
      const tally = new Tally();
      for (const outcome of outcomes) {
        tally.sent("valido");
        if (outcome === "ok") tally.reply("valido", { tipo: "ok", id: 1 }, 1);
        else if (outcome === "reset" || outcome === "timeout") tally.error(outcome);
        else tally.reply("valido", { tipo: "error", codigo: outcome }, 1);
      }
      const report = buildReport(tally, INFO);
      assert.equal(report.sent, report.accepted + report.rejectedTotal + report.errorsTotal);
      assert.equal(
        report.rejectedTotal,
        Object.values(report.rejected).reduce((a, b) => a + b, 0),
      );
      assert.equal(report.errorsTotal, Object.values(report.errors).reduce((a, b) => a + b, 0));
      assert.equal(tally.outstanding, 0);
    },
  ));
});

Deno.test("invalid messages count as answered only with the codigo their fault calls for", () => {
  const tally = new Tally();
  for (
    const kind of ["json_invalido", "pedido_invalido", "json_invalido", "pedido_invalido"] as const
  ) {
    tally.sent(kind);
  }
  tally.reply("json_invalido", { tipo: "error", codigo: "json_invalido" }, 1);
  tally.reply("pedido_invalido", { tipo: "error", codigo: "pedido_invalido" }, 1);
  tally.reply("json_invalido", { tipo: "error", codigo: "pedido_invalido" }, 1);
  tally.reply("pedido_invalido", { tipo: "ok", id: 3 }, 1);
  tally.sent("valido");
  tally.reply("valido", { tipo: "error", codigo: "pedido_invalido" }, 1);
  const report = buildReport(tally, INFO);
  assert.deepEqual(report.bad, { sent: 4, answered: 2, wrong: 2 });
  assert.equal(
    report.unexpected,
    3,
    "two wrong answers to bad messages, one valid rejected as invalid",
  );
  assert.equal(report.accepted, 1);
  assert.deepEqual(report.rejected, { json_invalido: 1, pedido_invalido: 3 });
});

Deno.test("a valid order turned away for capacity is a rejection, not an anomaly", () => {
  const tally = new Tally();
  tally.sent("valido");
  tally.reply("valido", { tipo: "error", codigo: "limite" }, 1);
  assert.equal(buildReport(tally, INFO).unexpected, 0);
});

Deno.test("throughput divides by the elapsed time and latency comes from the histogram", () => {
  const tally = new Tally();
  for (let ms = 1; ms <= 1000; ms++) {
    tally.sent("valido");
    tally.reply("valido", { tipo: "ok", id: ms }, ms);
  }
  const report = buildReport(tally, INFO);
  assert.equal(report.acceptedPerSecond, 500);
  assert.equal(report.repliesPerSecond, 500);
  const { p50, p90, p99, p999, max } = report.latencyMs;
  for (const [actual, exact] of [[p50, 500], [p90, 900], [p99, 990], [p999, 999]]) {
    assert.ok(Math.abs(actual! - exact!) <= exact! * 0.01, `${actual} ≈ ${exact}`);
  }
  assert.equal(max, 1000);
  assert.equal(report.latencyMs.count, 1000);
});

Deno.test("tallies counted on several threads add up to one tally of every outcome", () => {
  const latencies: number[] = [];
  const a = new Tally({ record: (ms) => latencies.push(ms) });
  const b = new Tally({ record: (ms) => latencies.push(ms) });
  a.sent("valido");
  a.reply("valido", { tipo: "ok", id: 1 }, 2);
  a.sent("json_invalido");
  a.reply("json_invalido", { tipo: "error", codigo: "json_invalido" }, -1);
  b.sent("valido");
  b.reply("valido", { tipo: "error", codigo: "limite" }, 4);
  b.sent("valido");
  b.error("tiempo agotado");
  b.failedConnections = 2;
  assert.equal(a.latency.count, 0, "latencies went to the sink, not the histogram");
  assert.deepEqual(latencies, [2, 0, 4]);
  const whole = new Tally();
  whole.add(a.counts());
  whole.add(b.counts());
  whole.add(b.counts());
  const report = buildReport(whole, INFO);
  assert.equal(report.sent, 2 + 2 * 2);
  assert.equal(report.accepted, 1);
  assert.deepEqual(report.rejected, { json_invalido: 1, limite: 2 });
  assert.deepEqual(report.errors, { "tiempo agotado": 2 });
  assert.deepEqual(report.bad, { sent: 1, answered: 1, wrong: 0 });
  assert.equal(report.failedConnections, 4);
  assert.equal(whole.outstanding, 0);
});

Deno.test("an empty run reports zeros, not NaN, so its JSON stays numeric", () => {
  const summary = summarizeLatency(new Histogram());
  assert.deepEqual(summary, { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 });
  const report = buildReport(new Tally(), { ...INFO, elapsedMs: 0 });
  assert.equal(report.acceptedPerSecond, 0);
  assert.doesNotMatch(JSON.stringify(report), /null|NaN/);
});

Deno.test("the text report shows counts by codigo and the latency percentiles", () => {
  const tally = new Tally();
  tally.sent("valido");
  tally.reply("valido", { tipo: "ok", id: 1 }, 2);
  tally.sent("valido");
  tally.reply("valido", { tipo: "error", codigo: "limite" }, 3);
  tally.sent("valido");
  tally.error("conexión reiniciada");
  const text = renderReport(buildReport(tally, INFO));
  assert.match(text, /enviados\s+3/);
  assert.match(text, /aceptados\s+1/);
  assert.match(text, /rechazados\s+1 \(limite: 1\)/);
  assert.match(text, /errores\s+1 \(conexión reiniciada: 1\)/);
  assert.match(text, /p50 .* p90 .* p99 .* p99\.9 .* máx 3\.00 ms/);
  assert.match(text, /herramienta\s+40\.0 µs de CPU por pedido · 0\.20 núcleos \(1 hilo, 2 en/);
  assert.doesNotMatch(text, /saturada/);
});

Deno.test("the text report says so when the load tool itself was the limit", () => {
  const saturation = ["usó 0.95 de 1 núcleo que sus hilos pueden ocupar"];
  const text = renderReport(
    buildReport(new Tally(), { ...INFO, toolCpu: { ...INFO.toolCpu, cores: 0.95, saturation } }),
  );
  assert.match(
    text,
    /saturada\s+la herramienta era el límite: usó 0\.95 de 1 núcleo que sus hilos pueden ocupar;.* \(si quedan núcleos libres, pruebe con --threads 2\)$/m,
  );
  const busyMachine = renderReport(
    buildReport(new Tally(), {
      ...INFO,
      toolCpu: { ...INFO.toolCpu, threads: 2, cores: 1.9, saturation: ["usó 1.90 de 2 núcleos"] },
    }),
  );
  assert.match(busyMachine, /saturada .*servidor$/m, "no more threads to suggest on two cores");
});
