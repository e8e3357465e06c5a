/**
 * Client faults: clients that vanish, half-close, reset, hoard connections,
 * trickle bytes, or never read. None of them may cost an order, and none may
 * cost the server more than a bounded amount of memory or descriptors.
 */
import assert from "node:assert/strict";
import {
  order,
  readOrders,
  spawnServer,
  startTestServer,
  tempDir,
  TestClient,
  waitFor,
} from "./helpers.ts";
import { sleep } from "./reliability_helpers.ts";
import { processUsage } from "../tools/proc.ts";
import { LineReader } from "../lib/wire/lines.ts";
import { writeAll } from "../lib/util/net.ts";

const encoder = new TextEncoder();

async function rowsFor(db: string, cliente: string): Promise<{ estado: string }[]> {
  return (await readOrders(db, { clientePrefix: cliente })).filter((o) => o.cliente === cliente);
}

Deno.test("clients that disconnect right after sending still get their orders stored and processed once", async () => {
  await using t = await startTestServer({ max: 200, workMs: 1 });
  const tags = Array.from({ length: 50 }, (_, i) => `se va ${i}`);
  await Promise.all(tags.map(async (tag) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: t.port });
    await writeAll(conn, encoder.encode(JSON.stringify(order({ cliente: tag })) + "\n"));
    conn.close();
  }));
  // The whole line reached the server before the close, so it is answered (to no one) and kept.
  await waitFor(async () => {
    const stored = await readOrders(t.db, { clientePrefix: "se va " });
    return tags.every((tag) => stored.find((o) => o.cliente === tag)?.estado === "listo");
  }, "orders");
  for (const tag of tags) assert.equal((await rowsFor(t.db, tag)).length, 1, tag);
  await using client = await TestClient.open(t.port);
  assert.equal((await client.request(order())).ok, true);
});

Deno.test("a reset in the middle of a message stores nothing and harms no one", async () => {
  await using t = await startTestServer();
  for (let i = 0; i < 20; i++) {
    // Never reading the greeting makes close() send RST instead of FIN.
    const client = await TestClient.connect(t.port);
    const line = JSON.stringify(order({ cliente: `cortado ${i}` }));
    await client.send(line.slice(0, 1 + (i * 7) % (line.length - 1)));
    await sleep(5);
    client.close();
  }
  await using client = await TestClient.open(t.port);
  assert.equal((await client.request(order({ cliente: "entero" }))).ok, true);
  const stored = await readOrders(t.db);
  assert.deepEqual(stored.map((row) => row.cliente), ["entero"]);
});

Deno.test("a half-closed connection still gets every reply, then the server closes it", async () => {
  await using t = await startTestServer();
  await using client = await TestClient.open(t.port);
  await client.send(
    JSON.stringify(order({ cliente: "medio 1" })) + "\n" +
      JSON.stringify(order({ cliente: "medio 2" })),
  );
  await client.conn.closeWrite();
  const replies = await client.readJsons(2);
  assert.deepEqual(replies.map((reply) => reply.ok), [true, true]);
  assert.equal(await client.readLine(), null, "the server closes after answering");
  await waitFor(
    async () => (await rowsFor(t.db, "medio 2"))[0]?.estado === "listo",
    "orders processed",
  );
});

Deno.test("thousands of idle connections are capped, closed after --idle-ms, and leave no descriptors behind", async () => {
  await using dir = await tempDir();
  await using server = await spawnServer([
    "--db",
    `${dir.path}/p.db`,
    "--max-connections",
    "1000",
    // Long enough that opening all 1,200 connections on a busy machine ends
    // before the first idle ones are closed (which would free slots early).
    "--idle-ms",
    "4000",
    "--work-ms",
    "1",
  ]);
  const pid = server.child.pid;
  const baseline = processUsage(pid).fds;
  const conns: Deno.TcpConn[] = [];
  try {
    for (let i = 0; i < 1200; i++) {
      conns.push(await Deno.connect({ hostname: i % 2 ? "127.0.0.1" : "::1", port: server.port }));
    }
    const first = await Promise.all(conns.map((conn) => new LineReader(conn).readLine()));
    const codigos = first.map((line) => {
      const reply = JSON.parse(line ?? "{}");
      return reply.tipo === "bienvenida" ? "bienvenida" : reply.codigo;
    });
    assert.equal(codigos.filter((c) => c === "bienvenida").length, 1000);
    assert.equal(codigos.filter((c) => c === "demasiadas_conexiones").length, 200);
    // Every connection ends: the refused ones at once, the idle ones after --idle-ms.
    const readers = conns.map((conn) => new LineReader(conn));
    const endings = await Promise.all(readers.map(async (reader, i) => {
      const lines: string[] = [];
      for (let line = await reader.readLine(); line !== null; line = await reader.readLine()) {
        lines.push(line);
      }
      return codigos[i] === "bienvenida" ? JSON.parse(lines[0] ?? "{}").codigo : "cerrada";
    }));
    assert.ok(endings.every((codigo) => codigo === "inactivo" || codigo === "cerrada"));
  } finally {
    for (const conn of conns) conn.close();
  }
  await waitFor(() => processUsage(pid).fds <= baseline, "descriptors back to baseline");
  await using client = await TestClient.open(server.port);
  assert.equal((await client.request(order())).ok, true);
});

Deno.test("a slow-loris client sending one byte at a time is closed after --idle-ms", async () => {
  await using t = await startTestServer({ idleMs: 600 });
  await using loris = await TestClient.open(t.port);
  const text = JSON.stringify(order({ cliente: "lento" }));
  let sent = 0;
  const trickle = (async () => {
    for (; sent < text.length; sent++) {
      try {
        await loris.send(text[sent]!);
      } catch {
        return; // closed by the server
      }
      await sleep(150);
    }
  })();
  // Meanwhile an ordinary client is served.
  await using client = await TestClient.open(t.port);
  assert.equal((await client.request(order())).ok, true);
  const line = await loris.readJson(5000);
  assert.equal(line.codigo, "inactivo");
  assert.equal(await loris.readLine(5000), null);
  assert.ok(sent < text.length, "closed before the trickle finished its message");
  loris.close();
  await trickle;
  assert.equal((await rowsFor(t.db, "lento")).length, 0);
});

Deno.test("a client that never reads its replies stops being read and is closed; server memory stays bounded", async () => {
  await using dir = await tempDir();
  await using server = await spawnServer(["--db", `${dir.path}/p.db`, "--idle-ms", "1500"]);
  const pid = server.child.pid;
  const before = processUsage(pid);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  // Each "{}" earns a ~200-byte pedido_invalido reply: replies pile up 60 times faster than requests.
  const chunk = encoder.encode("{}\n".repeat(20_000));
  const attempted = 64 * 1024 * 1024;
  let written = 0;
  let peakRssBytes = before.rssBytes;
  let error: unknown;
  const deadline = Date.now() + 20_000;
  try {
    while (written < attempted && Date.now() < deadline) {
      await writeAll(conn, chunk);
      written += chunk.length;
      peakRssBytes = Math.max(peakRssBytes, processUsage(pid).rssBytes);
    }
  } catch (e) {
    error = e;
  } finally {
    conn.close();
  }
  assert.ok(error, `the server closed the connection (wrote ${written} of ${attempted} bytes)`);
  assert.ok(written < attempted, "the server stopped reading a client that does not read");
  const growthMb = (peakRssBytes - before.rssBytes) / 1024 / 1024;
  assert.ok(growthMb < 64, `server memory grew ${growthMb.toFixed(1)} MB for one stalled client`);
  await using client = await TestClient.open(server.port);
  assert.equal((await client.request(order())).ok, true);
});
