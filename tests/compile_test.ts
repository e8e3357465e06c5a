/**
 * The standalone executables. Building them needs Deno's slim runtime
 * (denort); where none is at hand the end-to-end test is reported as ignored,
 * with the reason in its name, and the one-line failure is checked instead.
 */
import assert from "node:assert/strict";
import { missingRuntimeReason } from "../tools/compile/runtime.ts";
import { listeningPorts, readOrders, ROOT, waitFor } from "./helpers.ts";

const decoder = new TextDecoder();
const root = new URL(".", ROOT).pathname;

function runCompile(args: string[], env: Record<string, string> = {}) {
  return new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "compile", ...args],
    cwd: root,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
}

Deno.test("deno task compile without a usable runtime fails in one clear line", async () => {
  const result = await runCompile([], { DENORT_BIN: "/nonexistent/denort" });
  assert.equal(result.code, 1);
  const lines = decoder.decode(result.stderr).trim().split("\n");
  assert.deepEqual(lines.slice(-1), [
    "compile: error: DENORT_BIN=/nonexistent/denort no existe o no se puede leer",
  ]);
  assert.equal(decoder.decode(result.stderr).includes("Stack backtrace"), false);
});

Deno.test("deno task compile refuses an unknown target with a usage error", async () => {
  const result = await runCompile(["--target", "mips-unknown-plan9"]);
  assert.equal(result.code, 2);
  assert.match(decoder.decode(result.stderr), /^compile: error: --target: debe ser uno de: /m);
});

Deno.test("deno task compile with a processor that does not exist fails in one line before building", async () => {
  const result = await runCompile(["--processor", "nohay.ts"], {
    DENORT_BIN: "/nonexistent/denort",
  });
  assert.equal(result.code, 1);
  assert.deepEqual(decoder.decode(result.stderr).trim().split("\n"), [
    `compile: error: --processor: ${root}nohay.ts no existe o no es un archivo`,
  ]);
});

const reason = await missingRuntimeReason();

Deno.test({
  name:
    `compiled pedidos-server and pedidos-client serve an order over IPv6 loopback, and the server its dashboard${
      reason ? ` (skipped: ${reason})` : ""
    }`,
  ignore: reason !== undefined,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "pedidos-compile-" });
    try {
      const build = await runCompile(["--out", dir]);
      assert.equal(build.code, 0, decoder.decode(build.stderr));
      await withCompiledServer(dir, ["--work-ms", "10", "--http", "0"], async (port, server) => {
        assert.match(await sendWithCompiledClient(dir, port), /Pedido encolado #1/);
        const rows = await readOrders(`${dir}/pedidos.db`);
        assert.deepEqual(rows.map(({ cliente, estado }) => ({ cliente, estado })), [
          { cliente: "Ana", estado: "listo" },
        ]);
        if (Deno.build.os === "linux") {
          // SIGUSR1 opens no debugger port in the executable either.
          const before = listeningPorts(server.pid);
          server.kill("SIGUSR1");
          await new Promise((resolve) => setTimeout(resolve, 1000));
          assert.deepEqual(listeningPorts(server.pid), before, server.log());
        }
        assert.doesNotMatch(server.log(), /SIGUSR1|Debugger listening/);
        // The page and prom-client are embedded: the binary runs from "/", away from the sources.
        const url = server.log().match(/panel, métricas y comprobaciones en (\S+)/)![1]!;
        const page = await (await fetch(url)).text();
        assert.match(page, /<title>pedidos · panel en vivo<\/title>/);
        assert.match(page, /new EventSource\("api\/events"\)/);
        const metrics = await (await fetch(new URL("metrics", url))).text();
        assert.match(metrics, /^pedidos_orders_finished_total\{outcome="listo"\} 1$/m);
        const version = await new Deno.Command(`${dir}/pedidos-server`, {
          args: ["--version"],
          stdout: "piped",
        }).output();
        assert.match(
          decoder.decode(version.stdout),
          /^pedidos-server \d+\.\d+\.\d+ \(Deno \d+\.\d+\.\d+\)/,
        );
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** The running compiled server, for checks beyond its port. */
interface CompiledServer {
  pid: number;
  kill(signal: Deno.Signal): void;
  /** Its standard error so far. */
  log(): string;
}

/** Runs `dir/pedidos-server` on `::1` with `args` until `use` is done, then stops it and checks it exits 0. */
async function withCompiledServer(
  dir: string,
  args: string[],
  use: (port: string, server: CompiledServer) => Promise<void>,
): Promise<void> {
  const server = new Deno.Command(`${dir}/pedidos-server`, {
    args: ["--port", "0", "--host", "::1", "--db", `${dir}/pedidos.db`, ...args],
    cwd: "/",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let log = "";
  const logDone = server.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (text) => void (log += text) }),
  );
  try {
    const address = await waitFor(() => log.match(/escuchando en \[::1\]:(\d+)/), "server");
    await use(address[1]!, {
      pid: server.pid,
      kill: (signal) => server.kill(signal),
      log: () => log,
    });
  } finally {
    server.kill("SIGTERM");
    const status = await server.status;
    await server.stdout.cancel();
    await logDone;
    assert.equal(status.code, 0, log);
  }
}

/** Sends one order with `dir/pedidos-client --wait` and returns its output. */
async function sendWithCompiledClient(dir: string, port: string): Promise<string> {
  const client = await new Deno.Command(`${dir}/pedidos-client`, {
    args: [
      "--host",
      "::1",
      "--port",
      port,
      "--cliente",
      "Ana",
      "--productos",
      "pan",
      "--direccion",
      "Calle 1",
      "--wait",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(client.code, 0, decoder.decode(client.stderr));
  return decoder.decode(client.stdout);
}

Deno.test({
  name: `a processor embedded with compile --processor runs in the compiled server's workers${
    reason ? ` (skipped: ${reason})` : ""
  }`,
  ignore: reason !== undefined,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "pedidos-compile-" });
    try {
      const build = await runCompile([
        "--out",
        dir,
        "--processor",
        "tests/fixtures/processors/recibo.ts",
      ]);
      assert.equal(build.code, 0, decoder.decode(build.stderr));
      // Run from elsewhere: a compiled server imports only modules embedded in it.
      await withCompiledServer(dir, [], async (port) => {
        assert.match(await sendWithCompiledClient(dir, port), /resultado: \{"recibo":"R-1"/);
        const [order] = await readOrders(`${dir}/pedidos.db`);
        assert.deepEqual(order?.resultado, { recibo: "R-1", cliente: "Ana" });
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
