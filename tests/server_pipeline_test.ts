/**
 * Requests pipelined on one connection, over real sockets: a connection
 * hears of an order's end once, however often it resends the order.
 *
 * @module
 */
import assert from "node:assert/strict";
import { order, startTestServer, TestClient } from "./helpers.ts";

/** Lines for a pipelined write: each value as compact JSON plus a newline. */
function ndjson(values: object[]): string {
  return values.map((value) => JSON.stringify(value) + "\n").join("");
}

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
