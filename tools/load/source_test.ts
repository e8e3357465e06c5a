import assert from "node:assert/strict";
import fc from "fast-check";
import { newCounter, OrderSource } from "./source.ts";

Deno.test("a closed loop hands out every index once, then is exhausted", () => {
  const source = new OrderSource(newCounter(false), { orders: 3 });
  assert.equal(source.available, 3);
  assert.deepEqual([source.take(), source.take(), source.take(), source.take()], [0, 1, 2, -1]);
  assert.equal(source.exhausted, true);
  assert.equal(source.available, 0);
  assert.equal(source.next, 3);
  assert.equal(source.startOf(1, 42), 42, "latency counts from the send");
  assert.equal(source.nextDueAt, undefined);
});

Deno.test("sources on one shared counter share out the indices without repeating one", () => {
  const counter = newCounter(true);
  assert.ok(counter.buffer instanceof SharedArrayBuffer);
  const sources = [0, 1, 2].map(() => new OrderSource(counter, { orders: 100 }));
  const taken: number[] = [];
  for (let turn = 0; taken.length < 100; turn++) {
    const index = sources[turn % 3]!.take();
    if (index >= 0) taken.push(index);
  }
  assert.deepEqual(taken, Array.from({ length: 100 }, (_, i) => i));
  for (const source of sources) {
    assert.equal(source.take(), -1);
    assert.equal(source.exhausted, true);
  }
});

Deno.test("an open loop offers only the orders due, each with its due time", () => {
  const source = new OrderSource(newCounter(false), { rate: 1000, durationMs: 10, startMs: 100 });
  assert.equal(source.total, 10);
  source.refresh(99);
  assert.equal(source.available, 0);
  assert.equal(source.take(), -1);
  assert.equal(source.nextDueAt, 100);
  source.refresh(102.5);
  assert.equal(source.available, 3);
  assert.equal(source.oldestWaiting(), 100);
  assert.equal(source.take(), 0);
  assert.equal(source.startOf(0, 102.5), 100, "latency counts from the due time");
  assert.equal(source.nextDueAt, 103, "the first order not yet due");
  assert.equal(source.oldestWaiting(), 101);
});

Deno.test("a thread that stalls finds every overdue order at once, even taken by another", () => {
  const counter = newCounter(true);
  const plan = { rate: 100, durationMs: 1000, startMs: 0 };
  const a = new OrderSource(counter, plan);
  const b = new OrderSource(counter, plan);
  a.refresh(0);
  assert.equal(a.take(), 0);
  b.refresh(500);
  assert.equal(b.available, 50);
  assert.equal(b.take(), 1);
  // a's view is stale: it cannot take more than was due when it last looked.
  assert.equal(a.take(), -1);
  a.refresh(500);
  assert.equal(a.available, 49);
  assert.equal(a.take(), 2);
});

Deno.test("whatever the polling times, every order is taken once, in order, and never early", () => {
  fc.assert(fc.property(
    fc.double({ min: 1, max: 50_000, noNaN: true }),
    fc.array(fc.double({ min: 0, max: 50, noNaN: true }), { minLength: 1, maxLength: 60 }),
    (rate, steps) => {
      const source = new OrderSource(newCounter(false), { rate, durationMs: 500, startMs: 0 });
      let now = 0;
      let expected = 0;
      for (const step of steps) {
        now += step;
        source.refresh(now);
        for (let index = source.take(); index >= 0; index = source.take()) {
          assert.equal(index, expected++);
          assert.ok(source.startOf(index, now) <= now);
        }
        const due = source.nextDueAt;
        if (due !== undefined) assert.ok(due > now);
      }
      source.refresh(Infinity);
      while (source.take() >= 0) expected++;
      assert.equal(expected, source.total);
      assert.equal(source.exhausted, true);
    },
  ));
});
