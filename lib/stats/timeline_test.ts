import assert from "node:assert/strict";
import fc from "fast-check";
import {
  formatSpan,
  type Interval,
  maxOverlap,
  maxOverlapOfRanges,
  renderTimeline,
  SIN_PEDIDOS,
} from "./timeline.ts";

const T0 = Date.UTC(2026, 10, 28, 10, 0, 0);

Deno.test("two overlapping workers render one row each, sorted by worker, with an axis", () => {
  const text = renderTimeline([
    { worker: 2, inicio: T0 + 2000, fin: T0 + 6000 },
    { worker: 1, inicio: T0, fin: T0 + 4000 },
  ], { width: 12 });
  assert.equal(
    text,
    [
      "worker 1 │████████····│ 1 pedido",
      "worker 2 │····████████│ 1 pedido",
      "          0 s … 6.00 s",
    ].join("\n"),
  );
});

Deno.test("one worker processing orders one after another shows the gaps between them", () => {
  const text = renderTimeline([
    { worker: 1, inicio: T0, fin: T0 + 1000 },
    { worker: 1, inicio: T0 + 2000, fin: T0 + 3500 },
    { worker: 1, inicio: T0 + 3500, fin: T0 + 4000 },
  ], { width: 16 });
  assert.equal(
    text,
    [
      "worker 1 │████····████████│ 3 pedidos",
      "          0 s   …   4.00 s",
    ].join("\n"),
  );
});

Deno.test("a zero-length interval marks the single cell of its instant", () => {
  const text = renderTimeline([
    { worker: 1, inicio: T0, fin: T0 + 600 },
    { worker: 2, inicio: T0 + 300, fin: T0 + 300 },
    { worker: 3, inicio: T0 + 600, fin: T0 + 600 },
  ], { width: 6 });
  assert.equal(
    text,
    [
      "worker 1 │██████│ 1 pedido",
      "worker 2 │···█··│ 1 pedido",
      "worker 3 │·····█│ 1 pedido",
      "          0 s … 0.600 s",
    ].join("\n"),
  );
});

Deno.test("a window of 0 ms draws every row busy without dividing by zero", () => {
  const text = renderTimeline([
    { worker: 10, inicio: T0, fin: T0 },
    { worker: 2, inicio: T0, fin: T0 },
  ], { width: 4 });
  assert.equal(
    text,
    [
      "worker  2 │████│ 1 pedido",
      "worker 10 │████│ 1 pedido",
      "           0 s … 0 s",
    ].join("\n"),
  );
});

Deno.test("an empty list renders a single line saying no order was processed", () => {
  assert.equal(renderTimeline([]), "(sin pedidos procesados)");
  assert.equal(SIN_PEDIDOS, "(sin pedidos procesados)");
});

Deno.test("rows are 60 cells wide by default and a busy cell means busy in any part of it", () => {
  const text = renderTimeline([
    { worker: 1, inicio: T0, fin: T0 + 60_000 },
    { worker: 2, inicio: T0 + 30_500, fin: T0 + 30_600 }, // inside cell 30 only
  ]);
  const [row1, row2, axisLine] = text.split("\n");
  assert.equal(row1, `worker 1 │${"█".repeat(60)}│ 1 pedido`);
  assert.equal(row2, `worker 2 │${"·".repeat(30)}█${"·".repeat(29)}│ 1 pedido`);
  assert.ok(axisLine?.startsWith("          0 s "));
  assert.ok(axisLine?.endsWith(" 60.00 s"));
  assert.equal(axisLine?.length, "worker 1 │".length + 60);
});

Deno.test("a width that is not a positive integer is rejected", () => {
  const one: Interval[] = [{ worker: 1, inicio: 0, fin: 1 }];
  assert.throws(() => renderTimeline(one, { width: 0 }), RangeError);
  assert.throws(() => renderTimeline(one, { width: 2.5 }), RangeError);
});

Deno.test("spans are shown in seconds with 3 decimals under a second and 2 from one on", () => {
  assert.equal(formatSpan(0), "0 s");
  assert.equal(formatSpan(250), "0.250 s");
  assert.equal(formatSpan(4213), "4.21 s");
});

Deno.test("intervals that touch end to start do not overlap", () => {
  assert.equal(
    maxOverlap([
      { worker: 1, inicio: 0, fin: 10 },
      { worker: 2, inicio: 10, fin: 20 },
      { worker: 3, inicio: 20, fin: 30 },
    ]),
    1,
  );
});

Deno.test("nested intervals all count at the instant they share", () => {
  assert.equal(
    maxOverlap([
      { worker: 1, inicio: 0, fin: 100 },
      { worker: 2, inicio: 10, fin: 90 },
      { worker: 3, inicio: 20, fin: 30 },
      { worker: 4, inicio: 40, fin: 50 },
    ]),
    3,
  );
});

Deno.test("disjoint intervals never overlap and an empty list has no overlap", () => {
  assert.equal(
    maxOverlap([
      { worker: 1, inicio: 50, fin: 60 },
      { worker: 1, inicio: 0, fin: 10 },
      { worker: 2, inicio: 20, fin: 30 },
    ]),
    1,
  );
  assert.equal(maxOverlap([]), 0);
});

Deno.test("a zero-length interval counts at its instant but not against one ending then", () => {
  assert.equal(maxOverlap([{ worker: 1, inicio: 5, fin: 5 }]), 1);
  assert.equal(
    maxOverlap([{ worker: 1, inicio: 0, fin: 5 }, { worker: 2, inicio: 5, fin: 5 }]),
    1,
  );
  assert.equal(
    maxOverlap([{ worker: 1, inicio: 0, fin: 10 }, { worker: 2, inicio: 5, fin: 5 }]),
    2,
  );
});

Deno.test("starts and ends given as parallel lists give the same overlap, still-open ends included", () => {
  assert.equal(maxOverlapOfRanges([0, 5, 5], [10, 8, 5]), 3);
  assert.equal(maxOverlapOfRanges([0, 100], [Infinity, 200]), 2);
  assert.equal(maxOverlapOfRanges([0, NaN], [10, 20]), 1);
});

/** Per worker, intervals one after another that never overlap each other. */
const sequentialIntervals = fc
  .array(
    fc.tuple(
      fc.integer({ min: 1, max: 8 }),
      fc.array(fc.tuple(fc.nat(50), fc.nat(50)), { maxLength: 12 }),
    ),
    { maxLength: 8 },
  )
  .map((workers) => {
    const intervals: Interval[] = [];
    for (const [worker, steps] of workers) {
      // A worker drawn twice continues after its own last interval.
      let cursor = intervals.filter((it) => it.worker === worker)
        .reduce((end, it) => Math.max(end, it.fin + 1), 0);
      for (const [gap, duration] of steps) {
        const inicio = cursor + gap;
        intervals.push({ worker, inicio, fin: inicio + duration });
        cursor = inicio + duration + (duration === 0 ? 1 : 0);
      }
    }
    return intervals;
  });

Deno.test("the overlap is at most the number of workers when no worker overlaps itself", () => {
  fc.assert(
    fc.property(sequentialIntervals, (intervals) => {
      const workers = new Set(intervals.map((it) => it.worker)).size;
      const overlap = maxOverlap(intervals);
      assert.ok(overlap <= workers, `${overlap} > ${workers}`);
      assert.equal(overlap === 0, intervals.length === 0);
    }),
  );
});

Deno.test("the overlap equals a brute-force count over every instant", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({ worker: fc.nat(5), inicio: fc.nat(40), fin: fc.nat(40) }),
        { maxLength: 15 },
      ),
      (intervals) => {
        let best = 0;
        for (let t = 0; t <= 40; t++) {
          const open = intervals.filter((it) =>
            it.fin > it.inicio ? it.inicio <= t && t < it.fin : it.inicio === t
          ).length;
          best = Math.max(best, open);
        }
        assert.equal(maxOverlap(intervals), best);
      },
    ),
  );
});
