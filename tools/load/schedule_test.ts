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

Deno.test("dueBy counts exactly the orders due by then", () => {
  const schedule = new OpenLoopSchedule({ rate: 1000, durationMs: 10, startMs: 100 });
  assert.equal(schedule.dueBy(0), 0);
  assert.equal(schedule.dueBy(99.9), 0);
  assert.equal(schedule.dueBy(100), 1);
  assert.equal(schedule.dueBy(102.5), 3);
  assert.equal(schedule.dueBy(102.9), 3);
  assert.equal(schedule.dueBy(103), 4);
});

Deno.test("the schedule stops at its total", () => {
  const schedule = new OpenLoopSchedule({ rate: 3, durationMs: 1000, startMs: 0 });
  assert.equal(schedule.total, 3);
  assert.equal(schedule.dueBy(10_000), 3);
  assert.equal(schedule.dueBy(Infinity), 3);
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

Deno.test("whatever the rate and the time, dueBy counts every order due and none that is not", () => {
  fc.assert(fc.property(
    fc.double({ min: 1, max: 50_000, noNaN: true }),
    fc.double({ min: 0, max: 600, noNaN: true }),
    (rate, now) => {
      const schedule = new OpenLoopSchedule({ rate, durationMs: 500, startMs: 0 });
      const due = schedule.dueBy(now);
      if (due > 0) assert.ok(schedule.dueAt(due - 1) <= now);
      if (due < schedule.total) assert.ok(schedule.dueAt(due) > now);
    },
  ));
});
