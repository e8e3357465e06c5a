/**
 * `/readyz` on a real server process: 503 while it drains after SIGTERM
 * with orders in process, and while another process holds the database's
 * write lock; 200 again once the store takes writes. `/healthz` stays 200
 * as long as the process serves.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { order, spawnServer, tempDir, TestClient, waitFor } from "./helpers.ts";
import { httpUrlFrom, readiness, scrape } from "./http_helpers.ts";

Deno.test("after SIGTERM with orders in process /readyz answers 503 until the drain ends, and late orders count as apagando", async () => {
  await using dir = await tempDir();
  await using server = await spawnServer([
    "--db",
    `${dir.path}/pedidos.db`,
    "--http",
    "0",
    "--work-ms",
    "1500",
    "--drain-ms",
    "10000",
  ]);
  const url = httpUrlFrom(server.stderr());
  assert.deepEqual(await readiness(url), { status: 200, body: { listo: true } });
  await using client = await TestClient.open(server.port);
  assert.equal((await client.request(order())).ok, true);
  await waitFor(async () => (await scrape(url)).value("pedidos_workers_busy") === 1, "work");

  server.kill("SIGTERM");
  const draining = await waitFor(async () => {
    const ready = await readiness(url);
    return ready.status === 503 ? ready : undefined;
  }, "readiness to drop");
  assert.deepEqual(draining.body, { listo: false, motivo: "apagando: no se admiten pedidos" });
  const health = await fetch(new URL("healthz", url));
  assert.equal(health.status, 200, "still alive while draining");
  await health.body?.cancel();
  // The open connection may still send; the answer is apagando, and it is counted.
  assert.equal((await client.request(order())).codigo, "apagando");
  const during = await scrape(url);
  assert.equal(during.value("pedidos_orders_received_total", { result: "apagando" }), 1);
  assert.equal(during.value("pedidos_orders", { state: "en_proceso" }), 1);

  const { code } = await server.exited();
  assert.equal(code, 0);
  await assert.rejects(fetch(new URL("healthz", url)), "the HTTP side stops with the server");
});

/** Holds SQLite's write lock from this (other) process until released. */
function holdWriteLock(db: string): { release(): void } {
  const holder = new DatabaseSync(db);
  holder.exec("PRAGMA busy_timeout = 2000");
  holder.exec("BEGIN EXCLUSIVE");
  return {
    release() {
      holder.exec("ROLLBACK");
      holder.close();
    },
  };
}

Deno.test("while another process holds the write lock /readyz answers 503, and 200 again once an order commits", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/pedidos.db`;
  await using server = await spawnServer(["--db", db, "--http", "0", "--work-ms", "5"]);
  const url = httpUrlFrom(server.stderr());
  await using client = await TestClient.open(server.port);
  assert.equal((await client.request(order())).ok, true);
  assert.equal((await readiness(url)).status, 200);

  const lock = holdWriteLock(db);
  try {
    const refused = await client.request(order());
    assert.equal(refused.codigo, "interno");
    const ready = await readiness(url);
    assert.deepEqual(ready, {
      status: 503,
      body: { listo: false, motivo: "la base de datos no admite escrituras" },
    });
    assert.equal(
      (await scrape(url)).value("pedidos_orders_received_total", { result: "interno" }),
      1,
    );
  } finally {
    lock.release();
  }
  assert.equal((await client.request(order())).ok, true);
  await waitFor(async () => (await readiness(url)).status === 200, "readiness back");
  client.close();
  server.kill("SIGTERM");
  assert.equal((await server.exited()).code, 0);
});
