import assert from "node:assert/strict";
import { parseScrape } from "../../tests/prometheus.ts";
import { createRegistry, type Occupancy } from "./metrics.ts";
import { MetricsRecorder } from "./recorder.ts";

const IDLE: Occupancy = {
  enCola: 0,
  enProceso: 0,
  max: 6,
  enUso: 0,
  workersOcupados: 0,
  workers: 3,
  conexiones: 0,
};

Deno.test("a scrape shows the recorder's counters by label, known results at 0 before they happen", async () => {
  const recorder = new MetricsRecorder();
  recorder.received("accepted");
  recorder.received("accepted");
  recorder.received("limite");
  recorder.received("inactivo");
  recorder.recovered(4);
  recorder.retried();
  recorder.finished(1, 1, "listo", 0, 1);
  recorder.finished(2, 1, "fallido", null, 1);
  recorder.finished(3, 2, "fallido", null, 2);
  const scrape = parseScrape(await createRegistry({ recorder, occupancy: () => IDLE }).metrics());
  const received = (result: string) => scrape.value("pedidos_orders_received_total", { result });
  assert.equal(received("accepted"), 2);
  assert.equal(received("limite"), 1);
  assert.equal(received("inactivo"), 1, "a result outside the known list still shows");
  assert.equal(received("duplicate"), 0);
  assert.equal(received("json_invalido"), 0);
  assert.equal(scrape.value("pedidos_orders_finished_total", { outcome: "listo" }), 1);
  assert.equal(scrape.value("pedidos_orders_finished_total", { outcome: "fallido" }), 2);
  assert.equal(scrape.value("pedidos_order_retries_total"), 1);
  assert.equal(scrape.value("pedidos_orders_recovered_total"), 4);
  assert.equal(scrape.types.get("pedidos_orders_received_total"), "counter");
});

Deno.test("gauges are read from the occupancy at scrape time", async () => {
  let occupancy: Occupancy = {
    enCola: 2,
    enProceso: 3,
    max: 6,
    enUso: 5,
    workersOcupados: 3,
    workers: 3,
    conexiones: 7,
  };
  const registry = createRegistry({ recorder: new MetricsRecorder(), occupancy: () => occupancy });
  let scrape = parseScrape(await registry.metrics());
  assert.equal(scrape.value("pedidos_orders", { state: "en_cola" }), 2);
  assert.equal(scrape.value("pedidos_orders", { state: "en_proceso" }), 3);
  assert.equal(scrape.value("pedidos_admission_limit"), 6);
  assert.equal(scrape.value("pedidos_admission_in_use"), 5);
  assert.equal(scrape.value("pedidos_connections"), 7);
  assert.equal(scrape.value("pedidos_workers_busy"), 3);
  assert.equal(scrape.types.get("pedidos_orders"), "gauge");
  occupancy = IDLE;
  scrape = parseScrape(await registry.metrics());
  assert.equal(scrape.value("pedidos_orders", { state: "en_proceso" }), 0);
  assert.equal(scrape.value("pedidos_admission_in_use"), 0);
});

Deno.test("histograms have cumulative buckets up to +Inf, a sum and a count, in seconds", async () => {
  const recorder = new MetricsRecorder();
  recorder.started(1, 1, 1_000, 1_000);
  recorder.finished(1, 1, "listo", 1_000, 1_300);
  recorder.started(2, 1, 2_000, 1_000);
  recorder.finished(2, 1, "listo", 2_000, 4_500);
  recorder.committed(0.3, true);
  const scrape = parseScrape(await createRegistry({ recorder, occupancy: () => IDLE }).metrics());
  const bucket = (le: string) => scrape.value("pedidos_order_duration_seconds_bucket", { le });
  assert.equal(bucket("0.2"), 0);
  assert.equal(bucket("0.5"), 1);
  assert.equal(bucket("2"), 1);
  assert.equal(bucket("5"), 2);
  assert.equal(bucket("+Inf"), 2);
  assert.equal(scrape.value("pedidos_order_duration_seconds_count"), 2);
  assert.ok(Math.abs(scrape.value("pedidos_order_duration_seconds_sum")! - 2.8) < 1e-9);
  assert.equal(scrape.value("pedidos_order_queue_wait_seconds_bucket", { le: "0.001" }), 1);
  assert.equal(scrape.value("pedidos_order_queue_wait_seconds_count"), 2);
  assert.equal(scrape.value("pedidos_store_commit_seconds_bucket", { le: "0.0005" }), 1);
  for (const name of ["order_duration", "order_queue_wait", "store_commit"]) {
    assert.equal(scrape.types.get(`pedidos_${name}_seconds`), "histogram");
  }
});

Deno.test("the default process metrics are there, without the event-loop figures Deno cannot measure", async () => {
  const registry = createRegistry({ recorder: new MetricsRecorder(), occupancy: () => IDLE });
  const scrape = parseScrape(await registry.metrics());
  assert.ok(scrape.value("process_cpu_seconds_total")! > 0);
  assert.ok(scrape.value("process_resident_memory_bytes")! > 0);
  assert.notEqual(scrape.value("nodejs_eventloop_lag_seconds"), undefined);
  assert.equal(scrape.value("nodejs_eventloop_lag_p99_seconds"), undefined);
  assert.ok(scrape.samples.every((s) => !Number.isNaN(s.value)), "no NaN in a scrape");
});
