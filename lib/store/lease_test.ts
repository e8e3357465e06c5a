import assert from "node:assert/strict";
import {
  countByName,
  heartbeatEvery,
  heartbeatRetry,
  mayRescue,
  nextRescueIn,
  parseIds,
} from "./lease.ts";

Deno.test("a server renews its lease three times per lease, and sooner after a failure", () => {
  assert.equal(heartbeatEvery(10_000), 3333);
  assert.equal(heartbeatEvery(2000), 666);
  assert.equal(heartbeatRetry(10_000), 500);
  assert.equal(heartbeatRetry(900), 300);
});

Deno.test("the next look for dead servers comes just after the earliest lease runs out, within bounds", () => {
  assert.equal(nextRescueIn([1200, 4000], 10_000), 1225);
  assert.equal(nextRescueIn([9000], 10_000), 5000, "at least every half lease");
  assert.equal(nextRescueIn([], 10_000), 5000, "alone: every half lease");
  assert.equal(nextRescueIn([-40, 3000], 10_000), 50, "an expired one: soon, not in a loop");
  assert.equal(nextRescueIn([10.4], 2000), 50);
});

Deno.test("only a server in touch with the database for a whole lease rescues others", () => {
  assert.equal(mayRescue(0, 10_000, 10_000), true);
  assert.equal(mayRescue(1, 10_000, 10_000), false);
  assert.equal(mayRescue(Infinity, 10_000, 10_000), false);
});

Deno.test("released orders are counted per server, and notice payloads yield only order ids", () => {
  assert.deepEqual(
    [...countByName([{ nombre: "a" }, { nombre: "b" }, { nombre: "a" }])],
    [["a", 2], ["b", 1]],
  );
  assert.deepEqual(parseIds("3,5,8"), [3, 5, 8]);
  assert.deepEqual(parseIds(""), []);
  assert.deepEqual(parseIds("x,7,,-2,1.5,9007199254740993"), [7]);
});
