/**
 * The worker pool against real (misbehaving) workers: the sandbox, errors,
 * hangs, self-closing workers, retries, `fallido`, and capacity coming back.
 * Fixture workers are loaded through the `workerUrl` override, so the pool
 * creates them exactly as it creates the real one (`permissions: "none"`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { sandboxedWorker } from "../lib/orders/pool.ts";
import { order, startTestServer, TestClient, waitFor } from "./helpers.ts";
import {
  capacity,
  delay,
  readRepliesAndEvents,
  row,
  waitForFinished,
  waitForFullCapacity,
  warmUpWorker,
} from "./server_helpers.ts";

const FAULTY_WORKER = new URL("./fixtures/faulty_worker.ts", import.meta.url);
const PROBE_WORKER = new URL("./fixtures/probe_worker.ts", import.meta.url);
const BROKEN_WORKER = new URL("./fixtures/broken_worker.ts", import.meta.url);

// Type-check and load the fixtures once before any test measures timeouts.
await warmUpWorker(FAULTY_WORKER);
// This one cannot load at all; warming it up only type-checks it.
await warmUpWorker(BROKEN_WORKER).catch(() => {});

Deno.test("a worker cannot read files, use the network, read the environment, run programs or load libraries", async () => {
  await using t = await startTestServer({ retries: 0, workers: 1 }, { workerUrl: PROBE_WORKER });
  await using client = await TestClient.open(t.port);
  const reply = await client.request(order({ cliente: "Sonda", avisar: true }));
  assert.equal(reply.ok, true);
  const event = await client.readJson(30_000);
  assert.equal(event.estado, "fallido");
  const motivo = (await row(t.db, reply.id as number))!.motivo_fallo ?? "";
  const found = motivo.match(/SONDA (\{.*\})/);
  assert.ok(found, `the probe did not report: ${motivo}`);
  const report = JSON.parse(found[1]!) as Record<string, string>;
  const denied = ["NotCapable", "PermissionDenied"];
  for (const probe of ["leer", "escribir", "red", "entorno", "ejecutar", "ffi"]) {
    assert.ok(denied.includes(report[probe]!), `${probe}: ${report[probe]}`);
  }
  // Deno 2 has no Deno.run; should it exist, it must be denied as well.
  assert.ok([...denied, "ausente"].includes(report.run!), `run: ${report.run}`);
});

Deno.test("an order whose worker throws is retried, ends fallido after retries + 1 attempts, and frees its permit", async () => {
  await using t = await startTestServer(
    { retries: 2, workers: 2, max: 6, workMs: 50, drainMs: 0 },
    { workerUrl: FAULTY_WORKER },
  );
  await using client = await TestClient.open(t.port, "::1");
  await client.send(
    [
      order({ cliente: "explota", avisar: true }),
      ...[0, 1, 2].map((i) => order({ cliente: `N${i}` })),
    ]
      .map((value) => JSON.stringify(value) + "\n").join(""),
  );
  // The event may come before or after the other replies: sort them out.
  const { replies, events } = await readRepliesAndEvents(client, 4, 1);
  const [boom, ...others] = replies as [Record<string, unknown>, ...Record<string, unknown>[]];
  assert.ok(replies.every((reply) => reply.ok === true), JSON.stringify(replies));
  const event = events[0]!;
  assert.equal(event.evento, "terminado");
  assert.equal(event.id, boom.id);
  assert.equal(event.estado, "fallido");
  const failed = (await row(t.db, boom.id as number))!;
  assert.equal(failed.estado, "fallido");
  assert.equal(failed.intentos, 3);
  assert.match(failed.motivo_fallo ?? "", /explosión/);
  assert.match(failed.fecha_fin ?? "", /Z$/);
  assert.equal(
    t.log.lines.filter((line) => line.includes(`pedido #${boom.id}`) && line.includes("reintenta"))
      .length,
    2,
  );

  // The other orders kept flowing and finished normally.
  const finished = await waitForFinished(t.db, 4);
  for (const other of others) {
    const r = finished.find((candidate) => candidate.id === other.id)!;
    assert.equal(r.estado, "listo");
    assert.equal(r.intentos, 1);
  }
  // Every permit is back: six new (slow) orders are admitted, and no more.
  await waitForFullCapacity(t.port);
  for (let i = 0; i < 6; i++) {
    assert.equal((await client.request(order({ cliente: "lento" }))).ok, true);
  }
  assert.equal((await client.request(order({ cliente: "lento" }))).codigo, "limite");
});

Deno.test("a worker hung in Atomics.wait is abandoned after timeoutMs and its order retried", async () => {
  await using t = await startTestServer(
    { retries: 1, workers: 1, timeoutMs: 500, workMs: 10 },
    { workerUrl: FAULTY_WORKER },
  );
  await using client = await TestClient.open(t.port);
  const hung = await client.request(order({ cliente: "cuelga" }));
  // Behind it, on the only worker: it runs only if the hung worker is replaced.
  const next = await client.request(order({ cliente: "Siguiente" }));
  await waitFor(
    () => t.log.lines.some((line) => line.includes(`#${hung.id}`) && line.includes("reintenta")),
    "the first timeout",
  );
  const finished = await waitForFinished(t.db, 2, 15_000);
  const failed = finished.find((r) => r.id === hung.id)!;
  assert.equal(failed.estado, "fallido");
  assert.equal(failed.intentos, 2);
  assert.match(failed.motivo_fallo ?? "", /tiempo agotado/);
  assert.equal(finished.find((r) => r.id === next.id)?.estado, "listo");
  await waitForFullCapacity(t.port);
});

Deno.test("a worker spinning in a busy loop is abandoned after timeoutMs and replaced", async () => {
  await using t = await startTestServer(
    { retries: 0, workers: 1, timeoutMs: 500, workMs: 10 },
    { workerUrl: FAULTY_WORKER },
  );
  await using client = await TestClient.open(t.port);
  const spinning = await client.request(order({ cliente: "gira" }));
  const next = await client.request(order({ cliente: "Siguiente" }));
  const finished = await waitForFinished(t.db, 2, 15_000);
  const failed = finished.find((r) => r.id === spinning.id)!;
  assert.equal(failed.estado, "fallido");
  assert.equal(failed.intentos, 1);
  assert.match(failed.motivo_fallo ?? "", /tiempo agotado/);
  assert.equal(finished.find((r) => r.id === next.id)?.estado, "listo");
});

Deno.test("a worker that closes itself is caught by the timeout, retried, then fallido", async () => {
  // The pool gets no event when a worker calls self.close(): the attempt
  // timeout is what guarantees the order does not stay en proceso forever.
  await using t = await startTestServer(
    { retries: 1, workers: 1, timeoutMs: 500, workMs: 10 },
    { workerUrl: FAULTY_WORKER },
  );
  await using client = await TestClient.open(t.port);
  const dying = await client.request(order({ cliente: "muere", avisar: true }));
  const event = await client.readJson(15_000);
  assert.equal(event.id, dying.id);
  assert.equal(event.estado, "fallido");
  const failed = (await row(t.db, dying.id as number))!;
  assert.equal(failed.intentos, 2);
  assert.match(failed.motivo_fallo ?? "", /tiempo agotado/);
  // The replaced worker serves the next order.
  const next = await client.request(order({ cliente: "Siguiente", avisar: true }));
  const nextEvent = await client.readJson(15_000);
  assert.equal(nextEvent.id, next.id);
  assert.equal(nextEvent.estado, "listo");
});

Deno.test("a worker calling Deno.exit ends only itself; the server goes on and the timeout catches it", async () => {
  await using t = await startTestServer(
    { retries: 0, workers: 1, timeoutMs: 500, workMs: 10 },
    { workerUrl: FAULTY_WORKER },
  );
  await using client = await TestClient.open(t.port);
  const exiting = await client.request(order({ cliente: "sale", avisar: true }));
  const event = await client.readJson(15_000);
  assert.equal(event.id, exiting.id);
  assert.equal(event.estado, "fallido");
  assert.match((await row(t.db, exiting.id as number))!.motivo_fallo ?? "", /tiempo agotado/);
  const next = await client.request(order({ cliente: "Siguiente", avisar: true }));
  assert.equal((await client.readJson(15_000)).id, next.id);
  assert.equal((await row(t.db, next.id as number))?.estado, "listo");
});

Deno.test("a worker answering for another order is replaced and the order retried", async () => {
  await using t = await startTestServer(
    { retries: 1, workers: 1, workMs: 10 },
    { workerUrl: FAULTY_WORKER },
  );
  await using client = await TestClient.open(t.port);
  const confused = await client.request(order({ cliente: "otro", avisar: true }));
  const event = await client.readJson(15_000);
  assert.equal(event.id, confused.id);
  assert.equal(event.estado, "fallido");
  const failed = (await row(t.db, confused.id as number))!;
  assert.equal(failed.intentos, 2);
  assert.match(failed.motivo_fallo ?? "", /otro pedido/);
  assert.deepEqual(await capacity(t.port), { max: 6, libres: 6 });
});

Deno.test("the cpu work mode processes orders too", async () => {
  await using t = await startTestServer({ workMode: "cpu", workMs: 60, workers: 2 });
  await using client = await TestClient.open(t.port);
  const reply = await client.request(order({ avisar: true }));
  const event = await client.readJson(15_000);
  assert.equal(event.estado, "listo");
  const done = (await row(t.db, reply.id as number))!;
  // A fixed computation sized to 60 ms on an idle core; loose, as the core's speed varies.
  assert.ok(done.duracion! >= 0.03, `duracion ${done.duracion}`);
});

Deno.test("a worker module that fails to load is not respawned in a tight loop", async () => {
  // A broken deployment: every new worker dies while loading, before it has
  // an order. Either the server refuses to start, or it replaces such workers
  // with a pause and says so in the log; what it must not do is respawn them
  // as fast as they die, forever, while idle.
  let created = 0;
  const createWorker = (url: URL) => {
    created++;
    return sandboxedWorker(url);
  };
  let t;
  try {
    t = await startTestServer({ workers: 1 }, { workerUrl: BROKEN_WORKER, createWorker });
  } catch {
    return; // refusing to start is a fine answer
  }
  await using _server = t;
  await delay(1500);
  const respawns = created;
  assert.ok(respawns <= 10, `${respawns} workers created in 1.5 s with no order at all`);
  assert.ok(
    t.log.lines.some((line) => /worker/.test(line) && /aviso|error/.test(line)),
    `the failing worker is not logged:\n${t.log.lines.join("\n")}`,
  );
});
