import assert from "node:assert/strict";
import postgres from "postgres";
import { postgresUnavailable, startThrowawayPostgres } from "./throwaway.ts";

const unavailable = postgresUnavailable();
if (unavailable) console.warn(`omitido: ${unavailable}`);

Deno.test({
  name: "a throwaway PostgreSQL answers, survives a crash and restart, and leaves no folder",
  ignore: unavailable !== undefined,
  fn: async () => {
    let folder = "";
    {
      await using pg = await startThrowawayPostgres();
      const sql = postgres(pg.url, { onnotice: () => {}, max: 1 });
      try {
        const [row] = await sql<
          { data: string }[]
        >`select current_setting('data_directory') as data`;
        folder = row!.data;
        await sql`create table t (n int)`;
        await sql`insert into t values (1)`;
        await pg.stop("immediate");
        await pg.start();
        const rows = await sql<{ n: number }[]>`select n from t`;
        assert.deepEqual(rows.map((r) => r.n), [1], "a committed row survives a crash");
      } finally {
        await sql.end();
      }
    }
    await assert.rejects(Deno.stat(folder), Deno.errors.NotFound);
  },
});
