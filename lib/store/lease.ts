/**
 * The timing of a cluster's leases, as pure functions: how often a server
 * renews its lease, when it looks for servers whose lease ran out, and when
 * it may rescue their orders. `postgres_cluster.ts` runs them against the
 * database; the clock that decides whether a lease ran out is always
 * PostgreSQL's, never a server's.
 *
 * @module
 */

/** The smallest `--lease-ms` a server accepts: heartbeats every lease/3 must stay meaningful. */
export const MIN_LEASE_MS = 500;

/**
 * How often a server renews its lease: three times per lease, so that two
 * heartbeats can be lost or late before it runs out.
 *
 * @example
 * ```ts
 * heartbeatEvery(10_000); // 3333
 * ```
 */
export function heartbeatEvery(leaseMs: number): number {
  return Math.floor(leaseMs / 3);
}

/**
 * How soon to try again after a heartbeat failed: sooner than usual, so the
 * server is ready again soon after the database is back.
 *
 * @example
 * ```ts
 * heartbeatRetry(10_000); // 500
 * heartbeatRetry(900); // 300
 * ```
 */
export function heartbeatRetry(leaseMs: number): number {
  return Math.min(heartbeatEvery(leaseMs), 500);
}

/**
 * When to look for dead servers next: just after the earliest lease of
 * another server would run out (`remainingMs`, as the database computed
 * them), and at least every half lease, for servers that join meanwhile.
 *
 * @example
 * ```ts
 * nextRescueIn([1200, 4000], 10_000); // 1225
 * nextRescueIn([], 10_000); // 5000
 * nextRescueIn([-3], 10_000); // 50
 * ```
 */
export function nextRescueIn(remainingMs: readonly number[], leaseMs: number): number {
  const soonest = Math.min(...remainingMs);
  return Math.round(Math.max(50, Math.min(leaseMs / 2, soonest + 25)));
}

/**
 * Whether a server may rescue the orders of others: only after it has
 * itself been in touch with the database for a whole lease. After a cut
 * that isolated every server, the first one back would otherwise find all
 * the others' leases run out and take their orders while they reconnect.
 *
 * @example
 * ```ts
 * mayRescue(1000, 12_000, 10_000); // true
 * mayRescue(5000, 12_000, 10_000); // false
 * mayRescue(Infinity, 12_000, 10_000); // false: not in touch now
 * ```
 */
export function mayRescue(healthySinceMs: number, nowMs: number, leaseMs: number): boolean {
  return nowMs - healthySinceMs >= leaseMs;
}

/**
 * How many released orders each server held, for the log.
 *
 * @example
 * ```ts
 * countByName([{ nombre: "a" }, { nombre: "b" }, { nombre: "a" }]); // Map { "a" => 2, "b" => 1 }
 * ```
 */
export function countByName(rows: readonly { nombre: string }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { nombre } of rows) counts.set(nombre, (counts.get(nombre) ?? 0) + 1);
  return counts;
}

/**
 * The order ids of a `pedidos_terminados` notice; anything else is ignored.
 *
 * @example
 * ```ts
 * parseIds("3,5,8"); // [3, 5, 8]
 * parseIds("x,7,"); // [7]
 * ```
 */
export function parseIds(payload: string): number[] {
  const ids: number[] = [];
  for (const part of payload.split(",")) {
    const id = Number(part);
    if (part !== "" && Number.isSafeInteger(id) && id > 0) ids.push(id);
  }
  return ids;
}
