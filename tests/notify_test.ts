import assert from "node:assert/strict";
import { order, startTestServer, TestClient } from "./helpers.ts";

Deno.test("with avisar, each order's reply comes before its finished event, even with no work", async () => {
  await using t = await startTestServer({ workMs: 0, max: 100, workers: 2 });
  await using client = await TestClient.open(t.port, "::1");
  const count = 50;
  const batch = Array.from(
    { length: count },
    (_, i) => JSON.stringify(order({ cliente: `c${i}`, avisar: true })) + "\n",
  ).join("");
  await client.send(batch);
  const seen = new Map<number, "reply" | "event">();
  const lines = await client.readJsons(2 * count);
  for (const line of lines) {
    const id = line.id as number;
    if ("evento" in line) {
      assert.equal(seen.get(id), "reply", `event for #${id} came before its reply`);
      assert.equal("ok" in line, false);
      seen.set(id, "event");
    } else {
      assert.equal(line.ok, true);
      assert.equal(seen.has(id), false);
      seen.set(id, "reply");
    }
  }
  assert.equal([...seen.values()].filter((kind) => kind === "event").length, count);
});

Deno.test("an order resent under its key with avisar is followed to its end", async () => {
  await using t = await startTestServer({ workMs: 300 });
  await using first = await TestClient.open(t.port);
  const sent = order({ clave: "pedido-7", avisar: true });
  const accepted = await first.request(sent);
  assert.equal(accepted.ok, true);

  await using second = await TestClient.open(t.port, "::1");
  const duplicate = await second.request(sent);
  assert.deepEqual(
    { ok: duplicate.ok, id: duplicate.id, duplicado: duplicate.duplicado },
    { ok: true, id: accepted.id, duplicado: true },
  );
  const [firstEvent, secondEvent] = await Promise.all([first.readJson(), second.readJson()]);
  for (const event of [firstEvent, secondEvent]) {
    assert.equal(event!.evento, "terminado");
    assert.equal(event!.id, accepted.id);
    assert.equal(event!.estado, "listo");
  }

  await using third = await TestClient.open(t.port);
  const late = await third.request(sent);
  assert.equal(late.duplicado, true);
  const lateEvent = await third.readJson();
  assert.deepEqual([lateEvent.evento, lateEvent.id], ["terminado", accepted.id]);
});
