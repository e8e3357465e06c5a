import assert from "node:assert/strict";
import { UsageError } from "../util/cli.ts";
import { DEFAULT_HOSTS, DEFAULTS, parseServerArgs } from "./config.ts";

Deno.test("no flags give the documented defaults on both address families", () => {
  assert.deepEqual(parseServerArgs([]), {
    kind: "serve",
    config: { ...DEFAULTS, hosts: DEFAULT_HOSTS },
  });
  assert.deepEqual(DEFAULT_HOSTS, ["0.0.0.0", "::"]);
  assert.equal(DEFAULTS.port, 8888);
  assert.equal(DEFAULTS.max, 6);
  assert.equal(DEFAULTS.workers, 3);
  assert.equal(DEFAULTS.workMs, 2000);
});

Deno.test("every flag is parsed and validated", () => {
  const command = parseServerArgs([
    "--host=127.0.0.1",
    "--host",
    "::1",
    "-p",
    "0",
    "--max",
    "10",
    "--workers=2",
    "--work-ms",
    "0",
    "--work-mode",
    "cpu",
    "--timeout-ms",
    "500",
    "--retries",
    "0",
    "--db",
    "x.db",
    "--sync",
    "normal",
    "--drain-ms",
    "0",
    "--max-bytes",
    "2048",
    "--max-connections",
    "5",
    "--idle-ms",
    "1000",
    "-q",
  ]);
  assert.deepEqual(command, {
    kind: "serve",
    config: {
      hosts: ["127.0.0.1", "::1"],
      port: 0,
      max: 10,
      workers: 2,
      workMs: 0,
      workMode: "cpu",
      timeoutMs: 500,
      retries: 0,
      db: "x.db",
      sync: "normal",
      leaseMs: 10_000,
      drainMs: 0,
      maxBytes: 2048,
      maxConnections: 5,
      idleMs: 1000,
      logLevel: "quiet",
    },
  });
});

Deno.test("bad command lines are one-line usage errors naming the flag", () => {
  const cases: [string[], RegExp][] = [
    [["--max", "0"], /^--max: debe ser un entero entre 1 y/],
    [["--max", "seis"], /^--max: debe ser un entero/],
    [["--port", "70000"], /^--port: debe ser un entero entre 0 y 65535$/],
    [["--sync", "off"], /^--sync: debe ser uno de: full, normal$/],
    [["--work-mode", "gpu"], /^--work-mode: debe ser uno de: sleep, cpu$/],
    [["--frobnicate"], /^opción desconocida: --frobnicate$/],
    [["--max"], /^falta el valor de --max/],
    [["-v", "-q"], /no pueden usarse juntos/],
    [["serve"], /^subcomando desconocido: serve/],
  ];
  for (const [args, message] of cases) {
    assert.throws(() => parseServerArgs(args), (error: unknown) => {
      assert.ok(error instanceof UsageError, `${args.join(" ")}: ${error}`);
      assert.match(error.message, message);
      assert.equal(error.message.includes("\n"), false);
      return true;
    });
  }
});

Deno.test("help, version and the stats subcommand are recognised", () => {
  assert.deepEqual(parseServerArgs(["--help"]), { kind: "help" });
  assert.deepEqual(parseServerArgs(["-h", "--max", "nonsense"]), { kind: "help" });
  assert.deepEqual(parseServerArgs(["--version"]), { kind: "version" });
  assert.deepEqual(parseServerArgs(["stats", "--db", "a.db"]), { kind: "stats", db: "a.db" });
});

Deno.test("a PostgreSQL --db takes an instance name and a lease; a SQLite one refuses them", () => {
  const command = parseServerArgs([
    "--db",
    "postgresql://pedidos@db/pedidos",
    "--instance",
    "api-1",
    "--lease-ms",
    "2000",
  ]);
  assert.equal(command.kind, "serve");
  if (command.kind !== "serve") return;
  assert.equal(command.config.db, "postgresql://pedidos@db/pedidos");
  assert.equal(command.config.instance, "api-1");
  assert.equal(command.config.leaseMs, 2000);
  const defaults = parseServerArgs(["--db", "postgres://pedidos@db/pedidos"]);
  assert.equal(defaults.kind === "serve" && defaults.config.instance, undefined);
  assert.equal(defaults.kind === "serve" && defaults.config.leaseMs, 10_000);
  for (const flag of [["--instance", "a"], ["--lease-ms", "2000"]]) {
    assert.throws(() => parseServerArgs(["--db", "x.db", ...flag]), {
      name: UsageError.name,
      message: /solo tienen sentido con --db postgres/,
    });
  }
  const pg = ["--db", "postgres://p@db/p"];
  assert.throws(() => parseServerArgs([...pg, "--lease-ms", "499"]), UsageError);
  assert.throws(() => parseServerArgs([...pg, "--instance", ""]), UsageError);
  assert.throws(() => parseServerArgs([...pg, "--instance", "a\u0007b"]), UsageError);
});
