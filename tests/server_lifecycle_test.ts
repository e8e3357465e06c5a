/**
 * The server as a program: command line, `stats` subcommand, signals and the
 * shutdown report, refusing a second instance, restarting after `kill -9`,
 * and how much it logs.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DEFAULTS } from "../lib/server/config.ts";
import { createLogger } from "../lib/util/log.ts";
import {
  order,
  SERVER_PERMISSIONS,
  spawnServer,
  startTestServer,
  tempDir,
  TestClient,
  waitFor,
} from "./helpers.ts";
import { sqliteExec } from "./sqlite_helpers.ts";
import {
  lines,
  readUntilClosed,
  row,
  rows,
  runServerCli,
  waitForFinished,
  waitForInProcess,
} from "./server_helpers.ts";

Deno.test("--help exits 0 and lists every flag with its default", async () => {
  const { code, stdout, stderr } = await runServerCli(["--help"]);
  assert.equal(code, 0, stderr);
  const helpLines = stdout.split("\n");
  const flagLine = (flag: string) => {
    const found = helpLines.find((line) => new RegExp(`(^|[ ,])${flag}\\b`).test(line));
    assert.ok(found, `--help does not list ${flag}:\n${stdout}`);
    return found;
  };
  const withDefaults: [string, string][] = [
    ["--host", "0.0.0.0"],
    ["--port", String(DEFAULTS.port)],
    ["--max", String(DEFAULTS.max)],
    ["--workers", String(DEFAULTS.workers)],
    ["--work-ms", String(DEFAULTS.workMs)],
    ["--work-mode", DEFAULTS.workMode],
    ["--timeout-ms", String(DEFAULTS.timeoutMs)],
    ["--retries", String(DEFAULTS.retries)],
    ["--db", DEFAULTS.db],
    ["--sync", DEFAULTS.sync],
    ["--drain-ms", String(DEFAULTS.drainMs)],
    ["--max-bytes", String(DEFAULTS.maxBytes)],
    ["--max-connections", String(DEFAULTS.maxConnections)],
    ["--idle-ms", String(DEFAULTS.idleMs)],
  ];
  for (const [flag, value] of withDefaults) {
    assert.ok(flagLine(flag).includes(`por defecto: ${value}`), `${flag} without its default`);
  }
  for (const flag of ["--verbose", "--quiet", "--version", "--help"]) flagLine(flag);
  assert.match(stdout, /stats --db/, "the stats subcommand is documented");
  assert.equal(stderr, "");
});

Deno.test("--version prints one line with the version and exits 0", async () => {
  const { code, stdout } = await runServerCli(["--version"]);
  assert.equal(code, 0);
  assert.match(stdout, /^pedidos-server \d+\.\d+\.\d+ \(Deno \d+\.\d+\.\d+\)\n$/);
});

Deno.test("a bad command line is one error line and exit code 2, without a stack trace", async () => {
  const cases: [string[], RegExp][] = [
    [["--bogus"], /--bogus/],
    [["-x"], /-x/],
    [["--max", "abc"], /--max/],
    [["--max", "0"], /--max/],
    [["--max"], /--max/],
    [["--port", "70000"], /--port/],
    [["--work-mode", "rápido"], /--work-mode/],
    [["--idle-ms", "5"], /--idle-ms/],
    [["--verbose", "--quiet"], /--verbose/],
    [["arranca"], /arranca/],
  ];
  const results = await Promise.all(cases.map(([args]) => runServerCli(args)));
  results.forEach(({ code, stdout, stderr }, i) => {
    const [args, names] = cases[i]!;
    const what = `${args.join(" ")} →\n${stderr}`;
    assert.equal(code, 2, what);
    assert.equal(stdout, "", what);
    const [error, ...rest] = lines(stderr);
    assert.match(error ?? "", /^pedidos-server: error: /, what);
    assert.match(error!, names, what);
    // One line, pointing at --help; never a stack trace.
    assert.deepEqual(rest, [], what);
    assert.match(error!, /\(pruebe 'pedidos-server --help'\)$/, what);
    assert.doesNotMatch(stderr, /^\s+at /m, what);
  });
});

Deno.test("stats --db prints the report of a database, also while a server is using it", async () => {
  await using t = await startTestServer({ workMs: 10 });
  await using client = await TestClient.open(t.port);
  for (let i = 0; i < 3; i++) await client.request(order({ cliente: `S${i}` }));
  await waitForFinished(t.db, 3);

  const running = await runServerCli(["stats", "--db", t.db]);
  assert.equal(running.code, 0, running.stderr);
  assert.match(running.stdout, /Estadísticas de procesamiento/);
  assert.match(running.stdout, /Pedidos: 3 recibidos · 3 listos · 0 fallidos · 0 en cola/);
  assert.match(running.stdout, /Por worker: #/);

  client.close();
  await t.server.shutdown();
  const stopped = await runServerCli(["stats", "--db", t.db]);
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.match(stopped.stdout, /Pedidos: 3 recibidos · 3 listos/);
  assert.equal((await rows(t.db)).length, 3, "stats changed nothing");
});

Deno.test("--db postgres://… that cannot be reached is one line without its password, and exit code 1, serving or stats", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  const url = `postgres://pedidos:secreto@127.0.0.1:${port}/pedidos`;
  for (const args of [["--db", url, "--port", "0"], ["stats", "--db", url]]) {
    const { code, stdout, stderr } = await runServerCli(args, SERVER_PERMISSIONS);
    assert.equal(code, 1, stderr);
    assert.equal(stdout, "");
    assert.equal(lines(stderr).length, 1, stderr);
    assert.match(
      stderr,
      new RegExp(
        `^pedidos-server: error: no se pudo usar postgres://pedidos:\\*\\*\\*@127\\.0\\.0\\.1:${port}/pedidos: .*ECONNREFUSED`,
      ),
    );
    assert.equal(stderr.includes("secreto"), false);
  }
});

Deno.test("stats --db of a missing database is a one-line error and exit code 1", async () => {
  await using dir = await tempDir();
  const { code, stdout, stderr } = await runServerCli(["stats", "--db", `${dir.path}/no.db`]);
  assert.equal(code, 1);
  assert.equal(stdout, "");
  assert.equal(lines(stderr).length, 1, stderr);
  assert.match(stderr, /^pedidos-server: error: /);
});

Deno.test("SIGTERM drains the orders in process, prints the report on stdout and exits 0", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/pedidos.db`;
  await using proc = await spawnServer(["--db", db, "--work-ms", "1200", "--drain-ms", "10000"]);
  await using client = await TestClient.open(proc.port, "::1");
  const a = await client.request(order({ cliente: "A" }));
  const b = await client.request(order({ cliente: "B" }));
  await waitFor(async () => {
    const stored = await rows(db);
    return [a, b].every((reply) => stored.find((r) => r.id === reply.id)?.estado === "en proceso");
  }, "both orders in process");
  proc.kill("SIGTERM");
  const { code, stdout, stderr } = await proc.exited();
  assert.equal(code, 0, stderr);
  assert.match(stderr, /SIGTERM recibida/);
  assert.match(stdout, /Estadísticas de procesamiento/);
  assert.match(stdout, /Pedidos: 2 recibidos · 2 listos · 0 fallidos · 0 en cola · 0 en proceso/);
  assert.match(stdout, /Línea de tiempo/);
  assert.deepEqual((await rows(db)).map((r) => r.estado), ["listo", "listo"]);
  assert.deepEqual(await readUntilClosed(client), [], "the client's connection was closed");
});

Deno.test("the drain waits at most --drain-ms: a longer order is left en proceso for the next start", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/pedidos.db`;
  await using proc = await spawnServer(["--db", db, "--work-ms", "20000", "--drain-ms", "300"]);
  {
    await using client = await TestClient.open(proc.port);
    const reply = await client.request(order());
    await waitForInProcess(db, reply.id as number);
  }
  proc.kill("SIGTERM");
  const { code, stdout, stderr } = await proc.exited();
  assert.equal(code, 0, stderr);
  assert.match(stdout, /Pedidos: 1 recibido · 0 listos · 0 fallidos · 0 en cola · 1 en proceso/);
  assert.match(stderr, /1 pedidos quedaron en proceso/);
  assert.deepEqual((await rows(db)).map((r) => r.estado), ["en proceso"]);
});

Deno.test("SIGINT also shuts down in order with the report and exit code 0", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/pedidos.db`;
  await using proc = await spawnServer(["--db", db, "--work-ms", "10"]);
  {
    await using client = await TestClient.open(proc.port);
    assert.equal((await client.request(order())).ok, true);
  }
  await waitForFinished(db, 1);
  proc.kill("SIGINT");
  const { code, stdout, stderr } = await proc.exited();
  assert.equal(code, 0, stderr);
  assert.match(stderr, /SIGINT recibida/);
  assert.match(stdout, /Pedidos: 1 recibido · 1 listo/);
});

Deno.test("SIGHUP drains the order in process, prints the report and exits 0, as SIGTERM does", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/pedidos.db`;
  await using proc = await spawnServer(["--db", db, "--work-ms", "800", "--drain-ms", "10000"]);
  await using client = await TestClient.open(proc.port);
  const reply = await client.request(order());
  await waitForInProcess(db, reply.id as number);
  proc.kill("SIGHUP");
  const { code, stdout, stderr } = await proc.exited();
  assert.equal(code, 0, stderr);
  assert.match(stderr, /SIGHUP recibida/);
  assert.match(stdout, /Pedidos: 1 recibido · 1 listo · 0 fallidos · 0 en cola · 0 en proceso/);
  assert.deepEqual((await rows(db)).map((r) => r.estado), ["listo"]);
});

Deno.test("a second SIGTERM during the drain neither cuts it short nor breaks the exit", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/pedidos.db`;
  await using proc = await spawnServer(["--db", db, "--work-ms", "1500", "--drain-ms", "10000"]);
  await using client = await TestClient.open(proc.port);
  const reply = await client.request(order());
  await waitForInProcess(db, reply.id as number);
  proc.kill("SIGTERM");
  await waitFor(() => /recibida/.test(proc.stderr()), "the first signal");
  proc.kill("SIGTERM");
  proc.kill("SIGINT");
  const { code, stdout, stderr } = await proc.exited();
  assert.equal(code, 0, stderr);
  assert.match(stdout, /Pedidos: 1 recibido · 1 listo · 0 fallidos · 0 en cola · 0 en proceso/);
  assert.equal((await row(db, reply.id as number))?.estado, "listo");
});

Deno.test("a second server on the same database exits with a one-line error while the first serves on", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/pedidos.db`;
  await using first = await spawnServer(["--db", db, "--work-ms", "10"]);
  const error = await spawnServer(["--db", db]).then(
    () => assert.fail("the second server started"),
    (error) => error as { code: number; stderr: string },
  );
  assert.notEqual(error.code, 0);
  assert.equal(lines(error.stderr).length, 1, error.stderr);
  assert.match(error.stderr, /^pedidos-server: error: .*ya está en uso/);
  await using client = await TestClient.open(first.port, "::1");
  assert.equal((await client.request(order())).ok, true);
});

Deno.test("a second server on the same port exits with a one-line error while the first serves on", async () => {
  await using dir = await tempDir();
  await using first = await spawnServer(["--db", `${dir.path}/uno.db`, "--work-ms", "10"]);
  const error = await spawnServer(["--db", `${dir.path}/dos.db`, "--port", String(first.port)])
    .then(
      () => assert.fail("the second server started"),
      (error) => error as { code: number; stderr: string },
    );
  assert.notEqual(error.code, 0);
  assert.equal(lines(error.stderr).length, 1, error.stderr);
  assert.match(error.stderr, new RegExp(`^pedidos-server: error: .*${first.port}.*en uso`));
  await using client = await TestClient.open(first.port);
  assert.equal((await client.request(order())).ok, true);
});

Deno.test("a file that is not a database, or a newer schema (SQLite), stops start-up with a one-line error", async () => {
  await using dir = await tempDir();
  const garbage = `${dir.path}/texto.db`;
  await Deno.writeTextFile(garbage, "esto no es una base de datos SQLite\n".repeat(200));
  const newer = `${dir.path}/futura.db`;
  sqliteExec(newer, "CREATE TABLE pedidos (id INTEGER PRIMARY KEY); PRAGMA user_version = 99;");
  for (const db of [garbage, newer]) {
    const error = await spawnServer(["--db", db]).then(
      () => assert.fail(`a server started on ${db}`),
      (error) => error as { code: number; stderr: string },
    );
    assert.equal(error.code, 1, error.stderr);
    assert.equal(lines(error.stderr).length, 1, error.stderr);
    assert.match(error.stderr, /^pedidos-server: error: /);
  }
  assert.match(await Deno.readTextFile(garbage), /^esto no es/, "the file was left alone");
  const stats = await runServerCli(["stats", "--db", newer]);
  assert.equal(stats.code, 1);
  assert.match(stats.stderr, /v99/);
});

Deno.test("after kill -9 a new server starts on the same database: the lock died with the process", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/pedidos.db`;
  {
    await using killed = await spawnServer(["--db", db, "--work-ms", "10"]);
    await using client = await TestClient.open(killed.port);
    assert.equal((await client.request(order({ cliente: "Antes" }))).id, 1);
    killed.kill("SIGKILL");
    assert.notEqual((await killed.exited()).code, 0);
  }
  await using restarted = await spawnServer(["--db", db, "--work-ms", "10"]);
  await using client = await TestClient.open(restarted.port, "::1");
  assert.equal((await client.request(order({ cliente: "Después" }))).id, 2);
  await waitForFinished(db, 2);
});

Deno.test("--work-mode cpu runs orders in the child process", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/pedidos.db`;
  await using proc = await spawnServer(["--db", db, "--work-mode", "cpu", "--work-ms", "50"]);
  assert.match(proc.stderr(), /cpu 50 ms/);
  await using client = await TestClient.open(proc.port);
  const reply = await client.request(order({ avisar: true }));
  const event = await client.readJson();
  assert.equal(event.estado, "listo");
  // A fixed computation sized to 50 ms on an idle core; loose, as the core's speed varies.
  assert.ok((await row(db, reply.id as number))!.duracion! >= 0.025);
});

Deno.test("by default the log has a periodic summary, not a line per order", async () => {
  const logged: string[] = [];
  const log = createLogger("normal", "pedidos", (line) => logged.push(line));
  await using t = await startTestServer({ max: 300, workers: 1, workMs: 30, drainMs: 0 }, { log });
  await using client = await TestClient.open(t.port);
  await client.send(
    Array.from({ length: 200 }, (_, i) => JSON.stringify(order({ cliente: `L${i}` })) + "\n")
      .join(""),
  );
  const replies = await client.readJsons(200);
  assert.ok(replies.every((reply) => reply.ok === true));
  // The summary comes every five seconds while there is work.
  await waitFor(
    () => logged.some((line) => /admitidos 200 \(\+200\)/.test(line)),
    "the periodic summary",
    15_000,
  );
  const perOrder = logged.filter((line) => /#\d+/.test(line));
  assert.deepEqual(perOrder, [], "no line about a single order");
  assert.ok(logged.length < 15, `${logged.length} lines:\n${logged.join("\n")}`);
});

Deno.test("with the verbose level there is a line per order (the default is different)", async () => {
  const logged: string[] = [];
  const log = createLogger("verbose", "pedidos", (line) => logged.push(line));
  await using t = await startTestServer({ max: 50, workMs: 1 }, { log });
  await using client = await TestClient.open(t.port);
  await client.send(
    Array.from({ length: 20 }, () => JSON.stringify(order()) + "\n").join(""),
  );
  await client.readJsons(20);
  await waitForFinished(t.db, 20);
  for (let id = 1; id <= 20; id++) {
    assert.ok(logged.some((line) => line.includes(`#${id} `)), `no line for #${id}`);
  }
});
