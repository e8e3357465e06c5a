/**
 * The backlog on disk, end to end: more orders than the pool's window (at
 * least 1,024 in memory) wait in the database and still reach one worker in
 * id order, each once; after a kill -9 with a backlog, the restart takes it
 * up without losing or repeating any order.
 *
 * @module
 */
import assert from "node:assert/strict";
import { spawnServer, tempDir, TestClient } from "./helpers.ts";
import { rows, waitForFinished } from "./server_helpers.ts";

const ORDERS = 3000;

/** Sends `count` orders pipelined on one connection; resolves with their ids, in order. */
async function sendOrders(port: number, count: number, tag: string): Promise<number[]> {
  await using client = await TestClient.open(port);
  const lines = Array.from(
    { length: count },
    (_, i) =>
      JSON.stringify({ cliente: `${tag}-${i}`, productos: ["pan"], direccion: "C 1" }) + "\n",
  );
  await client.send(lines.join(""));
  const ids = [];
  for (let i = 0; i < count; i++) {
    const reply = await client.readJson(30_000);
    assert.equal(reply.ok, true, JSON.stringify(reply));
    ids.push(reply.id as number);
  }
  return ids;
}

Deno.test("orders beyond the window wait on disk and reach a single worker in id order, each once", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/pedidos.db`;
  await using server = await spawnServer([
    "--db",
    db,
    "--workers",
    "1",
    "--work-ms",
    "2",
    "--max",
    String(ORDERS),
  ]);
  const ids = await sendOrders(server.port, ORDERS, "fila");
  assert.deepEqual(ids, Array.from({ length: ORDERS }, (_, i) => i + 1));
  const finished = await waitForFinished(db, ORDERS, 60_000);
  assert.ok(finished.every((r) => r.estado === "listo" && r.intentos === 1));
  const starts = finished.map((r) => Date.parse(r.fecha_inicio!));
  for (let i = 1; i < starts.length; i++) {
    assert.ok(starts[i]! >= starts[i - 1]!, `#${i + 1} started before #${i}`);
  }
});

Deno.test("a kill -9 with a backlog on disk loses and repeats nothing after the restart", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/pedidos.db`;
  const args = ["--db", db, "--workers", "1", "--work-ms", "2", "--max", String(ORDERS)];
  {
    await using server = await spawnServer(args);
    await sendOrders(server.port, ORDERS, "antes");
    server.kill("SIGKILL");
    await server.exited();
  }
  const left = (await rows(db)).filter((r) => r.estado !== "listo").length;
  assert.ok(left > 1024, `only ${left} orders were left: the backlog was not on disk`);
  await using again = await spawnServer(args);
  assert.match(again.stderr(), new RegExp(`recuperados ${left} pedidos`));
  const finished = await waitForFinished(db, ORDERS, 60_000);
  assert.equal(finished.length, ORDERS);
  assert.ok(finished.every((r) => r.estado === "listo"));
  assert.ok(
    finished.every((r) => r.intentos <= 2),
    "one more attempt at most, for the one running",
  );
  assert.deepEqual(finished.map((r) => r.cliente), ids("antes"));
});

function ids(tag: string): string[] {
  return Array.from({ length: ORDERS }, (_, i) => `${tag}-${i}`);
}
