import assert from "node:assert/strict";
import { LOAD_DEFAULTS } from "../tools/load/options.ts";
import { verificationPassed } from "../tools/load/verify.ts";
import { runLoad } from "../tools/load/run.ts";
import { freePort, runScript, startTestServer } from "./helpers.ts";
import { permissionSet } from "../tools/permissions.ts";

Deno.test("a one-second open-loop pipelined run adds up and verifies against the database", async () => {
  await using t = await startTestServer({ max: 100_000, workMs: 0, workers: 2, sync: "normal" });
  const report = await runLoad({
    ...LOAD_DEFAULTS,
    port: t.port,
    mode: "pipeline",
    concurrency: 2,
    depth: 8,
    rate: 400,
    durationMs: 1000,
    bad: 0.1,
    verify: t.db,
    waitDone: true,
    waitMs: 20_000,
  });
  assert.equal(report.sent, 400);
  assert.equal(report.sent, report.accepted + report.rejectedTotal + report.errorsTotal);
  assert.equal(report.errorsTotal, 0);
  assert.equal(report.accepted, 360);
  assert.deepEqual(report.rejected, { json_invalido: 20, pedido_invalido: 20 });
  assert.deepEqual(report.bad, { sent: 40, answered: 40, wrong: 0 });
  assert.equal(report.unexpected, 0);
  assert.equal(report.latencyMs.count, 400);
  assert.ok(
    report.latencyMs.p50 <= report.latencyMs.p99 && report.latencyMs.p99 <= report.latencyMs.max,
  );
  const verification = report.verification!;
  assert.ok(verificationPassed(verification), JSON.stringify(verification));
  assert.equal(verification.acknowledged, 360);
  assert.equal(verification.stored, 360);
});

Deno.test("one order per connection against a small admission limit counts every refusal", async () => {
  await using t = await startTestServer({ max: 2, workMs: 200, workers: 1, sync: "normal" });
  const report = await runLoad({
    ...LOAD_DEFAULTS,
    port: t.port,
    mode: "conexion",
    orders: 30,
    concurrency: 5,
  });
  assert.equal(report.sent, 30);
  assert.equal(report.sent, report.accepted + report.rejectedTotal + report.errorsTotal);
  assert.equal(report.errorsTotal, 0);
  assert.ok(report.accepted >= 2);
  assert.equal(report.rejected.limite, 30 - report.accepted);
  assert.equal(report.unexpected, 0);
});

Deno.test("with no server listening, attempts count as errors and a pipelined run gives up", async () => {
  const port = freePort();
  const report = await runLoad({
    ...LOAD_DEFAULTS,
    port,
    mode: "conexion",
    orders: 5,
    concurrency: 2,
  });
  assert.equal(report.sent, 5);
  assert.deepEqual(report.errors, { "conexión rechazada": 5 });
  const pipelined = await runLoad({
    ...LOAD_DEFAULTS,
    port,
    mode: "pipeline",
    orders: 5,
    concurrency: 2,
    timeoutMs: 200,
  });
  assert.match(pipelined.aborted ?? "", /ninguna conexión .*conexión rechazada/);
  assert.equal(pipelined.sent, 0);
  assert.ok(pipelined.failedConnections >= 2);
});

function runCli(args: string[]) {
  return runScript("tools/load/main.ts", args, permissionSet("load"));
}

Deno.test("the command prints its help, and refuses a bad flag in one line with code 2", async () => {
  const help = await runCli(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--mode MODO/);
  assert.match(help.stdout, /--verify RUTA/);
  const bad = await runCli(["--bad", "2"]);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr.trim().split("\n").length, 1);
  assert.match(bad.stderr, /^carga: error: --bad: .* \(pruebe 'deno task load --help'\)$/m);
  const negative = await runCli(["-n", "-5"]);
  assert.equal(negative.code, 2);
  assert.equal(
    negative.stderr,
    "carga: error: -n -5: un valor que empieza por '-' se escribe --orders=-5 " +
      "(pruebe 'deno task load --help')\n",
  );
});
