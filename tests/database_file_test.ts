/**
 * The database file deleted or renamed under a running server. SQLite keeps
 * writing into the file it has open, so without a check every later `ok`
 * would be a lie: the orders would vanish with the deleted file, or live
 * only in an orphaned `-wal`. The server must notice before acknowledging,
 * answer `interno`, say so once, and keep a second server off the `-wal`.
 */
import assert from "node:assert/strict";
import {
  countOrders,
  order,
  spawnServer,
  startTestServer,
  tempDir,
  TestClient,
} from "./helpers.ts";
import { waitForFinished } from "./server_helpers.ts";

/** Log lines at error level. */
function errorLines(lines: readonly string[]): string[] {
  return lines.filter((line) => line.startsWith("pedidos: error: "));
}

/**
 * Acknowledges one order, takes the file away, and checks that later orders
 * get `interno`, a status query is still answered, and one error line
 * explains it (`what` is how the line describes the change).
 */
async function fileTakenAway(takeAway: (db: string) => Promise<void>, what: RegExp) {
  await using t = await startTestServer({ workMs: 5 });
  await using client = await TestClient.open(t.port);
  const before = await client.request(order({ cliente: "antes" }));
  assert.equal(before.ok, true, JSON.stringify(before));
  await waitForFinished(t.db, 1);

  await takeAway(t.db);
  for (const cliente of ["después 1", "después 2", "después 3"]) {
    const reply = await client.request(order({ cliente }));
    assert.equal(reply.ok, false, `${cliente}: ${JSON.stringify(reply)}`);
    assert.equal(reply.codigo, "interno");
  }
  const status = await client.request({ tipo: "estado", id: before.id as number });
  assert.equal(status.ok, true, JSON.stringify(status));

  const errors = errorLines(t.log.lines);
  assert.equal(errors.length, 1, errors.join("\n"));
  assert.match(errors[0]!, new RegExp(`base de datos ${t.db} `));
  assert.match(errors[0]!, what);
  assert.match(errors[0]!, /no se confirman más pedidos/);
}

Deno.test("after the database file is deleted, new orders get interno, not ok, and one error line says why", async () => {
  await fileTakenAway((db) => Deno.remove(db), /fue borrada/);
});

Deno.test("after the database file is renamed, new orders get interno, not ok, and one error line says why", async () => {
  await fileTakenAway((db) => Deno.rename(db, `${db}.movida`), /ya no está en su ruta/);
});

Deno.test("after a rename a second server on the path refuses to start and the -wal stays intact, also once the first has stopped", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/pedidos.db`;
  const moved = `${dir.path}/movida.db`;
  {
    await using first = await startTestServer({ db, workMs: 5 });
    await using client = await TestClient.open(first.port);
    for (let i = 0; i < 5; i++) assert.equal((await client.request(order())).ok, true);
    await waitForFinished(db, 5);
    await Deno.rename(db, moved);
    const wal = await Deno.readFile(`${db}-wal`);
    assert.ok(wal.length > 0, "the first server's -wal holds its recent commits");

    const error = await spawnServer(["--db", db]).then(
      () => assert.fail("a second server started on a path whose database is in use"),
      (error) => error as { code: number; stderr: string },
    );
    assert.equal(error.code, 1, error.stderr);
    assert.match(error.stderr, /^pedidos-server: error: .*ya está en uso/);
    assert.deepEqual(await Deno.readFile(`${db}-wal`), wal, "the -wal was not touched");
    await assert.rejects(Deno.stat(db), Deno.errors.NotFound, "no new database at the path");
  }
  // The renamed database's last commits live only in that -wal: a server
  // started on the path must not throw it away, and moving the database
  // back must bring every acknowledged order back.
  const orphan = await Deno.readFile(`${db}-wal`);
  const refused = await spawnServer(["--db", db]).then(
    () => assert.fail("a server started beside an orphaned -wal"),
    (error) => error as { code: number; stderr: string },
  );
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /^pedidos-server: error: .*pedidos\.db-wal guarda cambios .*\n$/);
  assert.deepEqual(await Deno.readFile(`${db}-wal`), orphan, "the orphaned -wal was not touched");
  await Deno.rename(moved, db);
  await using restarted = await spawnServer(["--db", db]);
  assert.ok(restarted.port > 0);
  assert.equal(await countOrders(db), 5);
});
