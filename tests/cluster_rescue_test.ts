/**
 * A server of a cluster dies (`kill -9`) under pipelined load on all three:
 * its orders are rescued by the others once its lease runs out, and every
 * acknowledged order ends `listo`, exactly once.
 */
import assert from "node:assert/strict";
import { countOrders, waitFor } from "./helpers.ts";
import { assertExactlyOnce, newLedger, pipelinedLoad, sleep } from "./reliability_helpers.ts";
import { freshDatabase, postgresUnavailable, startCluster } from "./cluster_helpers.ts";

const unavailable = postgresUnavailable();
if (unavailable) console.log(`pruebas del clúster omitidas: ${unavailable}`);

const LEASE_MS = 2000;

Deno.test({
  name:
    "kill -9 of one of three servers under pipelined load: every acknowledged order ends listo once, within the lease plus a few seconds",
  ignore: unavailable !== undefined,
  async fn() {
    await using db = await freshDatabase();
    // The limit keeps the backlog small, so what remains after the kill is
    // the dead server's orders, not a queue that takes long to work off.
    await using cluster = await startCluster(db.url, 3, [
      "--work-ms",
      "20",
      "--max",
      "150",
      "--lease-ms",
      String(LEASE_MS),
    ]);
    const [first, victim, third] = cluster.servers;
    const ledger = newLedger();
    const stop = new AbortController();
    const loads = cluster.servers.map((server, i) =>
      pipelinedLoad(server.port, ledger, {
        connections: 2,
        burst: 20,
        prefix: `rescate-s${i + 1}`,
        signal: stop.signal,
      })
    );
    await waitFor(() => ledger.acked.size >= 300, "load under way on the three servers");
    victim!.kill("SIGKILL");
    const killedAt = Date.now();
    assert.notEqual((await victim!.exited()).code, 0);
    // The survivors keep taking orders for a while after the kill.
    await sleep(300);
    stop.abort();
    await Promise.all(loads);

    await waitFor(
      async () => await countOrders(db.url, { estados: ["en cola", "en proceso"] }) === 0,
      "every order finished",
      LEASE_MS + 10_000,
    );
    const elapsed = Date.now() - killedAt;
    assert.ok(elapsed <= LEASE_MS + 4000, `all done ${elapsed} ms after the kill`);
    await assertExactlyOnce(db.url, "rescate-", ledger, "after kill -9 of s2");
    const logs = first!.stderr() + third!.stderr();
    assert.match(logs, /s2 dejó de renovar su concesión: \d+ pedidos suyos vuelven a la cola/);
    const held = await db.admin((sql) =>
      sql`SELECT count(*)::int AS n FROM pedidos WHERE sesion IS NOT NULL`
    );
    assert.equal(held[0]!.n, 0, "no order is left held by anyone");
  },
});
