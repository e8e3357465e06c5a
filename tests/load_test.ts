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

Deno.test("one order per connection on two threads adds up, verifies and reports the tool's CPU", async () => {
  await using t = await startTestServer({ max: 100_000, workMs: 0, workers: 2, sync: "normal" });
  const report = await runLoad({
    ...LOAD_DEFAULTS,
    port: t.port,
    mode: "conexion",
    orders: 600,
    concurrency: 8,
    threads: 2,
    bad: 0.1,
    verify: t.db,
    waitDone: true,
    waitMs: 20_000,
  });
  assert.equal(report.sent, 600);
  assert.equal(report.errorsTotal, 0);
  assert.equal(report.accepted, 540);
  assert.deepEqual(report.rejected, { json_invalido: 30, pedido_invalido: 30 });
  assert.deepEqual(report.bad, { sent: 60, answered: 60, wrong: 0 });
  assert.equal(report.unexpected, 0);
  assert.equal(report.latencyMs.count, 600, "every thread's latencies reach the histogram");
  assert.ok(report.latencyMs.p50 > 0 && report.latencyMs.p50 <= report.latencyMs.max);
  const cpu = report.toolCpu;
  assert.equal(cpu.threads, 2);
  assert.ok(cpu.seconds > 0 && cpu.usPerOrder > 0 && cpu.cores > 0, JSON.stringify(cpu));
  assert.ok(Math.abs(cpu.usPerOrder * 600 / 1e6 - cpu.seconds) < 1e-9);
  assert.ok(cpu.cpus >= 1);
  assert.ok(Array.isArray(cpu.saturation));
  const verification = report.verification!;
  assert.ok(verificationPassed(verification), JSON.stringify(verification));
  assert.equal(verification.acknowledged, 540);
  assert.equal(verification.stored, 540);
});

Deno.test("a pipelined closed loop on three threads sends each order once", async () => {
  await using t = await startTestServer({ max: 100_000, workMs: 0, workers: 2, sync: "normal" });
  const report = await runLoad({
    ...LOAD_DEFAULTS,
    port: t.port,
    mode: "pipeline",
    orders: 3000,
    concurrency: 5,
    depth: 16,
    threads: 3,
    verify: t.db,
    waitDone: true,
    waitMs: 20_000,
  });
  assert.equal(report.sent, 3000);
  assert.equal(report.accepted, 3000);
  assert.equal(report.latencyMs.count, 3000);
  assert.equal(report.toolCpu.threads, 3);
  assert.ok(report.toolCpu.usPerOrder > 0);
  const verification = report.verification!;
  assert.ok(verificationPassed(verification), JSON.stringify(verification));
  assert.equal(verification.stored, 3000);
});

/**
 * A listener that greets, answers `ok` to every line, and counts the
 * connections it accepted.
 */
function countingServer() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const encoder = new TextEncoder();
  const served: Promise<void>[] = [];
  let accepted = 0;
  let nextId = 1;
  const serve = async (conn: Deno.Conn) => {
    const buffer = new Uint8Array(65536);
    try {
      await conn.write(encoder.encode('{"ok":true,"tipo":"bienvenida","mensaje":"hola"}\n'));
      for (let count = await conn.read(buffer); count !== null; count = await conn.read(buffer)) {
        let replies = "";
        for (const byte of buffer.subarray(0, count)) {
          if (byte === 0x0a) replies += `{"ok":true,"id":${nextId++}}\n`;
        }
        await conn.write(encoder.encode(replies));
      }
    } catch {
      // The client went away.
    } finally {
      conn.close();
    }
  };
  const accepting = (async () => {
    for await (const conn of listener) {
      accepted++;
      served.push(serve(conn));
    }
  })();
  return {
    port: listener.addr.port,
    get accepted() {
      return accepted;
    },
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepting;
      await Promise.all(served);
    },
  };
}

Deno.test("a pipelined run keeps the connections it opened before the orders started", async () => {
  await using server = countingServer();
  for (const threads of [1, 2]) {
    const before = server.accepted;
    const report = await runLoad({
      ...LOAD_DEFAULTS,
      port: server.port,
      mode: "pipeline",
      orders: 400,
      concurrency: 4,
      depth: 8,
      threads,
    });
    assert.equal(report.accepted, 400);
    assert.equal(server.accepted - before, 4, `${threads} threads: one connection per lane`);
  }
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
  const threaded = await runLoad({
    ...LOAD_DEFAULTS,
    port,
    mode: "pipeline",
    rate: 1000,
    durationMs: 100,
    concurrency: 2,
    threads: 2,
    timeoutMs: 200,
  });
  assert.match(threaded.aborted ?? "", /ninguna conexión .*conexión rechazada/);
  assert.equal(threaded.sent, threaded.errorsTotal, "orders due meanwhile failed, none lost");
  assert.ok(threaded.sent > 0);
  assert.ok(threaded.failedConnections >= 2);
});

Deno.test("the command drives threads with progress and prints the tool's CPU per order", async () => {
  await using t = await startTestServer({ max: 100_000, workMs: 0, workers: 1, sync: "normal" });
  const result = await runCli([
    "-p",
    String(t.port),
    "--mode",
    "conexion",
    "-n",
    "300",
    "-c",
    "4",
    "--threads",
    "2",
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /^carga: .*300\/300 \(100%\)/m);
  assert.match(result.stdout, /aceptados\s+300/);
  assert.match(
    result.stdout,
    /herramienta\s+\d+\.\d µs de CPU por pedido · \d+\.\d\d núcleos \(2 hilos, \d+ en la máquina\)/,
  );
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
