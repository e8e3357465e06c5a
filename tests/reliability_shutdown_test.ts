/**
 * Shutdown faults: SIGINT/SIGTERM under load, two signals in a row, and a
 * signal during start-up. Every time: a clean exit with the report printed,
 * a database that passes `PRAGMA integrity_check`, and a restart that
 * finishes every acknowledged order exactly once.
 */
import assert from "node:assert/strict";
import { order, spawnServer, tempDir, TestClient, waitFor } from "./helpers.ts";
import {
  assertExactlyOnce,
  type Ledger,
  newLedger,
  pipelinedLoad,
  sleep,
  spawnServerRaw,
  unfinishedCount,
} from "./reliability_helpers.ts";
import { sqliteIntegrityCheck } from "./sqlite_helpers.ts";

const FLAGS = ["--work-ms", "20", "--workers", "3", "--max", "300", "--drain-ms", "500"];

/** Restarts on `db`, waits for every order to finish, checks the contract, stops cleanly. */
async function restartAndCheck(db: string, prefix: string, ledger: Ledger, context: string) {
  await using restarted = await spawnServer(["--db", db, ...FLAGS]);
  await waitFor(
    async () => await unfinishedCount(db) === 0,
    `${context}: recovered orders`,
    20_000,
  );
  await using client = await TestClient.open(restarted.port);
  assert.equal((await client.request(order())).ok, true, `${context}: restart accepts orders`);
  client.close();
  restarted.kill("SIGTERM");
  assert.equal((await restarted.exited()).code, 0, `${context}: restarted server exits 0`);
  assert.equal(sqliteIntegrityCheck(db), "ok");
  await assertExactlyOnce(db, prefix, ledger, context);
}

async function signalUnderLoad(signals: Deno.Signal[], context: string) {
  await using dir = await tempDir();
  const db = `${dir.path}/pedidos.db`;
  const ledger = newLedger();
  const prefix = `shut-${signals.join("-")}`;
  await using server = await spawnServer(["--db", db, ...FLAGS]);
  const stop = new AbortController();
  const load = pipelinedLoad(server.port, ledger, {
    connections: 4,
    burst: 20,
    prefix,
    signal: stop.signal,
  });
  await waitFor(() => ledger.acked.size >= 100, `${context}: load under way`);
  for (const signal of signals) server.kill(signal);
  const { code, stdout, stderr } = await server.exited();
  stop.abort();
  await load;
  assert.equal(code, 0, `${context}: exit code; stderr:\n${stderr}`);
  assert.match(stdout, /Estadísticas/, `${context}: the report is printed`);
  assert.match(stderr, /recibida, apagando/);
  assert.equal(sqliteIntegrityCheck(db), "ok", `${context}: integrity after shutdown`);
  await restartAndCheck(db, prefix, ledger, context);
}

Deno.test("SIGTERM under load exits 0 with the report, database intact, restart finishes every order", async () => {
  await signalUnderLoad(["SIGTERM"], "SIGTERM");
});

Deno.test("SIGINT under load exits 0 with the report, database intact, restart finishes every order", async () => {
  await signalUnderLoad(["SIGINT"], "SIGINT");
});

Deno.test("two signals in a row still end in one orderly shutdown", async () => {
  await signalUnderLoad(["SIGTERM", "SIGINT"], "SIGTERM+SIGINT");
});

Deno.test("a signal during start-up never leaves a damaged database, and the next start works", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/pedidos.db`;
  const outcomes: string[] = [];
  // Signals land across the whole start-up, however long it takes on this
  // machine now: the delays are fractions of a measured start, the last past it.
  const started = Date.now();
  await using calibration = await spawnServer(["--db", db]);
  const startupMs = Date.now() - started;
  calibration.kill("SIGTERM");
  assert.equal((await calibration.exited()).code, 0);
  const delays = [0, 0.1, 0.25, 0.5, 0.75, 1, 1.25].map((f) => Math.round(f * startupMs));
  for (const delay of delays) {
    const { child, output } = spawnServerRaw([
      "--db",
      db,
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--drain-ms",
      "200",
    ]);
    await sleep(delay);
    child.kill("SIGTERM");
    const result = await output;
    if (result.code === 0) {
      // The signal handler was in place: orderly shutdown with its report.
      assert.match(result.stdout, /Estadísticas/, `delay ${delay}: report printed`);
      outcomes.push("ordenado");
    } else {
      // Deno had not yet run the program's first line: the default action of
      // SIGTERM ends the process before it touches the database.
      assert.equal(result.signal, "SIGTERM", `delay ${delay}: ${result.stderr}`);
      outcomes.push("antes de arrancar");
    }
    try {
      Deno.statSync(db);
      assert.equal(sqliteIntegrityCheck(db), "ok", `delay ${delay}: integrity`);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  assert.ok(
    outcomes.includes("ordenado"),
    `start-up ${startupMs} ms; outcomes: ${outcomes.join(", ")}`,
  );
  await using server = await spawnServer(["--db", db]);
  await using client = await TestClient.open(server.port);
  assert.equal((await client.request(order())).ok, true);
  client.close();
  server.kill("SIGINT");
  assert.equal((await server.exited()).code, 0);
  assert.equal(sqliteIntegrityCheck(db), "ok");
});
