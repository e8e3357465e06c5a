/**
 * A load worker's entry point (`--threads N`, started by
 * `tools/load/threads.ts`): it opens its share of the connections when told
 * `abrir`, drives them with orders from the shared counter when told
 * `empezar`, and answers `fin` with its counts, its remaining latencies and
 * its ledger. Full latency batches go to the main thread as they fill.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { Driver } from "./driver.ts";
import { OrderGenerator } from "./orders.ts";
import { Tally } from "./report.ts";
import { OrderSource, type SourcePlan } from "./source.ts";
import { type FromThread, LATENCY_BATCH, LatencyBatch, type ToThread } from "./threads.ts";
import { Ledger } from "./verify.ts";

function post(message: FromThread, transfer: Transferable[] = []) {
  self.postMessage(message, transfer);
}

let start: ((plan: SourcePlan) => void) | undefined;

self.onmessage = (event: MessageEvent<ToThread>) => {
  const message = event.data;
  if (message.tipo === "abrir") {
    run(message).catch((error) => {
      post({ tipo: "fallo", mensaje: error instanceof Error ? error.message : String(error) });
    });
  } else if (message.tipo === "empezar") {
    const { plan } = message;
    start?.(
      "orders" in plan ? plan : {
        rate: plan.rate,
        durationMs: plan.durationMs,
        // The same instant on this thread's clock.
        startMs: plan.startEpochMs - performance.timeOrigin,
      },
    );
  }
};

async function run(message: Extract<ToThread, { tipo: "abrir" }>) {
  const latencies = new LatencyBatch(LATENCY_BATCH, (samples) => {
    post({ tipo: "latencias", samples }, [samples.buffer]);
  });
  const tally = new Tally(latencies);
  const ledger = message.ledger ? new Ledger() : undefined;
  const orders = new OrderGenerator(message.tag, message.options.bad);
  const driver = new Driver(message.options, orders, message.lanes, tally, ledger);
  const counter = new Int32Array(message.counter);
  const progress = new Int32Array(message.progress);
  const publish = () => {
    Atomics.store(progress, 2 * message.slot, tally.completed);
    Atomics.store(progress, 2 * message.slot + 1, tally.errorsTotal);
  };
  const planned = new Promise<SourcePlan>((resolve) => start = resolve);
  await driver.open();
  post({ tipo: "abierto" });
  const source = new OrderSource(counter, await planned);
  const result = await driver.drive(source, publish);
  publish();
  const samples = latencies.take();
  const ledgerPart = ledger?.export();
  post(
    {
      tipo: "fin",
      counts: tally.counts(),
      samples,
      ...(ledgerPart ? { ledger: ledgerPart } : {}),
      lastOutcomeEpochMs: performance.timeOrigin + result.lastOutcomeAt,
      ...(result.aborted ? { aborted: result.aborted } : {}),
      lagSamplesMs: result.lagSamplesMs,
    },
    [samples.buffer, ...(ledgerPart ? [ledgerPart.ids.buffer, ledgerPart.indices.buffer] : [])],
  );
}
