import assert from "node:assert/strict";
import fc from "fast-check";
import { AdmissionSemaphore } from "./semaphore.ts";

Deno.test("AdmissionSemaphore admits exactly capacity permits and refuses the rest", () => {
  const semaphore = new AdmissionSemaphore(6);
  const granted = Array.from({ length: 10 }, () => semaphore.tryAcquire());
  assert.deepEqual(granted, [true, true, true, true, true, true, false, false, false, false]);
  assert.equal(semaphore.available, 0);
  assert.equal(semaphore.inUse, 6);
});

Deno.test("a released permit frees one place, and releasing one nobody holds throws", () => {
  const semaphore = new AdmissionSemaphore(1);
  assert.equal(semaphore.tryAcquire(), true);
  assert.equal(semaphore.tryAcquire(), false);
  semaphore.release();
  assert.equal(semaphore.available, 1);
  assert.throws(() => semaphore.release(), RangeError);
  assert.equal(semaphore.available, 1, "the failed release changed nothing");
});

Deno.test("forceAcquire exceeds capacity for recovered orders and admission waits for it", () => {
  const semaphore = new AdmissionSemaphore(2);
  semaphore.forceAcquire(3);
  assert.equal(semaphore.available, 0);
  assert.equal(semaphore.inUse, 3);
  assert.equal(semaphore.tryAcquire(), false);
  semaphore.release();
  assert.equal(semaphore.tryAcquire(), false, "still at capacity after one of three is released");
  semaphore.release();
  assert.equal(semaphore.tryAcquire(), true);
});

Deno.test("AdmissionSemaphore rejects a capacity that is not a positive integer", () => {
  for (const capacity of [0, -1, 1.5, NaN]) {
    assert.throws(() => new AdmissionSemaphore(capacity), RangeError);
  }
});

Deno.test("any sequence of acquires and releases keeps the free places at capacity minus those held", () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 8 }),
    fc.array(fc.boolean(), { maxLength: 200 }),
    (capacity, steps) => {
      const semaphore = new AdmissionSemaphore(capacity);
      let held = 0;
      for (const acquire of steps) {
        if (acquire) {
          const granted = semaphore.tryAcquire();
          assert.equal(granted, held < capacity);
          if (granted) held++;
        } else if (held > 0) {
          semaphore.release();
          held--;
        }
        assert.equal(semaphore.available, capacity - held);
      }
    },
  ));
});
