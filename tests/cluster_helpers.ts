/**
 * Helpers for the cluster suites: several `server.ts` processes on one
 * PostgreSQL database, each with its own instance name. The database is a
 * fresh one on the process's throwaway PostgreSQL (`tools/postgres/shared.ts`),
 * or any URL given.
 *
 * @module
 */
import { type ServerProcess, spawnServer } from "./helpers.ts";

export { freshDatabase, postgresUnavailable } from "../tools/postgres/shared.ts";

/** Servers of one cluster; disposing kills those still running. */
export interface Cluster extends AsyncDisposable {
  servers: ServerProcess[];
  /** Instance names, in the order of `servers`. */
  names: string[];
}

/**
 * Starts `count` servers on the database `url`, named `s1`, `s2`…, with
 * `flags` (a short lease unless `flags` sets one) and `extra(i)` for the
 * i-th, one after another so that each start-up log is complete before
 * the next.
 */
export async function startCluster(
  url: string,
  count: number,
  flags: string[],
  extra: (index: number) => string[] = () => [],
): Promise<Cluster> {
  const servers: ServerProcess[] = [];
  const names = Array.from({ length: count }, (_, i) => `s${i + 1}`);
  const lease = flags.includes("--lease-ms") ? [] : ["--lease-ms", "2000"];
  try {
    for (const [i, name] of names.entries()) {
      servers.push(
        await spawnServer(["--db", url, "--instance", name, ...lease, ...flags, ...extra(i)]),
      );
    }
  } catch (error) {
    await Promise.all(servers.map((server) => server[Symbol.asyncDispose]()));
    throw error;
  }
  return {
    servers,
    names,
    [Symbol.asyncDispose]: async () => {
      await Promise.all(servers.map((server) => server[Symbol.asyncDispose]()));
    },
  };
}
