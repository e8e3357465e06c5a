/**
 * Admission control: a counting semaphore that never waits. An order either
 * gets a permit at once or is turned away, as in the seed's design.
 *
 * Permits are a count, not objects: a million orders queued on disk hold a
 * million permits and cost one number. Whoever takes a permit gives it back
 * exactly once (the order service, when the order's final state commits).
 *
 * @module
 */

/**
 * A non-blocking counting semaphore.
 *
 * @example
 * ```ts
 * const semaphore = new AdmissionSemaphore(2);
 * semaphore.tryAcquire(); // true
 * semaphore.available; // 1
 * semaphore.release();
 * semaphore.available; // 2
 * ```
 */
export class AdmissionSemaphore {
  #inUse = 0;
  readonly capacity: number;

  /**
   * @param capacity how many permits may be held at once
   * @throws {RangeError} if capacity is not a positive integer
   */
  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(
        `la capacidad de admisión debe ser un entero positivo, no ${capacity}`,
      );
    }
    this.capacity = capacity;
  }

  /** Permits free right now. */
  get available(): number {
    return Math.max(0, this.capacity - this.#inUse);
  }

  /** Permits held right now; above `capacity` after recovering a large backlog. */
  get inUse(): number {
    return this.#inUse;
  }

  /** Takes a permit if one is free. */
  tryAcquire(): boolean {
    if (this.#inUse >= this.capacity) return false;
    this.#inUse++;
    return true;
  }

  /**
   * Takes `count` permits even when none is free. Used only for orders
   * recovered at start-up, which were acknowledged before a crash and must
   * not be dropped: capacity can be exceeded for a while, and admission
   * waits until it is back.
   */
  forceAcquire(count = 1): void {
    this.#inUse += count;
  }

  /**
   * Gives back one permit.
   *
   * @throws {RangeError} if none is held: a permit given back twice is a bug
   * that would let admission exceed its limit.
   */
  release(): void {
    if (this.#inUse === 0) throw new RangeError("se devolvió un permiso que nadie tenía");
    this.#inUse--;
  }
}
