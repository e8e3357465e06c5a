/**
 * Admission: the semaphore, idempotency keys, the connection limit, idle
 * connections and orders arriving during shutdown.
 *
 * @module
 */
import assert from "node:assert/strict";
import { LOOPBACKS, order, startTestServer, TestClient, waitFor } from "./helpers.ts";
import {
  capacity,
  hasCodigo,
  readUntilClosed,
  row,
  rows,
  waitForFinished,
  waitForFullCapacity,
  waitForInProcess,
} from "./server_helpers.ts";

Deno.test("ten simultaneous orders with max 6 over both families: exactly six accepted, four limite", async () => {
  // Long work and no drain: nothing finishes (and frees a permit) during the test.
  await using t = await startTestServer({ max: 6, workers: 3, workMs: 5000, drainMs: 0 });
  const clients = await Promise.all(
    Array.from({ length: 10 }, (_, i) => TestClient.open(t.port, LOOPBACKS[i % 2])),
  );
  try {
    await Promise.all(clients.map((client, i) => client.sendLine(order({ cliente: `C${i}` }))));
    const replies = await Promise.all(clients.map((client) => client.readJson()));
    const accepted = replies.filter((reply) => reply.ok === true);
    const refused = replies.filter((reply) => reply.ok === false);
    assert.equal(accepted.length, 6, JSON.stringify(replies));
    assert.equal(refused.length, 4);
    assert.ok(refused.every((reply) => reply.codigo === "limite"));
    assert.equal((await rows(t.db)).length, 6, "only admitted orders are stored");
    assert.deepEqual(await capacity(t.port, "::1"), { max: 6, libres: 0 });
    // A refused client's connection stays open and usable.
    const status = await clients[replies.indexOf(refused[0]!)]!.request({ tipo: "estadisticas" });
    assert.equal((status.estadisticas as { rechazos: Record<string, number> }).rechazos.limite, 4);
  } finally {
    for (const client of clients) client.close();
  }
});

Deno.test("permits come back once admitted orders are processed", async () => {
  await using t = await startTestServer({ max: 2, workers: 2, workMs: 1000 });
  await using client = await TestClient.open(t.port);
  assert.equal((await client.request(order())).ok, true);
  assert.equal((await client.request(order())).ok, true);
  assert.equal((await client.request(order())).codigo, "limite");
  assert.deepEqual(await capacity(t.port), { max: 2, libres: 0 });

  await waitForFinished(t.db, 2);
  await waitForFullCapacity(t.port);
  assert.equal((await client.request(order())).ok, true);
  assert.equal((await client.request(order())).ok, true);
  assert.equal((await client.request(order())).codigo, "limite");
  assert.equal((await rows(t.db)).length, 4);
});

Deno.test("resending an idempotency key returns the same id with duplicado and stores one row", async () => {
  await using t = await startTestServer({ workMs: 10 });
  await using client = await TestClient.open(t.port);
  const first = await client.request(order({ clave: "pedido-123" }));
  assert.equal(first.ok, true);
  assert.equal(first.duplicado, undefined);
  const again = await client.request(order({ clave: "pedido-123" }));
  assert.equal(again.ok, true);
  assert.equal(again.id, first.id);
  assert.equal(again.duplicado, true);
  // Still a duplicate once the first is processed, and from another connection.
  await waitForFinished(t.db, 1);
  await using other = await TestClient.open(t.port, "::1");
  const later = await other.request(order({ clave: "pedido-123", cliente: "Otra" }));
  assert.equal(later.id, first.id);
  assert.equal(later.duplicado, true);
  assert.equal((await rows(t.db)).filter((r) => r.clave === "pedido-123").length, 1);
  assert.equal((await rows(t.db)).length, 1);
  // A different key is a different order.
  const another = await client.request(order({ clave: "pedido-124" }));
  assert.notEqual(another.id, first.id);
});

Deno.test("a duplicate key is answered even when no permit is free", async () => {
  await using t = await startTestServer({ max: 1, workMs: 5000, drainMs: 0 });
  await using client = await TestClient.open(t.port);
  const first = await client.request(order({ clave: "única" }));
  assert.equal(first.ok, true);
  assert.equal((await client.request(order())).codigo, "limite");
  const again = await client.request(order({ clave: "única" }));
  assert.equal(again.id, first.id);
  assert.equal(again.duplicado, true);
});

Deno.test("the same new key sent at once on two connections creates one row", async () => {
  await using t = await startTestServer({ workMs: 10 });
  for (let round = 0; round < 5; round++) {
    const clave = `carrera-${round}`;
    await using a = await TestClient.open(t.port, "127.0.0.1");
    await using b = await TestClient.open(t.port, "::1");
    const line = JSON.stringify(order({ clave })) + "\n";
    await Promise.all([a.send(line), b.send(line)]);
    const [ra, rb] = await Promise.all([a.readJson(), b.readJson()]);
    assert.equal(ra.ok, true, JSON.stringify(ra));
    assert.equal(rb.ok, true, JSON.stringify(rb));
    assert.equal(ra.id, rb.id);
    assert.equal([ra.duplicado, rb.duplicado].filter((d) => d === true).length, 1);
    assert.equal((await rows(t.db)).filter((r) => r.clave === clave).length, 1);
  }
  assert.equal((await rows(t.db)).length, 5);
});

Deno.test("the same new key twice in one pipelined write creates one row", async () => {
  await using t = await startTestServer({ workMs: 10 });
  await using client = await TestClient.open(t.port);
  const line = JSON.stringify(order({ clave: "doble" })) + "\n";
  await client.send(line + line);
  const [first, second] = await client.readJsons(2);
  assert.equal(first!.id, second!.id);
  assert.equal(second!.duplicado, true);
  assert.equal((await rows(t.db)).length, 1);
});

Deno.test("past maxConnections a client gets demasiadas_conexiones and is closed", async () => {
  await using t = await startTestServer({ maxConnections: 2 });
  await using a = await TestClient.open(t.port);
  await using b = await TestClient.open(t.port, "::1");
  await using c = await TestClient.connect(t.port);
  const lines = await readUntilClosed(c);
  assert.equal(lines.length, 1, JSON.stringify(lines));
  assert.ok(hasCodigo(lines[0], "demasiadas_conexiones"), lines[0]);
  // The two admitted connections are unaffected.
  assert.equal((await a.request(order())).ok, true);
  assert.equal((await b.request(order())).ok, true);
  // Once one leaves, a new client is welcome again.
  a.close();
  await waitFor(async () => {
    await using d = await TestClient.connect(t.port);
    const first = await d.readJson();
    return first.tipo === "bienvenida";
  }, "a free connection slot");
});

Deno.test("an idle connection gets inactivo and is closed; others are unaffected", async () => {
  await using t = await startTestServer({ idleMs: 300 });
  await using idle = await TestClient.open(t.port, "::1");
  const lines = await readUntilClosed(idle, 5000);
  assert.equal(lines.length, 1, JSON.stringify(lines));
  assert.ok(hasCodigo(lines[0], "inactivo"), lines[0]);
  // The server itself keeps serving.
  await using next = await TestClient.open(t.port);
  assert.equal((await next.request(order())).ok, true);
});

Deno.test("a connection waiting for an avisar event is not closed as idle before it arrives", async () => {
  await using t = await startTestServer({ idleMs: 300, workMs: 1000 });
  await using client = await TestClient.open(t.port);
  const reply = await client.request(order({ avisar: true }));
  assert.equal(reply.ok, true);
  const lines = await readUntilClosed(client, 8000);
  assert.equal(lines.length, 2, JSON.stringify(lines));
  const event = JSON.parse(lines[0]!);
  assert.equal(event.evento, "terminado");
  assert.equal(event.id, reply.id);
  assert.ok(hasCodigo(lines[1], "inactivo"), lines[1]);
});

Deno.test("orders sent during shutdown get apagando and the order in process still finishes", async () => {
  await using t = await startTestServer({ workers: 1, workMs: 2000, drainMs: 5000 });
  await using client = await TestClient.open(t.port, "::1");
  const inProcess = await client.request(order({ cliente: "En proceso" }));
  assert.equal(inProcess.ok, true);
  await waitForInProcess(t.db, inProcess.id as number);

  const stopping = t.server.shutdown();
  try {
    const reply = await client.request(order({ cliente: "Tarde" }));
    assert.equal(reply.ok, false);
    assert.equal(reply.codigo, "apagando");
    // New connections are no longer accepted.
    await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: t.port }));
  } finally {
    await stopping;
  }
  const summary = await stopping;
  assert.equal(summary.abandoned, 0);
  assert.equal(summary.snapshot.listos, 1);
  assert.equal(summary.snapshot.rechazos.apagando, 1);
  assert.equal((await row(t.db, inProcess.id as number))?.estado, "listo");
  assert.deepEqual((await rows(t.db)).map((r) => r.cliente), ["En proceso"]);
  assert.deepEqual(await readUntilClosed(client), [], "the connection is closed at the end");
});

Deno.test("a client that never reads its replies is disconnected once a write is stuck for idleMs", async () => {
  // One connection at a time: a new client is welcome only once the stalled
  // one is gone, whichever way the server decides to close it.
  await using t = await startTestServer({ idleMs: 200, maxConnections: 1 });
  const client = await TestClient.open(t.port);
  try {
    // One large order, then a thousand status requests for it in one write:
    // about 20 MB of replies, far more than the socket buffers hold, and this
    // client reads none of them. Answering them all also takes the server a
    // while, so the connection has been quiet for longer than idleMs when its
    // write gets stuck.
    const productos = Array.from({ length: 100 }, (_, i) => `${i}`.padEnd(200, "x"));
    // With its key, each status reply carries the whole order.
    const { id } = await client.request(order({ productos, clave: "grande" }));
    await client.send(
      (JSON.stringify({ tipo: "estado", id, clave: "grande" }) + "\n").repeat(1000),
    );
    await waitFor(
      async () => {
        await using probe = await TestClient.connect(t.port, "::1");
        return (await probe.readJson()).tipo === "bienvenida";
      },
      "the stalled connection to be closed",
      15_000,
    );
  } finally {
    client.close();
  }
});
