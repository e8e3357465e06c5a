/**
 * Recovery: orders left unfinished by a shutdown or by `kill -9` are
 * processed after a restart on the same database, each acknowledged order
 * exactly once.
 *
 * @module
 */
import assert from "node:assert/strict";
import { order, spawnServer, startTestServer, tempDir, TestClient, waitFor } from "./helpers.ts";
import {
  capacity,
  delay,
  type Row,
  rows,
  unfinished,
  waitForFinished,
  waitForFullCapacity,
  waitForInProcess,
} from "./server_helpers.ts";

Deno.test("orders left queued or in process at shutdown are processed after a restart, in id order", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/pedidos.db`;
  {
    await using t = await startTestServer({ db, workers: 1, workMs: 3000, drainMs: 0, max: 10 });
    await using client = await TestClient.open(t.port);
    const ids = [];
    for (const cliente of ["Uno", "Dos", "Tres", "Cuatro"]) {
      ids.push((await client.request(order({ cliente }))).id);
    }
    assert.deepEqual(ids, [1, 2, 3, 4]);
    await waitForInProcess(db, 1);
    client.close();
    const summary = await t.server.shutdown();
    assert.equal(summary.abandoned, 1);
    assert.equal(summary.queued, 3);
  }
  const stopped = await rows(db);
  assert.deepEqual(stopped.map((r) => [r.estado, r.intentos]), [
    ["en proceso", 1],
    ["en cola", 0],
    ["en cola", 0],
    ["en cola", 0],
  ]);

  await using t = await startTestServer({ db, workers: 1, workMs: 30, max: 10 });
  assert.equal(t.server.recovered, 4);
  assert.ok(t.log.lines.some((line) => line.includes("recuperados 4 pedidos")));
  const finished = await waitForFinished(db, 4);
  assert.deepEqual(finished.map((r) => r.estado), ["listo", "listo", "listo", "listo"]);
  assert.deepEqual(finished.map((r) => r.intentos), [2, 1, 1, 1], "one more attempt each");
  assert.deepEqual(finished.map((r) => r.cliente), ["Uno", "Dos", "Tres", "Cuatro"]);
  const starts = finished.map((r) => Date.parse(r.fecha_inicio!));
  assert.deepEqual(starts, [...starts].sort((a, b) => a - b), "one worker took them in id order");
  // New orders continue the id sequence.
  await using client = await TestClient.open(t.port);
  assert.equal((await client.request(order())).id, 5);
});

Deno.test("recovered orders hold permits beyond max until they finish", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/pedidos.db`;
  {
    await using t = await startTestServer({ db, workers: 1, workMs: 5000, drainMs: 0, max: 10 });
    await using client = await TestClient.open(t.port);
    for (let i = 0; i < 4; i++) assert.equal((await client.request(order())).ok, true);
  }
  // Four recovered orders, max 2: no permit is free until three have finished.
  await using t = await startTestServer({ db, workers: 1, workMs: 600, max: 2 });
  assert.equal(t.server.recovered, 4);
  assert.deepEqual(await capacity(t.port), { max: 2, libres: 0 });
  await using client = await TestClient.open(t.port);
  assert.equal((await client.request(order())).codigo, "limite");
  await waitForFinished(db, 4);
  await waitForFullCapacity(t.port);
  assert.equal((await client.request(order())).ok, true);
});

/** A small seeded PRNG (mulberry32), so that a failing run can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Sends orders pipelined over two connections (IPv4 and IPv6), records which
 * were acknowledged with which id, and kills the server with SIGKILL once
 * `killAfter` acknowledgements arrived, while orders are still being sent and
 * processed. Then restarts it on the same database and checks that every
 * acknowledged order is processed exactly once and nothing else appears.
 */
async function crashAndRecover(seed: number) {
  const random = seeded(seed);
  await using dir = await tempDir();
  const db = `${dir.path}/crash.db`;
  const sent = new Set<string>();
  const acked = new Map<number, string>();
  const killAfter = 10 + Math.floor(random() * 40);
  // How long after that the kill comes: 0 kills among the first
  // acknowledgements, later ones let some orders finish first.
  const killDelay = Math.floor(random() * 500);

  {
    await using proc = await spawnServer([
      "--db",
      db,
      "--work-ms",
      "200",
      "--max",
      "1000",
      "--workers",
      "8",
    ]);
    let killed = false;
    let killScheduled: ReturnType<typeof setTimeout> | undefined;
    const kill = () => {
      clearTimeout(killScheduled);
      if (killed) return;
      killed = true;
      proc.kill("SIGKILL");
    };
    const scheduleKill = () => killScheduled ??= setTimeout(kill, killDelay);
    const clients = [
      await TestClient.open(proc.port, "127.0.0.1"),
      await TestClient.open(proc.port, "::1"),
    ];
    try {
      const writersDone: Promise<void>[] = [];
      const readersDone: Promise<void>[] = [];
      clients.forEach((client, c) => {
        const mine: string[] = [];
        writersDone.push((async () => {
          for (let batch = 0; batch < 30 && !killed; batch++) {
            const size = 2 + Math.floor(random() * 5);
            let text = "";
            for (let k = 0; k < size; k++) {
              const cliente = `seed ${seed} conn ${c} #${mine.length}`;
              mine.push(cliente);
              sent.add(cliente);
              text += JSON.stringify(order({ cliente })) + "\n";
            }
            try {
              await client.send(text);
            } catch {
              return; // the server is gone
            }
            await delay(5 + Math.floor(random() * 25));
          }
        })());
        readersDone.push((async () => {
          for (let index = 0;; index++) {
            let reply;
            try {
              reply = await client.readJson(10_000);
            } catch {
              return; // closed or reset by the kill
            }
            assert.equal(reply.ok, true, `seed ${seed}: ${JSON.stringify(reply)}`);
            acked.set(reply.id as number, mine[index]!);
            if (acked.size >= killAfter) scheduleKill();
          }
        })());
      });
      // If every order was sent before the kill, kill once they are all
      // acknowledged: most are still queued or in process.
      await Promise.all(writersDone);
      await waitFor(() => killed || acked.size === sent.size, "acknowledgements", 10_000);
      kill();
      await Promise.all(readersDone);
    } finally {
      for (const client of clients) client.close();
    }
    await proc.exited();
  }
  assert.ok(acked.size >= Math.min(killAfter, sent.size), `seed ${seed}: too few acks`);

  // Durable before the restart: every acknowledged order is in the file.
  const atCrash = new Map((await rows(db)).map((r) => [r.id, r]));
  for (const [id, cliente] of acked) {
    assert.equal(atCrash.get(id)?.cliente, cliente, `seed ${seed}: acked #${id} lost in the crash`);
  }
  const interrupted = await unfinished(db);

  await using restarted = await spawnServer([
    "--db",
    db,
    "--work-ms",
    "20",
    "--max",
    "1000",
    "--workers",
    "8",
  ]);
  if (interrupted > 0) {
    assert.match(restarted.stderr(), new RegExp(`recuperados ${interrupted} pedidos`));
  }
  await waitFor(async () => (await unfinished(db)) === 0, `seed ${seed}: recovery`, 15_000);
  const final: Row[] = await rows(db);

  for (const [id, cliente] of acked) {
    const r = final.find((candidate) => candidate.id === id);
    assert.equal(r?.cliente, cliente, `seed ${seed}: acked #${id}`);
    assert.equal(r.estado, "listo", `seed ${seed}: acked #${id} is ${r.estado}`);
  }
  const clientes = final.map((r) => r.cliente);
  assert.equal(new Set(clientes).size, clientes.length, `seed ${seed}: an order stored twice`);
  for (const r of final) {
    assert.ok(sent.has(r.cliente), `seed ${seed}: #${r.id} (${r.cliente}) was never sent`);
    assert.equal(r.estado, "listo", `seed ${seed}: #${r.id} is ${r.estado}`);
    assert.ok(r.intentos >= 1);
  }
  assert.ok(final.length <= sent.size, `seed ${seed}: ${final.length} rows, ${sent.size} sent`);
  // Orders finished before the crash were not processed again.
  for (const before of atCrash.values()) {
    if (before.estado !== "listo") continue;
    const after = final.find((r) => r.id === before.id)!;
    assert.deepEqual(
      [after.fecha_inicio, after.fecha_fin, after.intentos],
      [before.fecha_inicio, before.fecha_fin, before.intentos],
      `seed ${seed}: #${before.id} processed again`,
    );
  }

  restarted.kill("SIGTERM");
  assert.equal((await restarted.exited()).code, 0);
}

// Seeds chosen for variety: kills at once (1), after 10 acknowledgements (7), and
// 160-430 ms later, once some orders have finished (2, 5, 9).
for (const seed of [1, 2, 5, 7, 9]) {
  Deno.test(`after kill -9 mid-stream (seed ${seed}) every acknowledged order is processed exactly once`, async () => {
    await crashAndRecover(seed);
  });
}
