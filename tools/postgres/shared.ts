/**
 * One throwaway PostgreSQL per test process, started on first use and
 * stopped (its folder deleted) when the process ends, with a fresh, empty
 * database for each caller: tests that share it cannot see each other's
 * orders, and pay PostgreSQL's start-up once.
 *
 * @example
 * ```ts ignore
 * await using db = await freshDatabase();
 * const store = await openStore(db.url, { sync: "full" });
 * ```
 *
 * @module
 */
import postgres from "postgres";
import { startThrowawayPostgres, type ThrowawayPostgres } from "./throwaway.ts";

export { postgresUnavailable } from "./throwaway.ts";

let server: Promise<ThrowawayPostgres> | undefined;
let databases = 0;

/** A database of its own on the process's throwaway PostgreSQL; dropped on dispose. */
export interface FreshDatabase extends AsyncDisposable {
  /** Its URL, as `--db` takes it. */
  readonly url: string;
  /** The PostgreSQL it lives on (shared by the whole process: do not stop it). */
  readonly server: ThrowawayPostgres;
  /** Runs SQL on it as the superuser, on a connection of its own (for triggers and checks). */
  admin<T>(use: (sql: postgres.Sql) => Promise<T>): Promise<T>;
}

function sharedServer(): Promise<ThrowawayPostgres> {
  server ??= startThrowawayPostgres({ settings: { max_connections: "300" } }).then((pg) => {
    globalThis.addEventListener("unload", () => pg.disposeSync());
    return pg;
  });
  return server;
}

/** Runs `use` on a short-lived superuser connection to `url`. */
export async function withConnection<T>(
  url: string,
  use: (sql: postgres.Sql) => Promise<T>,
): Promise<T> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await use(sql);
  } finally {
    await sql.end();
  }
}

/** Creates an empty database on the process's throwaway PostgreSQL (starting it if needed). */
export async function freshDatabase(): Promise<FreshDatabase> {
  const pg = await sharedServer();
  const name = `pedidos_${Deno.pid}_${++databases}`;
  await withConnection(pg.url, (sql) => sql.unsafe(`CREATE DATABASE ${name}`));
  const url = pg.url.replace(/\/postgres$/, `/${name}`);
  return {
    url,
    server: pg,
    admin: (use) => withConnection(url, use),
    [Symbol.asyncDispose]: () =>
      withConnection(pg.url, (sql) => sql.unsafe(`DROP DATABASE ${name} WITH (FORCE)`)).then(
        () => {},
      ),
  };
}
