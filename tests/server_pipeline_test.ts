/**
 * Requests pipelined on one connection, over real sockets: they behave as if
 * executed one after another (a read sees the writes sent before it, and
 * only those), and a connection hears of an order's end once, however often
 * it resends the order.
 *
 * @module
 */
import assert from "node:assert/strict";
import { order, startTestServer, TestClient } from "./helpers.ts";

/** Lines for a pipelined write: each value as compact JSON plus a newline. */
function ndjson(values: object[]): string {
  return values.map((value) => JSON.stringify(value) + "\n").join("");
}

Deno.test("estado pipelined right after an order sees the order it is about", async () => {
  await using t = await startTestServer({ workMs: 200 });
  await using client = await TestClient.open(t.port);
  // A fresh database: the order gets id 1.
  // With the key: a status by id alone would not show whose order it is.
  await client.send(
    ndjson([order({ cliente: "Primera", clave: "k-1" }), { tipo: "estado", id: 1, clave: "k-1" }]),
  );
  const [accepted, status] = await client.readJsons(2);
  assert.deepEqual([accepted!.ok, accepted!.id], [true, 1]);
  assert.equal(status!.ok, true, JSON.stringify(status));
  assert.equal((status!.pedido as { cliente: string }).cliente, "Primera");
});

Deno.test("estado pipelined after a duplicate key sees the order the key names", async () => {
  await using t = await startTestServer({ workMs: 200 });
  await using client = await TestClient.open(t.port);
  const keyed = order({ cliente: "Con clave", clave: "pedido-ordenado" });
  await client.send(ndjson([keyed, keyed, { tipo: "estado", id: 1, clave: "pedido-ordenado" }]));
  const [first, duplicate, status] = await client.readJsons(3);
  assert.deepEqual([first!.ok, first!.id], [true, 1]);
  assert.deepEqual([duplicate!.ok, duplicate!.id, duplicate!.duplicado], [true, 1, true]);
  assert.equal(status!.ok, true, JSON.stringify(status));
  assert.equal((status!.pedido as { cliente: string }).cliente, "Con clave");
});

Deno.test("estado pipelined before the order that gets the id does not see it", async () => {
  await using t = await startTestServer({ workMs: 200 });
  await using client = await TestClient.open(t.port);
  await client.send(
    ndjson([order({ cliente: "Uno" }), { tipo: "estado", id: 2 }, order({ cliente: "Dos" })]),
  );
  const [first, status, second] = await client.readJsons(3);
  assert.deepEqual([first!.id, second!.id], [1, 2]);
  assert.equal(status!.codigo, "no_encontrado", JSON.stringify(status));
});

Deno.test("estadisticas pipelined after orders counts them as received", async () => {
  await using t = await startTestServer({ workMs: 200 });
  await using client = await TestClient.open(t.port);
  await client.send(ndjson([order(), order(), { tipo: "estadisticas" }]));
  const [, , stats] = await client.readJsons(3);
  assert.equal((stats!.estadisticas as { recibidos: number }).recibidos, 2);
});

Deno.test("the same key with avisar pipelined 1,001 times gets 1,001 replies and one terminado", async () => {
  await using t = await startTestServer({ workMs: 50 });
  await using client = await TestClient.open(t.port);
  const keyed = order({ clave: "reenviado", avisar: true });
  const count = 1001;
  await client.send(ndjson(Array(count).fill(keyed)));
  let events = 0;
  /** The next reply, counting the events read before it. */
  const nextReply = async () => {
    while (true) {
      const line = await client.readJson();
      if (!("evento" in line)) return line;
      assert.equal(line.id, 1);
      events++;
    }
  };
  const replies = [];
  for (let i = 0; i < count; i++) replies.push(await nextReply());
  assert.ok(replies.every((reply) => reply.ok === true && reply.id === 1), "all for order 1");
  assert.equal(replies.filter((reply) => reply.duplicado === true).length, count - 1);
  // Resent once more after its end, then a request whose reply comes after
  // any event those resends could cause.
  while (events === 0) {
    await client.send(ndjson([{ tipo: "estado", id: 1 }]));
    await nextReply();
  }
  await client.send(ndjson([keyed]));
  assert.equal((await nextReply()).duplicado, true);
  await client.send(ndjson([{ tipo: "estado", id: 1 }]));
  await nextReply();
  assert.equal(events, 1);
});
