/**
 * The cluster's PostgreSQL crashes and restarts under pipelined load on
 * three servers: orders sent meanwhile are answered `interno`, nothing
 * acknowledged is lost, the servers say they are not ready while it is
 * down and reconnect by themselves, and nobody's orders are "rescued"
 * because of the restart.
 */
import assert from "node:assert/strict";
import { countOrders, startTestServer, type TestServer, waitFor } from "./helpers.ts";
import { assertExactlyOnce, newLedger, pipelinedLoad, sleep } from "./reliability_helpers.ts";
import { postgresUnavailable, startThrowawayPostgres } from "../tools/postgres/throwaway.ts";

const unavailable = postgresUnavailable();
if (unavailable) console.log(`pruebas del clúster omitidas: ${unavailable}`);

Deno.test({
  name:
    "PostgreSQL restarted under load on three servers: interno meanwhile, nothing acknowledged lost, reconnected, not ready while down",
  ignore: unavailable !== undefined,
  async fn() {
    // A PostgreSQL of its own: this test stops it.
    await using pg = await startThrowawayPostgres();
    const servers: TestServer[] = [];
    try {
      for (const name of ["s1", "s2", "s3"]) {
        servers.push(
          await startTestServer({ db: pg.url, instance: name, leaseMs: 2000, max: 300 }),
        );
      }
      const ledger = newLedger();
      const stop = new AbortController();
      const loads = servers.map((server, i) =>
        pipelinedLoad(server.port, ledger, {
          connections: 2,
          burst: 10,
          prefix: `reinicio-s${i + 1}`,
          signal: stop.signal,
        })
      );
      await waitFor(() => ledger.acked.size >= 200, "load under way");
      await pg.stop("immediate");
      await waitFor(
        () => servers.every(({ server }) => !server.ready),
        "every server to say it is not ready",
      );
      await waitFor(() => (ledger.rejected.get("interno") ?? 0) > 0, "orders answered interno");
      await sleep(500);
      const ackedBeforeRestart = ledger.acked.size;
      await pg.start();
      await waitFor(() => servers.every(({ server }) => server.ready), "every server ready again");
      await waitFor(
        () => ledger.acked.size >= ackedBeforeRestart + 100,
        "orders acknowledged again after the restart",
        15_000,
      );
      stop.abort();
      await Promise.all(loads);
      await waitFor(
        async () => await countOrders(pg.url, { estados: ["en cola", "en proceso"] }) === 0,
        "every order finished",
        30_000,
      );
      await assertExactlyOnce(pg.url, "reinicio-", ledger, "after a PostgreSQL restart");
      const logs = servers.flatMap(({ log }) => log.lines).join("\n");
      assert.doesNotMatch(logs, /dejó de renovar su concesión/, "a restart rescues nobody");
      assert.match(logs, /la base de datos responde de nuevo/);
    } finally {
      await Promise.all(servers.map((server) => server[Symbol.asyncDispose]()));
    }
  },
});
