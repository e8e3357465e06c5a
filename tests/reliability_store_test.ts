/**
 * Store faults on a real server process: the database locked by another
 * process, its files made unwritable mid-run, and a full disk. Each time:
 * clients get `codigo: "interno"` instead of a false `ok`, the server keeps
 * answering what it can, nothing acknowledged is lost, and it recovers when
 * the store is writable again.
 *
 * SQLite-specific: the faults are made on the database file, and the file is
 * checked with `PRAGMA integrity_check` afterwards.
 */
import assert from "node:assert/strict";
import { order, readOrders, spawnServer, tempDir, TestClient, waitFor } from "./helpers.ts";
import {
  canMakeImmutable,
  canMountTmpfs,
  fillDisk,
  setImmutable,
  sleep,
  smallTmpfs,
  unfinishedCount,
} from "./reliability_helpers.ts";
import { holdSqliteWriteLock, sqliteIntegrityCheck } from "./sqlite_helpers.ts";

const FLAGS = ["--work-ms", "5", "--max", "100"];

/** Whether every order in `ids` is stored and `listo`. */
async function allListo(db: string, ids: readonly number[]): Promise<boolean> {
  const listos = new Set(
    (await readOrders(db, { estados: ["listo"] })).map((stored) => stored.id),
  );
  return ids.every((id) => listos.has(id));
}

/** Sends orders and returns the ids of those acknowledged, asserting each was. */
async function submitOk(client: TestClient, tag: string, count: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const reply = await client.request(order({ cliente: `${tag} ${i}` }));
    assert.equal(reply.ok, true, `${tag} ${i}: ${JSON.stringify(reply)}`);
    ids.push(reply.id as number);
  }
  return ids;
}

/**
 * The part every store fault shares: before the fault some orders are
 * acknowledged (one of them still in process, so its state change meets the
 * fault); during it new orders get `interno` and status queries are answered;
 * after it everything acknowledged ends `listo` and new orders are accepted.
 */
async function storeFaultScenario(
  db: string,
  inject: () => Promise<void>,
  repair: () => Promise<void>,
  extraFlags: string[] = [],
) {
  await using server = await spawnServer(["--db", db, ...FLAGS, ...extraFlags]);
  await using client = await TestClient.open(server.port);
  const before = await submitOk(client, "antes", 5);
  await waitFor(() => allListo(db, before), "orders before the fault");
  // Still in process when the fault comes: its state changes must survive it.
  await using watcher = await TestClient.open(server.port);
  const slow = await watcher.request(order({ cliente: "lento", avisar: true }));
  assert.equal(slow.ok, true);

  await inject();
  try {
    await client.sendLine(order({ cliente: "durante" }));
    // SQLite's busy timeout (5 s) may hold up each attempt while the store is locked.
    const during = await client.readJson(25_000);
    assert.equal(during.ok, false, `an order during the fault: ${JSON.stringify(during)}`);
    assert.equal(during.codigo, "interno");
    // What needs no write still works.
    await using other = await TestClient.open(server.port);
    const status = await other.request({ tipo: "estado", id: before[0]! });
    assert.equal(status.ok, true);
  } finally {
    await repair();
  }

  const after = await submitOk(client, "después", 3);
  const acked = [...before, slow.id as number, ...after];
  await waitFor(() => allListo(db, acked), "every acked order", 20_000);
  assert.deepEqual(await readOrders(db, { clientePrefix: "durante" }), []);
  await waitFor(async () => await unfinishedCount(db) === 0, "nothing left unfinished");
  const finished = await watcher.readJson();
  assert.deepEqual([finished.evento, finished.id, finished.estado], [
    "terminado",
    slow.id,
    "listo",
  ]);
  client.close();
  watcher.close();
  server.kill("SIGTERM");
  assert.equal((await server.exited()).code, 0);
  assert.equal(sqliteIntegrityCheck(db), "ok");
  assert.match(server.stderr(), /no se pudo escribir en la base de datos/);
}

Deno.test("while another process holds the database's write lock, orders get interno and nothing acknowledged is lost", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/pedidos.db`;
  let lock: { release(): void } | undefined;
  await storeFaultScenario(
    db,
    () => {
      lock = holdSqliteWriteLock(db);
      return Promise.resolve();
    },
    async () => {
      await sleep(500);
      lock?.release();
    },
    ["--work-ms", "300"],
  );
  assert.deepEqual(await readOrders(db, { clientePrefix: "intruso" }), []);
});

Deno.test("while another process holds the write lock, the server still answers other clients promptly", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/pedidos.db`;
  await using server = await spawnServer(["--db", db, ...FLAGS]);
  await using client = await TestClient.open(server.port);
  const [id] = await submitOk(client, "antes", 1);
  await waitFor(() => allListo(db, [id!]), "first order");
  const lock = holdSqliteWriteLock(db);
  try {
    // This order's commit waits on the lock (interno in the end)...
    await client.sendLine(order({ cliente: "durante" }));
    await sleep(100);
    // ...but a greeting and a status query need no write lock, and must not wait behind it.
    const started = Date.now();
    await using other = await TestClient.open(server.port);
    const status = await other.request({ tipo: "estado", id: id! });
    const waited = Date.now() - started;
    assert.equal(status.ok, true);
    assert.ok(
      waited < 1500,
      `a status query waited ${waited} ms behind another process's lock: the event loop is blocked in SQLite's busy handler`,
    );
  } finally {
    lock.release();
  }
  const reply = await client.readJson(20_000);
  assert.equal(reply.codigo, "interno");
});

const immutable = await canMakeImmutable();

Deno.test({
  name: "database files made unwritable mid-run (chattr +i): interno, then full recovery",
  ignore: !immutable,
  async fn() {
    await using dir = await tempDir();
    const db = `${dir.path}/pedidos.db`;
    // Not the -shm index: it is memory-mapped, and an immutable mapping is a
    // SIGBUS (a crash, which the crash test covers), not a failed write.
    const files = [db, `${db}-wal`];
    try {
      await storeFaultScenario(
        db,
        async () => assert.ok(await setImmutable(files, true), "chattr +i"),
        async () => {
          await sleep(500);
          assert.ok(await setImmutable(files, false), "chattr -i");
        },
        ["--work-ms", "300"],
      );
    } finally {
      await setImmutable(files, false);
    }
  },
});

const tmpfs = await canMountTmpfs();

Deno.test({
  name:
    "a full disk (small tmpfs): interno, the server keeps serving, and recovers when space returns",
  ignore: !tmpfs,
  async fn() {
    await using fs = await smallTmpfs(4 * 1024 * 1024);
    assert.ok(fs);
    const db = `${fs.path}/pedidos.db`;
    let filler: string | undefined;
    await storeFaultScenario(
      db,
      async () => {
        filler = await fillDisk(fs.path);
      },
      async () => {
        await sleep(500);
        if (filler) await Deno.remove(filler);
      },
      ["--work-ms", "300"],
    );
  },
});
