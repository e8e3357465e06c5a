/**
 * The Prometheus side: a prom-client registry whose metrics are all read
 * when scraped, from the {@linkcode MetricsRecorder}'s totals and the
 * server's current occupancy, so orders themselves never touch prom-client.
 * Names follow Prometheus conventions: one prefix (`pedidos_`), base units
 * (seconds), `_total` only on counters, no label with one value per order.
 *
 * @module
 */
import { collectDefaultMetrics, Counter, Gauge, type Histogram, Registry } from "prom-client";
import type { BucketTotals } from "./buckets.ts";
import type { MetricsRecorder } from "./recorder.ts";
import type { OrderOccupancy } from "../orders/service.ts";

/** What the server has in hand at this instant. */
export interface Occupancy extends OrderOccupancy {
  /** Open client connections. */
  conexiones: number;
}

/** Where the metrics read from. */
export interface MetricsSource {
  recorder: MetricsRecorder;
  occupancy(): Occupancy;
}

/**
 * Results every scrape shows, at 0 until they happen, so that a rate over
 * them exists from the start: the answers a submitted order can get.
 */
const KNOWN_RESULTS = [
  "accepted",
  "duplicate",
  "limite",
  "json_invalido",
  "pedido_invalido",
  "demasiado_grande",
  "apagando",
  "interno",
];

/**
 * prom-client's event-loop delay figures come from `monitorEventLoopDelay`,
 * which Deno does not implement: they would always read 0, NaN or 2⁶³ ns.
 * `nodejs_eventloop_lag_seconds`, measured with a timer, works and stays.
 */
const UNSUPPORTED_DEFAULTS = ["min", "max", "mean", "stddev", "p50", "p90", "p99"].map((stat) =>
  `nodejs_eventloop_lag_${stat}_seconds`
);

/**
 * The registry with every `pedidos_*` metric and prom-client's default
 * process metrics.
 *
 * @example
 * ```ts
 * const registry = createRegistry({ recorder, occupancy: () => server.occupancy() });
 * const text = await registry.metrics(); // Prometheus text format
 * ```
 */
export function createRegistry(source: MetricsSource): Registry {
  const registry = new Registry();
  const { recorder } = source;
  const registers = [registry];

  new Counter({
    name: "pedidos_orders_received_total",
    help: "Pedidos recibidos, por respuesta: accepted, duplicate o el codigo del rechazo.",
    labelNames: ["result"],
    registers,
    collect() {
      const received = recorder.counts().received;
      this.reset();
      for (const result of new Set([...KNOWN_RESULTS, ...Object.keys(received)])) {
        this.inc({ result }, received[result] ?? 0);
      }
    },
  });
  new Counter({
    name: "pedidos_orders_finished_total",
    help: "Pedidos terminados, por resultado: listo o fallido.",
    labelNames: ["outcome"],
    registers,
    collect() {
      const { listos, fallidos } = recorder.counts();
      this.reset();
      this.inc({ outcome: "listo" }, listos);
      this.inc({ outcome: "fallido" }, fallidos);
    },
  });
  new Counter({
    name: "pedidos_order_retries_total",
    help: "Intentos fallidos que devolvieron su pedido a la cola.",
    registers,
    collect() {
      this.reset();
      this.inc(recorder.counts().retries);
    },
  });
  new Counter({
    name: "pedidos_orders_recovered_total",
    help: "Pedidos que una ejecución anterior dejó sin terminar, retomados al arrancar.",
    registers,
    collect() {
      this.reset();
      this.inc(recorder.counts().recovered);
    },
  });

  new Gauge({
    name: "pedidos_orders",
    help: "Pedidos admitidos sin terminar, por estado: en_cola o en_proceso.",
    labelNames: ["state"],
    registers,
    collect() {
      const { enCola, enProceso } = source.occupancy();
      this.set({ state: "en_cola" }, enCola);
      this.set({ state: "en_proceso" }, enProceso);
    },
  });
  const gauge = (name: string, help: string, read: (o: Occupancy) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read(source.occupancy()));
      },
    });
  gauge("pedidos_admission_limit", "Límite de admisión (--max).", (o) => o.max);
  gauge("pedidos_admission_in_use", "Permisos de admisión en uso.", (o) => o.enUso);
  gauge("pedidos_connections", "Conexiones de clientes abiertas.", (o) => o.conexiones);
  gauge("pedidos_workers_busy", "Workers procesando un pedido.", (o) => o.workersOcupados);

  registerTotals(
    registry,
    "pedidos_order_duration_seconds",
    "Duración del procesamiento de los pedidos listos.",
    () => recorder.duration.totals(),
  );
  registerTotals(
    registry,
    "pedidos_order_queue_wait_seconds",
    "Espera de cada pedido desde que se recibe hasta que empieza su primer intento.",
    () => recorder.queueWait.totals(),
  );
  registerTotals(
    registry,
    "pedidos_store_commit_seconds",
    "Duración de cada transacción de la base de datos.",
    () => recorder.commit.totals(),
  );

  collectDefaultMetrics({ register: registry });
  for (const name of UNSUPPORTED_DEFAULTS) registry.removeSingleMetric(name);
  return registry;
}

/**
 * Registers a histogram whose buckets are read from `read()` at each scrape.
 * prom-client's `Histogram` can only be fed one observation at a time, so
 * this is a metric object of the shape its registry reads (the same kind
 * prom-client's own `AggregatorRegistry` registers); the registry still
 * writes the text format.
 */
function registerTotals(
  registry: Registry,
  name: string,
  help: string,
  read: () => BucketTotals,
) {
  const metric = {
    name,
    help,
    type: "histogram",
    aggregator: "sum",
    get() {
      const { bounds, counts, sum, count } = read();
      const bucket = `${name}_bucket`;
      const values: {
        labels: Record<string, string | number>;
        value: number;
        metricName: string;
      }[] = [];
      let cumulative = 0;
      bounds.forEach((le, i) => {
        cumulative += counts[i] ?? 0;
        values.push({ labels: { le }, value: cumulative, metricName: bucket });
      });
      values.push(
        { labels: { le: "+Inf" }, value: count, metricName: bucket },
        { labels: {}, value: sum, metricName: `${name}_sum` },
        { labels: {}, value: count, metricName: `${name}_count` },
      );
      return Promise.resolve({ name, help, type: "histogram", aggregator: "sum", values });
    },
    reset() {},
  };
  registry.registerMetric(metric as unknown as Histogram);
}
