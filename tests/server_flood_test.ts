/**
 * Clients that pipeline cheap requests and never read the replies: what one
 * connection can make the server hold and compute stays bounded, other
 * clients are still served, and a main thread kept busy does not turn
 * orders that finished in time into timeouts. The server runs as a child
 * process, so its memory is its own.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  countOrders,
  order,
  readOrders,
  spawnServer,
  tempDir,
  TestClient,
  waitFor,
} from "./helpers.ts";
import { processUsage } from "../tools/proc.ts";

const encoder = new TextEncoder();

/** Sends `count` orders on one connection and waits until every one has finished. */
async function finishOrders(port: number, db: string, count: number): Promise<void> {
  await using client = await TestClient.open(port);
  const line = JSON.stringify(order()) + "\n";
  await client.send(line.repeat(count));
  const replies = await client.readJsons(count, 30_000);
  assert.ok(replies.every((reply) => reply.ok === true), "every order admitted");
  await waitFor(
    async () => (await countOrders(db, { estados: ["listo"] })) === count,
    `${count} orders listo`,
    30_000,
  );
}

/**
 * A client that has read its greeting and writes `bytes` of `request` lines
 * without ever reading; the writes stop wherever the server stops reading.
 */
async function floodWithoutReading(
  port: number,
  request: object,
  bytes: number,
): Promise<AsyncDisposable> {
  const client = await TestClient.open(port);
  const line = JSON.stringify(request) + "\n";
  const chunk = encoder.encode(line.repeat(Math.ceil(64 * 1024 / line.length)));
  const writing = (async () => {
    for (let sent = 0; sent < bytes; sent += chunk.length) await client.send(chunk);
  })().catch(() => {
    // Cut short when the server or the test closes the connection.
  });
  return {
    async [Symbol.asyncDispose]() {
      await client[Symbol.asyncDispose]();
      await writing;
    },
  };
}

/** Milliseconds from connecting to reading the greeting. */
async function greetingDelay(port: number): Promise<number> {
  const started = performance.now();
  await using client = await TestClient.open(port);
  assert.equal(client.bienvenida.tipo, "bienvenida");
  return performance.now() - started;
}

Deno.test("clients pipelining estadisticas without reading cannot make the server hold hundreds of MB or delay greetings", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/pedidos.db`;
  await using server = await spawnServer([
    "--db",
    db,
    "--work-ms",
    "0",
    "--workers",
    "2",
    "--max",
    "5000",
    "--sync",
    "normal",
    "--quiet",
  ]);
  // Past 2,000 finished orders the timeline holds its most intervals.
  await finishOrders(server.port, db, 2500);
  const before = processUsage(server.child.pid).rssBytes / 1024;

  const floods: AsyncDisposable[] = [];
  try {
    for (let i = 0; i < 8; i++) {
      const request = i % 2 === 0
        ? { tipo: "estadisticas" }
        : { tipo: "estadisticas", intervalos: true };
      floods.push(await floodWithoutReading(server.port, request, 4 * 1024 * 1024));
    }
    // Let the server take in what it will of the floods.
    let peakKb = before;
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      peakKb = Math.max(peakKb, processUsage(server.child.pid).rssBytes / 1024);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const delays = [];
    for (let i = 0; i < 3; i++) delays.push(await greetingDelay(server.port));
    peakKb = Math.max(peakKb, processUsage(server.child.pid).rssBytes / 1024);

    const grownMb = (peakKb - before) / 1024;
    // Before the bound, each such client made the server build ~100 MB of replies.
    assert.ok(grownMb < 250, `the server grew by ${grownMb.toFixed(0)} MB`);
    assert.ok(
      Math.max(...delays) < 2000,
      `greetings took ${delays.map((d) => d.toFixed(0)).join(", ")} ms`,
    );
  } finally {
    for (const flood of floods) await flood[Symbol.asyncDispose]();
  }
});

/** Reads and drops everything the server sends until the connection closes. */
async function drain(conn: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(256 * 1024);
  try {
    while (await conn.read(buffer) !== null) {
      // Only the server's effort matters here.
    }
  } catch {
    // Closed by the test.
  }
}

Deno.test("orders that finish in time end listo while another client floods estado queries", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/pedidos.db`;
  await using server = await spawnServer([
    "--db",
    db,
    "--work-ms",
    "100",
    "--timeout-ms",
    "400",
    "--retries",
    "0",
    "--workers",
    "2",
    "--quiet",
  ]);
  // The largest order there is: each estado reply carries ~20 KB of it.
  await using flooder = await TestClient.open(server.port);
  // With its key, the whole order comes back.
  const big = order({
    cliente: "Grande",
    productos: Array.from({ length: 100 }, (_, i) => `${i}`.padEnd(200, "x")),
    clave: "grande",
  });
  const { id } = await flooder.request(big);
  const query = encoder.encode(JSON.stringify({ tipo: "estado", id, clave: "grande" }) + "\n");
  const burst = new Uint8Array(query.length * 2700);
  for (let i = 0; i < 2700; i++) burst.set(query, i * query.length);
  let flooding = true;
  const reading = drain(flooder.conn);
  const writing = (async () => {
    while (flooding) await flooder.send(burst);
  })().catch(() => {});

  await using client = await TestClient.open(server.port);
  const ids: number[] = [];
  for (let i = 0; i < 12; i++) {
    await client.sendLine(order({ cliente: `A tiempo ${i}` }));
    const reply = await client.readJson(30_000);
    assert.equal(reply.ok, true, JSON.stringify(reply));
    ids.push(reply.id as number);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  const finished = await waitFor(
    async () => {
      const wanted = new Set(ids);
      const rows = (await readOrders(db))
        .filter((r) => wanted.has(r.id))
        .map(({ id, estado, motivo_fallo }) => ({ id, estado, motivo_fallo }));
      return rows.every((r) => r.estado === "listo" || r.estado === "fallido") ? rows : undefined;
    },
    "the orders finished",
    30_000,
  );
  flooding = false;
  flooder.close();
  await Promise.all([reading, writing]);
  assert.deepEqual(
    finished.filter((r) => r.estado !== "listo"),
    [],
    "100 ms of work never exceeds a 400 ms timeout",
  );
});
