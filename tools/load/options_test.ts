import assert from "node:assert/strict";
import { UsageError } from "../../lib/util/cli.ts";
import { defaultThreads, LOAD_DEFAULTS, parseLoadArgs, threadsFor } from "./options.ts";

function options(args: string[]) {
  const command = parseLoadArgs(args);
  assert.equal(command.kind, "run");
  return command.kind === "run" ? command.options : undefined!;
}

Deno.test("no flags give a closed loop of one order per connection with the defaults", () => {
  assert.deepEqual(options([]), {
    ...LOAD_DEFAULTS,
    durationMs: 10_000,
  });
});

Deno.test("closed-loop pipeline flags are read, short names included", () => {
  const parsed = options([
    "--mode",
    "pipeline",
    "-n",
    "5000",
    "-c",
    "8",
    "--depth",
    "64",
    "-p",
    "9000",
  ]);
  assert.equal(parsed.mode, "pipeline");
  assert.equal(parsed.orders, 5000);
  assert.equal(parsed.concurrency, 8);
  assert.equal(parsed.depth, 64);
  assert.equal(parsed.port, 9000);
  assert.equal(parsed.rate, undefined);
});

Deno.test("an open loop takes a decimal rate and duration", () => {
  const parsed = options(["--rate", "2500.5", "--duration", "1.5", "--bad", "0.05"]);
  assert.equal(parsed.rate, 2500.5);
  assert.equal(parsed.durationMs, 1500);
  assert.equal(parsed.bad, 0.05);
});

Deno.test("TLS and token flags name files for main to read", () => {
  const plain = parseLoadArgs([]);
  assert.deepEqual(plain.kind === "run" && plain.credentials, {});
  const command = parseLoadArgs(["--ca", "ca.pem", "--token-file", "t"]);
  assert.deepEqual(command.kind === "run" && command.credentials, {
    tls: { caFile: "ca.pem" },
    token: { file: "t" },
  });
  const tls = parseLoadArgs(["--tls"]);
  assert.deepEqual(tls.kind === "run" && tls.credentials, { tls: {} });
});

Deno.test("verification flags are read together", () => {
  const parsed = options(["--verify", "p.db", "--wait-done", "--wait-ms", "5000", "--json", "-q"]);
  assert.equal(parsed.verify, "p.db");
  assert.equal(parsed.waitDone, true);
  assert.equal(parsed.waitMs, 5000);
  assert.equal(parsed.json, true);
  assert.equal(parsed.quiet, true);
});

Deno.test("threads are read from --threads, or left to the default for the mode", () => {
  assert.equal(options(["--threads", "3"]).threads, 3);
  assert.equal(options([]).threads, undefined);
  const conexion = options(["-c", "50"]);
  assert.equal(threadsFor(conexion, 8), 2);
  assert.equal(threadsFor(conexion, 2), 1);
  assert.equal(threadsFor(options(["--mode", "pipeline"]), 8), 1);
});

Deno.test("one thread drives a pipelined run; one-order connections get two from four cores", () => {
  assert.equal(defaultThreads("pipeline", 2), 1);
  assert.equal(defaultThreads("pipeline", 16), 1);
  assert.equal(defaultThreads("conexion", 1), 1);
  assert.equal(defaultThreads("conexion", 3), 1);
  assert.equal(defaultThreads("conexion", 4), 2);
  assert.equal(defaultThreads("conexion", 16), 2);
});

Deno.test("a run never has more threads than connections", () => {
  assert.equal(threadsFor(options(["--threads", "8", "-c", "3"]), 16), 3);
  assert.equal(threadsFor(options(["--threads", "4", "-c", "1"]), 16), 1);
});

Deno.test("help wins over everything else", () => {
  assert.deepEqual(parseLoadArgs(["--help", "--mode", "nada"]), { kind: "help" });
});

Deno.test("bad values and contradictory flags are one-line usage errors naming the flag", () => {
  const cases: [string[], RegExp][] = [
    [["--mode", "rapido"], /^--mode: debe ser uno de: conexion, pipeline$/],
    [["-n", "0"], /^--orders: debe ser un entero entre 1/],
    [["--bad", "1.5"], /^--bad: debe ser un número entre 0 y 1$/],
    [["--rate", "mucho"], /^--rate: debe ser un número/],
    [["--rate", "100", "-n", "10"], /no pueden usarse juntos/],
    [["--duration", "3"], /solo tiene sentido con --rate/],
    [["--depth", "4"], /solo tiene sentido con --mode pipeline/],
    [["--threads", "0"], /^--threads: debe ser un entero entre 1 y 64$/],
    [["--wait-done"], /necesitan --verify/],
    [["--nada"], /opción desconocida: --nada/],
    [["extra"], /argumento inesperado: extra/],
    [["-n", "-5"], /^-n -5: un valor que empieza por '-' se escribe --orders=-5$/],
    [["--orders", "-5"], /^--orders -5: un valor que empieza por '-' se escribe --orders=-5$/],
    [["--orders=-5"], /^--orders: debe ser un entero entre 1/],
    [["-n", "--json"], /^falta el valor de -n \(--json es otra opción\)$/],
    [["--json=sí"], /^--json no admite un valor$/],
  ];
  for (const [args, message] of cases) {
    assert.throws(() => parseLoadArgs(args), (error: unknown) => {
      assert.ok(error instanceof UsageError, `${args.join(" ")}: ${error}`);
      assert.match(error.message, message);
      assert.doesNotMatch(error.message, /\n/);
      return true;
    });
  }
});
