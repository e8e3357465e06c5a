import assert from "node:assert/strict";
import {
  compareTags,
  exactlyOnce,
  ExactlyOnceCheck,
  IdCollector,
  listIds,
  MAX_LISTED_IDS,
} from "./ledger.ts";

const sentAll = () => true;

Deno.test("every acknowledged order stored once under its id passes", () => {
  const check = new ExactlyOnceCheck([["a", 1], ["b", 2]], sentAll);
  assert.equal(check.add(1, "a"), "acknowledged");
  assert.equal(check.add(2, "b"), "acknowledged");
  const result = check.result();
  assert.deepEqual(result, {
    acknowledged: 2,
    stored: 2,
    lost: { count: 0, ids: [] },
    duplicated: { count: 0, ids: [] },
    misfiled: { count: 0, ids: [] },
    invented: { count: 0, ids: [] },
    unacknowledged: 0,
  });
  assert.equal(exactlyOnce(result), true);
});

Deno.test("an acknowledged id with no row is lost", () => {
  const check = new ExactlyOnceCheck([["a", 1], ["b", 2]], sentAll);
  check.add(1, "a");
  const result = check.result();
  assert.deepEqual(result.lost, { count: 1, ids: [2] });
  assert.equal(exactlyOnce(result), false);
});

Deno.test("an order stored twice is duplicated, whichever copy comes first", () => {
  const before = new ExactlyOnceCheck([["a", 5]], sentAll);
  assert.equal(before.add(4, "a"), "duplicated");
  assert.equal(before.add(5, "a"), "acknowledged");
  assert.deepEqual(before.result().duplicated, { count: 1, ids: [4] });
  const after = new ExactlyOnceCheck([["a", 5]], sentAll);
  after.add(5, "a");
  assert.equal(after.add(9, "a"), "duplicated");
  assert.equal(after.result().lost.count, 0);
});

Deno.test("an unacknowledged order stored twice is duplicated once, stored once it is fine", () => {
  const check = new ExactlyOnceCheck<string>([], sentAll);
  assert.equal(check.add(1, "x"), "unacknowledged");
  assert.equal(check.add(2, "x"), "duplicated");
  assert.equal(check.add(3, "y"), "unacknowledged");
  const result = check.result();
  assert.equal(result.unacknowledged, 2);
  assert.deepEqual(result.duplicated, { count: 1, ids: [2] });
});

Deno.test("an acknowledged order stored only under another id is both lost and duplicated", () => {
  const check = new ExactlyOnceCheck([["d", 5]], sentAll);
  assert.equal(check.add(9, "d"), "duplicated");
  const result = check.result();
  assert.deepEqual(result.lost, { count: 1, ids: [5] });
  assert.deepEqual(result.duplicated, { count: 1, ids: [9] });
});

Deno.test("an acknowledged id holding another order is misfiled, not lost", () => {
  const check = new ExactlyOnceCheck([["a", 1], ["b", 2]], sentAll);
  check.add(1, "a");
  assert.equal(check.add(2, "c"), "misfiled");
  const result = check.result();
  assert.deepEqual(result.misfiled, { count: 1, ids: [2] });
  assert.equal(result.lost.count, 0);
  assert.equal(exactlyOnce(result), false);
});

Deno.test("a row of an order never sent is invented", () => {
  const sent = new Set(["a"]);
  const check = new ExactlyOnceCheck([["a", 1]], (tag: string) => sent.has(tag));
  check.add(1, "a");
  assert.equal(check.add(7, "fantasma"), "invented");
  const result = check.result();
  assert.deepEqual(result.invented, { count: 1, ids: [7] });
  assert.equal(result.unacknowledged, 0);
  assert.equal(exactlyOnce(result), false);
});

Deno.test("keys may be numbers, as the load tool's message indices are", () => {
  const check = new ExactlyOnceCheck([[0, 10], [1, 11]], (index: number) => index < 3);
  assert.equal(check.add(10, 0), "acknowledged");
  assert.equal(check.add(11, 2), "misfiled");
  assert.equal(check.add(12, 2), "duplicated", "order 2 is already stored, under 11");
  assert.equal(check.add(13, 3), "invented");
});

Deno.test("compareTags checks states: listo by default, or what the caller expects", () => {
  const ledger = {
    sent: new Set(["a", "lanza:b", "c"]),
    acked: new Map([["a", 1], ["lanza:b", 2]]),
  };
  const rows = [
    { id: 1, cliente: "a", estado: "listo" },
    { id: 2, cliente: "lanza:b", estado: "fallido" },
    { id: 3, cliente: "c", estado: "en proceso" },
  ];
  const plain = compareTags(rows, ledger);
  assert.deepEqual(plain.wrongState, { count: 2, ids: [2, 3] });
  assert.equal(plain.unacknowledged, 1);
  const faulty = compareTags(rows, ledger, (tag) => tag.startsWith("lanza:") ? "fallido" : "listo");
  assert.deepEqual(faulty.wrongState, { count: 1, ids: [3] });
  assert.equal(exactlyOnce(faulty), true);
});

Deno.test("id lists keep the count complete and name only the first ids", () => {
  const ids = new IdCollector();
  for (let id = 5000; id >= 1; id--) ids.add(id);
  const list = ids.toJSON();
  assert.equal(list.count, 5000);
  assert.equal(list.ids.length, MAX_LISTED_IDS);
  assert.deepEqual(list.ids.slice(0, 2), [4981, 4982]);
  assert.match(listIds(list), /^5000 \(#4981, #4982, .*, …\)$/);
  assert.equal(listIds({ count: 0, ids: [] }), "0");
  assert.equal(listIds({ count: 2, ids: [3, 8] }), "2 (#3, #8)");
});
