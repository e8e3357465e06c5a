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
    "--max-connections-per-ip",
    "3",
    "--tls-cert",
    "c.pem",
    "--tls-key",
    "k.pem",
    "--tokens",
    "tokens.txt",
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
      maxConnectionsPerIp: 3,
      tls: { certFile: "c.pem", keyFile: "k.pem" },
      tokensFile: "tokens.txt",
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
    [["--tls-cert", "c.pem"], /^--tls-cert y --tls-key van juntos$/],
    [["--tls-key", "k.pem"], /^--tls-cert y --tls-key van juntos$/],
    [["--max-connections-per-ip", "0"], /^--max-connections-per-ip: debe ser un entero entre 1/],
    [["--tokens", ""], /^--tokens: no puede estar vacío$/],
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

Deno.test("--processor replaces the simulated work, with the grants split at commas and repeated", () => {
  const command = parseServerArgs([
    "--processor",
    "procesar.ts",
    "--processor-allow-net",
    "api.local:8080,[::1]:9000",
    "--processor-allow-net=pagos.local",
    "--processor-allow-read",
    "/etc/tienda",
    "--processor-allow-env",
    "TIENDA_TOKEN,TIENDA_URL",
  ]);
  assert.deepEqual(command, {
    kind: "serve",
    config: {
      ...DEFAULTS,
      hosts: DEFAULT_HOSTS,
      processor: {
        file: "procesar.ts",
        grants: {
          net: ["api.local:8080", "[::1]:9000", "pagos.local"],
          read: ["/etc/tienda"],
          env: ["TIENDA_TOKEN", "TIENDA_URL"],
        },
      },
    },
  });
  assert.deepEqual(
    parseServerArgs(["--processor", "p.ts"]),
    {
      kind: "serve",
      config: {
        ...DEFAULTS,
        hosts: DEFAULT_HOSTS,
        processor: { file: "p.ts", grants: { net: [], read: [], env: [] } },
      },
    },
  );
});

Deno.test("processor flags that cannot work are usage errors", () => {
  const cases: [string[], RegExp][] = [
    [
      ["--processor-allow-net", "api.local"],
      /^--processor-allow-\* solo tiene sentido con --processor$/,
    ],
    [["--processor", "p.ts", "--work-ms", "0"], /no se usan con --processor$/],
    [["--processor", "p.ts", "--work-mode", "cpu"], /no se usan con --processor$/],
    [["--processor", ""], /^--processor: no puede estar vacío$/],
    [
      ["--processor", "p.ts", "--processor-allow-net", "https://api.local"],
      /^--processor-allow-net: https:\/\/api\.local: se espera HOST o HOST:PUERTO/,
    ],
    [
      ["--processor", "p.ts", "--processor-allow-env", "TOKEN,MAL-NOMBRE"],
      /^--processor-allow-env: MAL-NOMBRE: no es un nombre de variable/,
    ],
    [
      ["--processor", "p.ts", "--processor-allow-read", ","],
      /^--processor-allow-read: no puede estar vacío$/,
    ],
  ];
  for (const [args, message] of cases) {
    assert.throws(() => parseServerArgs(args), (error: unknown) => {
      assert.ok(error instanceof UsageError, `${args.join(" ")}: ${error}`);
      assert.match(error.message, message);
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

Deno.test("--http takes a port for loopback or an address with a port, and is off by default", () => {
  const http = (value: string) => {
    const command = parseServerArgs(["--http", value]);
    return command.kind === "serve" ? command.config.http : undefined;
  };
  assert.deepEqual(http("9090"), { hostname: "127.0.0.1", port: 9090 });
  assert.deepEqual(http("[::]:9090"), { hostname: "::", port: 9090 });
  assert.deepEqual(http("0.0.0.0:0"), { hostname: "0.0.0.0", port: 0 });
  const plain = parseServerArgs([]);
  assert.equal(plain.kind === "serve" && "http" in plain.config, false);
  assert.throws(() => parseServerArgs(["--http", "::1:9090"]), /--http: debe ser PUERTO/);
  assert.throws(() => parseServerArgs(["--http", "99999"]), /--http: debe ser PUERTO/);
});

Deno.test("--html goes with the stats subcommand only", () => {
  assert.deepEqual(parseServerArgs(["stats", "--db", "a.db", "--html", "r.html"]), {
    kind: "stats",
    db: "a.db",
    html: "r.html",
  });
  assert.throws(() => parseServerArgs(["--html", "r.html"]), UsageError);
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
