/**
 * What the database holds while and after the server runs: the date and
 * duration columns, workers, overlapping intervals, and acknowledgement only
 * after commit. (The SQLite file's own format is tested in
 * `lib/store/sqlite_test.ts`.)
 *
 * @module
 */
import assert from "node:assert/strict";
import { order, startTestServer, TestClient, waitFor } from "./helpers.ts";
import { sqliteExec } from "./sqlite_helpers.ts";
import { capacity, ISO_MS, type Row, row, rows, waitForFinished } from "./server_helpers.ts";

Deno.test("finished orders store ISO-8601 UTC dates with ms, their duration and their worker", async () => {
  const workMs = 120;
  await using t = await startTestServer({ workers: 3, workMs, max: 10 });
  await using client = await TestClient.open(t.port);
  const before = Date.now();
  await client.send(
    Array.from({ length: 6 }, (_, i) => JSON.stringify(order({ cliente: `F${i}` })) + "\n").join(
      "",
    ),
  );
  const replies = await client.readJsons(6);
  assert.ok(replies.every((reply) => reply.ok === true));
  const finished = await waitForFinished(t.db, 6);
  const after = Date.now();
  for (const r of finished) {
    assert.equal(r.estado, "listo");
    for (const date of [r.fecha_recibido, r.fecha_inicio, r.fecha_fin]) {
      assert.match(date ?? "", ISO_MS, `order #${r.id}: ${date}`);
      const ms = Date.parse(date!);
      assert.ok(ms >= before - 1000 && ms <= after + 1000, `order #${r.id}: ${date} out of range`);
    }
    const recibido = Date.parse(r.fecha_recibido);
    const inicio = Date.parse(r.fecha_inicio!);
    const fin = Date.parse(r.fecha_fin!);
    assert.ok(recibido <= inicio && inicio <= fin, `order #${r.id}: dates out of order`);
    assert.equal(typeof r.duracion, "number");
    assert.ok(
      Math.abs(r.duracion! - (fin - inicio) / 1000) < 1e-9,
      `order #${r.id}: duracion ${r.duracion} vs ${fin - inicio} ms`,
    );
    assert.ok(Math.abs(r.duracion! * 1000 - Math.round(r.duracion! * 1000)) < 1e-6, "ms precision");
    // The simulated work is a sleep of workMs: it cannot take less.
    assert.ok(r.duracion! >= (workMs - 2) / 1000, `order #${r.id}: ${r.duracion} s`);
    assert.ok(Number.isInteger(r.worker) && r.worker! >= 1 && r.worker! <= 3, `worker ${r.worker}`);
    assert.equal(r.intentos, 1);
    assert.equal(r.motivo_fallo, null);
  }
});

Deno.test("orders run in parallel: start and end times overlap across workers", async () => {
  await using t = await startTestServer({ workers: 3, workMs: 600, max: 6 });
  await using client = await TestClient.open(t.port, "::1");
  await client.send(
    Array.from({ length: 3 }, (_, i) => JSON.stringify(order({ cliente: `P${i}` })) + "\n").join(
      "",
    ),
  );
  await client.readJsons(3);
  const finished = await waitForFinished(t.db, 3);
  assert.deepEqual(new Set(finished.map((r) => r.worker)), new Set([1, 2, 3]), "one per worker");
  const interval = (r: Row) => [Date.parse(r.fecha_inicio!), Date.parse(r.fecha_fin!)] as const;
  let overlapping = 0;
  for (let i = 0; i < finished.length; i++) {
    for (let j = i + 1; j < finished.length; j++) {
      const [a0, a1] = interval(finished[i]!);
      const [b0, b1] = interval(finished[j]!);
      if (a0 < b1 && b0 < a1) overlapping++;
    }
  }
  assert.ok(overlapping >= 1, `no two of ${JSON.stringify(finished)} overlap`);
  const stats = (await client.request({ tipo: "estadisticas" })).estadisticas as {
    maxSimultaneos: number;
  };
  assert.ok(stats.maxSimultaneos >= 2, `maxSimultaneos ${stats.maxSimultaneos}`);
});

Deno.test("the database stays readable by another connection while orders are in process", async () => {
  await using t = await startTestServer({ workers: 1, workMs: 800, max: 4 });
  await using client = await TestClient.open(t.port);
  const first = await client.request(order({ cliente: "Primero" }));
  const second = await client.request(order({ cliente: "Segundo" }));
  const inProcess = await waitFor(async () => {
    const r = await row(t.db, first.id as number);
    return r?.estado === "en proceso" ? r : undefined;
  }, "the first order in process");
  assert.match(inProcess.fecha_inicio ?? "", ISO_MS);
  assert.equal(inProcess.fecha_fin, null);
  assert.equal(inProcess.duracion, null);
  assert.equal(inProcess.worker, 1);
  assert.equal(inProcess.intentos, 1);
  const queued = (await row(t.db, second.id as number))!;
  assert.equal(queued.estado, "en cola");
  assert.equal(queued.fecha_inicio, null);
  assert.equal(queued.intentos, 0);
  await waitForFinished(t.db, 2);
});

Deno.test("an acknowledged order is already in the database when its reply arrives", async () => {
  await using t = await startTestServer({ workMs: 10, max: 100 });
  await using client = await TestClient.open(t.port);
  for (let i = 0; i < 20; i++) {
    const reply = await client.request(order({ cliente: `Ack ${i}` }));
    assert.equal(reply.ok, true);
    // Read through a separate connection, right away.
    assert.equal(
      (await row(t.db, reply.id as number))?.cliente,
      `Ack ${i}`,
      `order ${i} not committed`,
    );
  }
});

Deno.test("a final state that cannot be written is retried until it lands, holding its permit (SQLite: a trigger refuses it)", async () => {
  await using t = await startTestServer({ workMs: 200, max: 2 });
  // While `bloqueo` has a row, marking any order `listo` fails.
  sqliteExec(
    t.db,
    `CREATE TABLE bloqueo (x);
     INSERT INTO bloqueo VALUES (1);
     CREATE TRIGGER bloquea BEFORE UPDATE OF estado ON pedidos
       WHEN NEW.estado = 'listo' AND (SELECT count(*) FROM bloqueo) > 0
       BEGIN SELECT RAISE(ABORT, 'bloqueado por la prueba'); END`,
  );
  await using client = await TestClient.open(t.port);
  const reply = await client.request(order({ avisar: true }));
  assert.equal(reply.ok, true);
  await waitFor(
    () => t.log.lines.some((line) => line.includes("bloqueado por la prueba")),
    "a failed commit",
  );
  assert.notEqual((await row(t.db, reply.id as number))?.estado, "listo");
  assert.deepEqual(await capacity(t.port), { max: 2, libres: 1 }, "the permit is still held");

  sqliteExec(t.db, "DELETE FROM bloqueo");
  const event = await client.readJson();
  assert.equal(event.evento, "terminado");
  assert.equal(event.estado, "listo");
  assert.equal((await row(t.db, reply.id as number))?.estado, "listo");
  assert.deepEqual(await capacity(t.port), { max: 2, libres: 2 });
});

Deno.test("a second server on the same database or port refuses to start, and the first goes on", async () => {
  await using t = await startTestServer();
  await assert.rejects(startTestServer({ db: t.db }), { name: "DatabaseInUseError" });

  const dir = await Deno.makeTempDir({ prefix: "pedidos-test-" });
  try {
    const otherDb = `${dir}/otra.db`;
    await assert.rejects(startTestServer({ db: otherDb, port: t.port }), {
      name: "PortInUseError",
    });
    // The failed start released that database: a server can use it now.
    await using other = await startTestServer({ db: otherDb });
    assert.ok(other.port !== t.port);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  await using client = await TestClient.open(t.port, "::1");
  assert.equal((await client.request(order())).ok, true);
  assert.equal((await rows(t.db)).length, 1);
});
