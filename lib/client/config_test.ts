import assert from "node:assert/strict";
import { UsageError } from "../util/cli.ts";
import {
  CLIENT_DEFAULTS,
  CLIENT_FLAGS,
  type ClientCommand,
  clientUsage,
  parseClientArgs,
} from "./config.ts";

const noEnv = () => undefined;

function run(command: ClientCommand) {
  assert.equal(command.kind, "run");
  return command as Extract<ClientCommand, { kind: "run" }>;
}

Deno.test("with no flags the client sends one order to localhost:8888, asking for the fields", () => {
  const { settings, mode } = run(parseClientArgs([], noEnv));
  assert.deepEqual(settings, {
    host: "localhost",
    port: 8888,
    timeoutMs: CLIENT_DEFAULTS.timeoutMs,
    retries: 0,
    json: false,
    verbose: false,
  });
  assert.deepEqual(mode, { kind: "order", fields: {}, wait: false });
});

Deno.test("flags win over PEDIDOS_HOST and PEDIDOS_PORT, which win over the defaults", () => {
  const env = (name: string) => ({ PEDIDOS_HOST: "[::1]", PEDIDOS_PORT: "9000" })[name];
  assert.deepEqual(
    [run(parseClientArgs([], env)).settings.host, run(parseClientArgs([], env)).settings.port],
    ["::1", 9000],
  );
  const flagged = run(parseClientArgs(["--host", "127.0.0.1", "-p", "7000"], env)).settings;
  assert.deepEqual([flagged.host, flagged.port], ["127.0.0.1", 7000]);
});

Deno.test("an invalid PEDIDOS_PORT or PEDIDOS_HOST is a usage error naming the variable", () => {
  assert.throws(
    () => parseClientArgs([], (name) => name === "PEDIDOS_PORT" ? "http" : undefined),
    { name: "UsageError", message: /^PEDIDOS_PORT: debe ser un entero entre 1 y 65535/ },
  );
  assert.throws(
    () => parseClientArgs([], (name) => name === "PEDIDOS_HOST" ? "[::1" : undefined),
    { name: "UsageError", message: /^PEDIDOS_HOST: / },
  );
});

Deno.test("hosts: names, IPv4, bare and bracketed IPv6 and zones are accepted; a port is not", () => {
  const hostOf = (host: string) => run(parseClientArgs(["--host", host], noEnv)).settings.host;
  assert.equal(hostOf("pedidos.example"), "pedidos.example");
  assert.equal(hostOf("127.0.0.1"), "127.0.0.1");
  assert.equal(hostOf("::1"), "::1");
  assert.equal(hostOf("[::1]"), "::1");
  assert.equal(hostOf("fe80::1%lo"), "fe80::1%lo");
  assert.equal(hostOf("[fe80::1%eth0]"), "fe80::1%eth0");
  for (const bad of ["localhost:8888", "[::1]:8888", "127.0.0.1:80"]) {
    assert.throws(() => hostOf(bad), { message: "--host: no incluya el puerto; use --port" }, bad);
  }
  for (const bad of ["[::1", "[pedidos]", "1::2::3", ""]) {
    assert.throws(() => hostOf(bad), UsageError, bad);
  }
});

Deno.test("products are split at commas and the flag may repeat", () => {
  const { mode } = run(
    parseClientArgs(["--productos", "pan, leche,", "--productos", "huevos"], noEnv),
  );
  assert.deepEqual(mode, {
    kind: "order",
    fields: { productos: ["pan", "leche", "huevos"] },
    wait: false,
  });
});

Deno.test("--file, --status and --stats exclude each other and the order flags", () => {
  const cases: [string[], RegExp][] = [
    [["--file", "x", "--status", "1"], /--file y --status no pueden usarse juntos/],
    [["--stats", "--cliente", "Ana"], /--cliente no se combina con --stats/],
    [["--file", "x", "--clave", "k"], /--clave no se combina con --file/],
    [["--status", "1", "--wait"], /--wait solo sirve al enviar pedidos/],
    [["--status", "1", "--clave", "k", "--cliente", "Ana"], /--cliente no se combina con --status/],
    [["--stats", "--clave", "k"], /--clave no se combina con --stats/],
    [["--status", "0"], /--status: debe ser un entero entre 1/],
    [["--retry", "-1"], /--retry/],
    [["--port", "0"], /--port: debe ser un entero entre 1 y 65535/],
    [["--nope"], /opción desconocida: --nope/],
  ];
  for (const [args, message] of cases) {
    assert.throws(
      () => parseClientArgs(args, noEnv),
      { name: "UsageError", message },
      args.join(" "),
    );
  }
});

Deno.test("each mode carries what it needs", () => {
  assert.deepEqual(run(parseClientArgs(["--status", "42"], noEnv)).mode, {
    kind: "status",
    id: 42,
  });
  assert.deepEqual(run(parseClientArgs(["--status", "42", "--clave", "k-1"], noEnv)).mode, {
    kind: "status",
    id: 42,
    clave: "k-1",
  });
  assert.deepEqual(run(parseClientArgs(["--stats"], noEnv)).mode, { kind: "stats" });
  assert.deepEqual(run(parseClientArgs(["-f", "-", "--wait"], noEnv)).mode, {
    kind: "batch",
    file: "-",
    wait: true,
  });
  assert.deepEqual(parseClientArgs(["--stats", "--status", "x", "--help"], noEnv).kind, "help");
});

Deno.test("help lists every flag with its default, the environment and the exit codes", () => {
  const help = clientUsage();
  for (const flag of CLIENT_FLAGS) {
    assert.match(help, new RegExp(`--${flag.name}\\b`), flag.name);
    if (flag.default) assert.ok(help.includes(`por defecto: ${flag.default}`), flag.name);
  }
  assert.match(help, /PEDIDOS_HOST/);
  assert.match(help, /PEDIDOS_PORT/);
  for (const code of ["0", "1", "2", "3"]) assert.match(help, new RegExp(`^  ${code}  `, "m"));
});
