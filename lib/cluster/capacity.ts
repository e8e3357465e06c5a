/**
 * Admission for a server in a cluster: the limit is the whole cluster's,
 * and the store enforces it in each insert's transaction (see
 * `postgres.ts`), so this server grants every permit and lets the store
 * refuse. What it reports, for the greeting, is the cluster's capacity as
 * last seen: a commit or a heartbeat ago.
 *
 * @module
 */
import type { AdmissionSemaphore } from "../orders/semaphore.ts";
import type { ClusterQueue } from "../store/types.ts";

/**
 * The admission semaphore of a cluster's server.
 *
 * @example
 * ```ts ignore
 * const capacity = new ClusterCapacity(store.cluster);
 * capacity.tryAcquire(); // always true: the insert's commit decides
 * capacity.available; // the cluster's free capacity, as last seen
 * ```
 */
export class ClusterCapacity
  implements
    Pick<AdmissionSemaphore, "tryAcquire" | "forceAcquire" | "release" | "capacity" | "available"> {
  readonly #queue: Pick<ClusterQueue, "figures">;

  constructor(queue: Pick<ClusterQueue, "figures">) {
    this.#queue = queue;
  }

  /** The cluster's limit. */
  get capacity(): number {
    return this.#queue.figures().limite;
  }

  /** Orders admitted and unfinished across the cluster. */
  get inUse(): number {
    return this.#queue.figures().enUso;
  }

  /** Free capacity across the cluster, as last seen. */
  get available(): number {
    const { limite, enUso } = this.#queue.figures();
    return Math.max(0, limite - enUso);
  }

  /** Always a permit: the store admits or refuses in the insert's transaction. */
  tryAcquire(): true {
    return true;
  }

  /** Nothing is counted here: the cluster's count lives in the database. */
  forceAcquire(): void {}

  /** Nothing to give back: the final state's commit frees the cluster's place. */
  release(): void {}
}
