import assert from "node:assert/strict";
import fc from "fast-check";
import { OpenLoopSchedule } from "./schedule.ts";

Deno.test("an open-loop schedule spaces orders 1/rate apart from its start", () => {
  const schedule = new OpenLoopSchedule({ rate: 200, durationMs: 1000, startMs: 5000 });
  assert.equal(schedule.total, 200);
  assert.equal(schedule.dueAt(0), 5000);
  assert.equal(schedule.dueAt(1), 5005);
  assert.equal(schedule.dueAt(199), 5995);
});

Deno.test("take hands out exactly the orders due by then, each once", () => {
  const schedule = new OpenLoopSchedule({ rate: 1000, durationMs: 10, startMs: 100 });
  assert.deepEqual(schedule.take(99.9), { from: 0, to: 0 });
  assert.deepEqual(schedule.take(100), { from: 0, to: 1 });
  assert.deepEqual(schedule.take(102.5), { from: 1, to: 3 });
  assert.deepEqual(schedule.take(102.9), { from: 3, to: 3 });
  assert.equal(schedule.nextDueAt, 103);
  assert.equal(schedule.finished, false);
});

Deno.test("a caller that stalls gets every overdue order at once, with its own due time", () => {
  const schedule = new OpenLoopSchedule({ rate: 100, durationMs: 1000, startMs: 0 });
  schedule.take(0);
  // A 500 ms stall: the 50 orders due meanwhile are not dropped or thinned.
  const overdue = schedule.take(500);
  assert.deepEqual(overdue, { from: 1, to: 51 });
  assert.equal(schedule.dueAt(overdue.from), 10);
  assert.equal(500 - schedule.dueAt(overdue.from), 490, "the first one has waited 490 ms");
});

Deno.test("the schedule stops at its total and then reports finished", () => {
  const schedule = new OpenLoopSchedule({ rate: 3, durationMs: 1000, startMs: 0 });
  assert.equal(schedule.total, 3);
  assert.deepEqual(schedule.take(10_000), { from: 0, to: 3 });
  assert.equal(schedule.finished, true);
  assert.equal(schedule.nextDueAt, undefined);
  assert.deepEqual(schedule.take(20_000), { from: 3, to: 3 });
});

Deno.test("the total counts the orders due before the end, fractional rates included", () => {
  assert.equal(new OpenLoopSchedule({ rate: 2.5, durationMs: 1000, startMs: 0 }).total, 3);
  assert.equal(new OpenLoopSchedule({ rate: 0.5, durationMs: 1000, startMs: 0 }).total, 1);
  assert.equal(
    new OpenLoopSchedule({ rate: 100_000, durationMs: 3000, startMs: 0 }).total,
    300_000,
  );
});

Deno.test("a schedule refuses a rate or duration that is not positive", () => {
  assert.throws(() => new OpenLoopSchedule({ rate: 0, durationMs: 10, startMs: 0 }), RangeError);
  assert.throws(() => new OpenLoopSchedule({ rate: 1, durationMs: -1, startMs: 0 }), RangeError);
  assert.throws(() => new OpenLoopSchedule({ rate: NaN, durationMs: 10, startMs: 0 }), RangeError);
});

Deno.test("whatever the polling times, every order is taken once, in order, and never early", () => {
  fc.assert(fc.property(
    fc.double({ min: 1, max: 50_000, noNaN: true }),
    fc.array(fc.double({ min: 0, max: 50, noNaN: true }), { minLength: 1, maxLength: 60 }),
    (rate, steps) => {
      const schedule = new OpenLoopSchedule({ rate, durationMs: 500, startMs: 0 });
      let now = 0;
      let expected = 0;
      for (const step of steps) {
        now += step;
        const { from, to } = schedule.take(now);
        assert.equal(from, expected);
        for (let i = from; i < to; i++) assert.ok(schedule.dueAt(i) <= now);
        if (to < schedule.total) assert.ok(schedule.dueAt(to) > now);
        expected = to;
      }
      assert.equal(schedule.take(Infinity).to, schedule.total);
      assert.equal(schedule.finished, true);
    },
  ));
});
