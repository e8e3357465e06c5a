import assert from "node:assert/strict";
import { pipeliningFor, type PoolEvents, type PoolJob, WorkerPool } from "./pool.ts";

const WORKER_URL = new URL("../../worker.ts", import.meta.url);

function recorder() {
  const events: string[] = [];
  const done = new Map<number, { worker: number; inicio: number; fin: number }>();
  const handlers: PoolEvents = {
    onStart: (job, worker) => events.push(`inicio ${job.id}@${worker}`),
    onDone: (job, worker, result) => {
      events.push(`fin ${job.id}@${worker}`);
      done.set(job.id, { worker, inicio: result.inicio, fin: result.fin });
    },
    onRetry: (job, _worker, motivo) => events.push(`reintento ${job.id}: ${motivo}`),
    onFail: (job, _worker, motivo) => events.push(`fallo ${job.id}: ${motivo}`),
    onWorkerError: (worker, motivo, retryInMs) =>
      events.push(`worker ${worker}: ${motivo}; reinicio en ${retryInMs} ms`),
  };
  return { events, done, handlers };
}

const job = (id: number): PoolJob => ({
  id,
  pedido: { cliente: "Ana", productos: ["pan"], direccion: "Calle 1", recibido: 0 },
  intentos: 0,
});

Deno.test("the pool runs orders in parallel on distinct workers, in arrival order", async () => {
  const { events, done, handlers } = recorder();
  const pool = new WorkerPool({
    size: 3,
    workerUrl: WORKER_URL,
    workMs: 400,
    workMode: "sleep",
    timeoutMs: 10_000,
    retries: 0,
    events: handlers,
  });
  for (let id = 1; id <= 6; id++) pool.submit(job(id));
  assert.equal(pool.busy, 3);
  assert.equal(pool.queued, 3);
  assert.deepEqual(events.slice(0, 3), ["inicio 1@1", "inicio 2@2", "inicio 3@3"]);
  while (done.size < 6) await new Promise((resolve) => setTimeout(resolve, 20));
  const first = [1, 2, 3].map((id) => done.get(id)!);
  const overlap = Math.min(...first.map((r) => r.fin)) - Math.max(...first.map((r) => r.inicio));
  assert.ok(overlap > 0, "the first three orders ran at the same time");
  assert.deepEqual(new Set(first.map((r) => r.worker)), new Set([1, 2, 3]));
  for (const result of done.values()) assert.ok(result.fin - result.inicio >= 399);
  const { abandoned, queued } = await pool.drain(1000);
  assert.deepEqual([abandoned, queued], [[], []]);
});

Deno.test("drain waits for orders in process but does not start queued ones", async () => {
  const { done, handlers } = recorder();
  const pool = new WorkerPool({
    size: 1,
    workerUrl: WORKER_URL,
    workMs: 100,
    workMode: "sleep",
    timeoutMs: 10_000,
    retries: 0,
    events: handlers,
  });
  pool.submit(job(1));
  pool.submit(job(2));
  const { abandoned, queued } = await pool.drain(5000);
  assert.deepEqual([...done.keys()], [1]);
  assert.deepEqual(abandoned, []);
  assert.deepEqual(queued.map((j) => j.id), [2]);
});

Deno.test("drain gives up after its deadline and reports the orders still in process", async () => {
  const { handlers } = recorder();
  const pool = new WorkerPool({
    size: 1,
    workerUrl: WORKER_URL,
    workMs: 5000,
    workMode: "sleep",
    timeoutMs: 60_000,
    retries: 0,
    events: handlers,
  });
  pool.submit(job(1));
  const { abandoned } = await pool.drain(100);
  assert.deepEqual(abandoned.map((j) => j.id), [1]);
});

Deno.test("an attempt over the timeout is retried on a fresh worker, then given up", async () => {
  const { events, handlers } = recorder();
  const pool = new WorkerPool({
    size: 1,
    workerUrl: WORKER_URL,
    workMs: 2000,
    workMode: "sleep",
    timeoutMs: 100,
    retries: 1,
    events: handlers,
  });
  const slow = job(1);
  pool.submit(slow);
  while (!events.some((e) => e.startsWith("fallo"))) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.deepEqual(events, [
    "inicio 1@1",
    "reintento 1: tiempo agotado: más de 100 ms",
    "inicio 1@1",
    "fallo 1: tiempo agotado: más de 100 ms",
  ]);
  assert.equal(slow.intentos, 2);
  assert.equal(pool.size, 1);
  assert.equal(pool.busy, 0);
  pool.terminate();
});

Deno.test("a pool size that is not a positive integer is refused", () => {
  const { handlers } = recorder();
  assert.throws(
    () =>
      new WorkerPool({
        size: 0,
        workerUrl: WORKER_URL,
        workMs: 0,
        workMode: "sleep",
        timeoutMs: 1,
        retries: 0,
        events: handlers,
      }),
    RangeError,
  );
});

Deno.test("a worker that fails with no order is restarted with growing delays, not in a loop", async () => {
  const { events, handlers } = recorder();
  const pool = new WorkerPool({
    size: 1,
    workerUrl: new URL("data:text/javascript,throw new Error('no carga')"),
    workMs: 0,
    workMode: "sleep",
    timeoutMs: 10_000,
    retries: 0,
    events: handlers,
  });
  await new Promise((resolve) => setTimeout(resolve, 600));
  pool.terminate();
  const restarts = events.filter((e) => e.startsWith("worker 1:"));
  assert.ok(restarts.length >= 2 && restarts.length <= 4, restarts.join("\n"));
  assert.match(restarts[0]!, /no carga; reinicio en 100 ms$/);
  assert.match(restarts[1]!, /reinicio en 200 ms$/);
});

Deno.test("orders waiting at a failed worker go back unstarted and keep their order", async () => {
  const { events, done, handlers } = recorder();
  const failsOnFirst = "data:text/javascript," + encodeURIComponent(
    `self.onmessage = (e) => {
       if (e.data.id === 1) throw new Error("roto");
       self.postMessage({ id: e.data.id, inicio: Date.now(), fin: Date.now() });
     };`,
  );
  const pool = new WorkerPool({
    size: 1,
    workerUrl: new URL(failsOnFirst),
    workMs: 1, // one order per message; see pipeliningFor
    workMode: "sleep",
    timeoutMs: 10_000,
    retries: 0,
    events: handlers,
  });
  const jobs = [1, 2, 3].map(job);
  for (const j of jobs) pool.submit(j);
  assert.equal(pool.busy, 1, "one order runs; the others wait at the worker or in the queue");
  while (done.size < 2) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(events.filter((e) => !e.startsWith("inicio")), [
    "fallo 1: el worker falló: Uncaught Error: roto",
    "fin 2@1",
    "fin 3@1",
  ]);
  assert.deepEqual(jobs.map((j) => j.intentos), [1, 1, 1], "waiting orders were not charged");
  await pool.drain(1000);
});

Deno.test("orders with no work travel in batches and each is started once, then done once", async () => {
  assert.deepEqual(pipeliningFor(0), { batch: 64, depth: 4 });
  assert.deepEqual(pipeliningFor(1), { batch: 1, depth: 2 });
  // A processor's orders do real work, whatever --work-ms says.
  assert.deepEqual(pipeliningFor(0, true), { batch: 1, depth: 2 });
  const { events, done, handlers } = recorder();
  const pool = new WorkerPool({
    size: 2,
    workerUrl: WORKER_URL,
    workMs: 0,
    workMode: "sleep",
    timeoutMs: 10_000,
    retries: 0,
    events: handlers,
  });
  const jobs = Array.from({ length: 500 }, (_, i) => job(i + 1));
  for (const j of jobs) pool.submit(j);
  while (done.size < jobs.length) await new Promise((resolve) => setTimeout(resolve, 10));
  for (const j of jobs) {
    assert.equal(j.intentos, 1);
    const mine = events.filter((e) => e.split(" ")[1]?.split("@")[0] === String(j.id));
    assert.deepEqual(mine.map((e) => e.split(" ")[0]), ["inicio", "fin"], `order ${j.id}`);
  }
  assert.deepEqual(new Set([...done.values()].map((r) => r.worker)), new Set([1, 2]));
  await pool.drain(1000);
});

/** Keeps the calling thread busy, as a main thread serving a flood of requests would be. */
function blockMainThread(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // Timers and worker messages wait meanwhile.
  }
}

Deno.test("orders that finished in time are done, not timed out, when the main thread was busy past their timeout", async () => {
  const { events, done, handlers } = recorder();
  const pool = new WorkerPool({
    size: 1,
    workerUrl: WORKER_URL,
    workMs: 100,
    workMode: "sleep",
    timeoutMs: 400,
    retries: 0,
    events: handlers,
  });
  // The worker module loads before the clock starts: its loading time is not the subject.
  pool.submit(job(1));
  while (done.size < 1) await new Promise((resolve) => setTimeout(resolve, 10));
  pool.submit(job(2));
  pool.submit(job(3));
  // Both run (100 ms each, well within 400) while the timer cannot fire.
  blockMainThread(900);
  while (done.size < 3 && !events.some((e) => e.startsWith("fallo"))) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.deepEqual(events.filter((e) => !e.startsWith("inicio")), [
    "fin 1@1",
    "fin 2@1",
    "fin 3@1",
  ]);
  await pool.drain(1000);
});

Deno.test("an order that overran its timeout while the main thread was busy is a timeout by the worker's clock", async () => {
  const { events, done, handlers } = recorder();
  const pool = new WorkerPool({
    size: 1,
    workerUrl: WORKER_URL,
    workMs: 600,
    workMode: "sleep",
    timeoutMs: 400,
    retries: 0,
    events: handlers,
  });
  pool.submit(job(1));
  // Nobody can stop it at 400 ms: it runs its 600 ms and reports them.
  blockMainThread(1000);
  while (!events.some((e) => e.startsWith("fallo"))) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.deepEqual(events, ["inicio 1@1", "fallo 1: tiempo agotado: más de 400 ms"]);
  assert.equal(done.size, 0);
  await pool.drain(1000);
});
