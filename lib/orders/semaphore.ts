/**
 * Admission control: a counting semaphore that never waits. An order either
 * gets a permit at once or is turned away, as in the seed's design.
 *
 * @module
 */

/** One admitted order's hold on capacity. Releasing it twice is a no-op. */
export interface Permit {
  /** Returns the permit; true the first time, false afterwards. */
  release(): boolean;
}

/**
 * A non-blocking counting semaphore handing out single-use permits.
 *
 * @example
 * ```ts
 * const semaphore = new AdmissionSemaphore(2);
 * const permit = semaphore.tryAcquire(); // a Permit
 * semaphore.available; // 1
 * permit?.release();
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

  /** Takes a permit if one is free; `null` otherwise. */
  tryAcquire(): Permit | null {
    return this.#inUse < this.capacity ? this.#grant() : null;
  }

  /**
   * Takes a permit even when none is free. Used only for orders recovered at
   * start-up, which were acknowledged before a crash and must not be dropped:
   * capacity can be exceeded for a while, and admission waits until it is back.
   */
  forceAcquire(): Permit {
    return this.#grant();
  }

  #grant(): Permit {
    this.#inUse++;
    let held = true;
    return {
      release: () => {
        if (!held) return false;
        held = false;
        this.#inUse--;
        return true;
      },
    };
  }
}
