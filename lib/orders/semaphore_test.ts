import assert from "node:assert/strict";
import fc from "fast-check";
import { AdmissionSemaphore } from "./semaphore.ts";

Deno.test("AdmissionSemaphore admits exactly capacity permits and refuses the rest", () => {
  const semaphore = new AdmissionSemaphore(6);
  const permits = Array.from({ length: 10 }, () => semaphore.tryAcquire());
  assert.equal(permits.filter(Boolean).length, 6);
  assert.deepEqual(permits.slice(6), [null, null, null, null]);
  assert.equal(semaphore.available, 0);
});

Deno.test("a released permit frees one place, and releasing it again changes nothing", () => {
  const semaphore = new AdmissionSemaphore(1);
  const permit = semaphore.tryAcquire()!;
  assert.equal(semaphore.tryAcquire(), null);
  assert.equal(permit.release(), true);
  assert.equal(permit.release(), false);
  assert.equal(semaphore.available, 1);
});

Deno.test("forceAcquire exceeds capacity for recovered orders and admission waits for it", () => {
  const semaphore = new AdmissionSemaphore(2);
  const recovered = [1, 2, 3].map(() => semaphore.forceAcquire());
  assert.equal(semaphore.available, 0);
  assert.equal(semaphore.tryAcquire(), null);
  recovered[0]!.release();
  assert.equal(semaphore.tryAcquire(), null, "still at capacity after one of three is released");
  recovered[1]!.release();
  assert.notEqual(semaphore.tryAcquire(), null);
});

Deno.test("AdmissionSemaphore rejects a capacity that is not a positive integer", () => {
  for (const capacity of [0, -1, 1.5, NaN]) {
    assert.throws(() => new AdmissionSemaphore(capacity), RangeError);
  }
});

Deno.test("any sequence of acquires and releases keeps the free places at capacity minus those held", () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 8 }),
    fc.array(fc.oneof(fc.constant("acquire" as const), fc.nat(20)), { maxLength: 200 }),
    (capacity, steps) => {
      const semaphore = new AdmissionSemaphore(capacity);
      const held = [];
      for (const step of steps) {
        if (step === "acquire") {
          const permit = semaphore.tryAcquire();
          assert.equal(permit === null, held.length === capacity);
          if (permit) held.push(permit);
        } else if (held.length > 0) {
          const [permit] = held.splice(step % held.length, 1);
          permit!.release();
          permit!.release();
        }
        assert.equal(semaphore.available, capacity - held.length);
      }
    },
  ));
});
