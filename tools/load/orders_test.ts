import assert from "node:assert/strict";
import { MessageFramer } from "../../lib/wire/framing.ts";
import { CLIENT_PREFIX, newRunTag, OrderGenerator } from "./orders.ts";
import { parseRequest } from "../../lib/wire/schema.ts";

const encoder = new TextEncoder();

Deno.test("a run tag is eight lowercase hex digits and differs between runs", () => {
  const tags = new Set(Array.from({ length: 50 }, newRunTag));
  for (const tag of tags) assert.match(tag, /^[0-9a-f]{8}$/);
  assert.ok(tags.size > 45);
});

Deno.test("with no bad fraction every message is valid and passes the server's own checks", () => {
  const orders = new OrderGenerator("ab12cd34");
  const framer = new MessageFramer();
  for (let i = 0; i < 300; i++) {
    assert.equal(orders.kind(i), "valido");
    const frames = framer.push(encoder.encode(orders.line(i)));
    assert.equal(frames.length, 1);
    const frame = frames[0]!;
    assert.equal(frame.tipo, "mensaje");
    if (frame.tipo !== "mensaje") continue;
    const validation = parseRequest(frame.valor);
    assert.ok(validation.ok, JSON.stringify(validation));
    assert.deepEqual(frame.valor, orders.content(i));
  }
});

Deno.test("content is a deterministic function of the index, unique per index", () => {
  const a = new OrderGenerator("t1");
  const b = new OrderGenerator("t1");
  assert.deepEqual(a.content(12345), b.content(12345));
  assert.equal(a.content(7).cliente, `${CLIENT_PREFIX}-t1-7`);
  assert.notEqual(a.content(1).cliente, a.content(2).cliente);
  assert.ok(a.content(3).productos.includes("café"), "non-ASCII content is exercised");
});

Deno.test("the bad fraction is spread evenly and alternates between the two faults", () => {
  const orders = new OrderGenerator("t1", 0.1);
  const kinds = Array.from({ length: 1000 }, (_, i) => orders.kind(i));
  assert.equal(kinds.filter((kind) => kind !== "valido").length, 100);
  assert.equal(kinds.filter((kind) => kind === "json_invalido").length, 50);
  assert.equal(kinds.filter((kind) => kind === "pedido_invalido").length, 50);
  // Any window of 100 messages holds its 10 bad ones.
  for (let start = 0; start + 100 <= 1000; start += 37) {
    assert.equal(kinds.slice(start, start + 100).filter((kind) => kind !== "valido").length, 10);
  }
  assert.ok(new OrderGenerator("t1", 1).kind(5) !== "valido");
});

Deno.test("each invalid message draws exactly the error its kind names, and the framer recovers", () => {
  const orders = new OrderGenerator("t1", 0.5);
  const framer = new MessageFramer();
  const outcomes: string[] = [];
  const expected: string[] = [];
  for (let i = 0; i < 40; i++) {
    expected.push(orders.kind(i));
    for (const frame of framer.push(encoder.encode(orders.line(i)))) {
      if (frame.tipo === "error") outcomes.push(frame.codigo);
      else outcomes.push(parseRequest(frame.valor).ok ? "valido" : "pedido_invalido");
    }
  }
  assert.deepEqual(outcomes, expected);
  assert.ok(expected.includes("json_invalido") && expected.includes("pedido_invalido"));
  assert.equal(framer.closed, false);
});

Deno.test("indexOf reads back the index of this run's clients only", () => {
  const orders = new OrderGenerator("ab12");
  assert.equal(orders.indexOf(orders.content(987).cliente), 987);
  assert.equal(orders.indexOf("carga-ab12-0"), 0);
  assert.equal(orders.indexOf("carga-ab13-5"), undefined);
  assert.equal(orders.indexOf("carga-ab12-05"), undefined);
  assert.equal(orders.indexOf("carga-ab12-x"), undefined);
  assert.equal(orders.clientPrefix, "carga-ab12-");
});

Deno.test("a generator refuses a bad fraction outside [0, 1] and a tag that is not plain", () => {
  assert.throws(() => new OrderGenerator("t", 1.5), RangeError);
  assert.throws(() => new OrderGenerator("t", -0.1), RangeError);
  assert.throws(() => new OrderGenerator("a%b"), RangeError);
});
