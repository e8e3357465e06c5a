/**
 * The ordering `--sync full` promises, checked on the system calls of a real
 * server under strace: every `ok` is sent after an fdatasync of the `-wal`
 * that completed after the order's row was written there. The same check
 * run against `--sync normal` (no sync per commit) must find violations,
 * which shows it can fail.
 */
import assert from "node:assert/strict";
import { ROOT, SERVER_PERMISSIONS, tempDir, TestClient } from "./helpers.ts";
import {
  repliedBeforeSync,
  type TracedOrder,
  traceOrders,
  walSyncsCompleted,
} from "./syscall_trace.ts";

const strace = await new Deno.Command("strace", { args: ["-V"], stdout: "null", stderr: "null" })
  .output().then((output) => output.success, () => false);
if (!strace) console.log("durability_trace_test: sin strace (apt-get install -y strace): se omite");

const CONNECTIONS = 3;
const PER_CONNECTION = 60;

/** Runs a server under strace, sends orders pipelined on a few connections, stops it; the log and the orders. */
async function tracedRun(
  sync: "full" | "normal",
): Promise<{ log: string; wal: string; orders: TracedOrder[] }> {
  await using dir = await tempDir();
  const trace = `${dir.path}/trace.txt`;
  const child = new Deno.Command("strace", {
    args: [
      "-f",
      "-y",
      "-s",
      "65536",
      "-o",
      trace,
      "-e",
      "trace=pwrite64,pwritev,write,writev,sendto,sendmsg,fdatasync,fsync",
      Deno.execPath(),
      "run",
      ...SERVER_PERMISSIONS,
      new URL("server.ts", ROOT).pathname,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--db",
      `${dir.path}/pedidos.db`,
      "--sync",
      sync,
      "--max",
      "1000",
      "--workers",
      "1",
      "--work-ms",
      "0",
    ],
    cwd: new URL(".", ROOT).pathname,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let log = "";
  while (!/escuchando en \S+:(\d+)/.test(log)) {
    const { value, done } = await stderr.read();
    assert.ok(!done, `the server did not start: ${log}`);
    log += value;
  }
  const port = Number(log.match(/escuchando en \S+:(\d+)/)![1]);
  const orders = (await Promise.all(
    Array.from({ length: CONNECTIONS }, async (_, c) => {
      await using client = await TestClient.open(port);
      const clientes = Array.from(
        { length: PER_CONNECTION },
        (_, i) => `traza-${c}-${String(i).padStart(4, "0")}`,
      );
      await client.send(
        clientes.map((cliente) =>
          JSON.stringify({ cliente, productos: ["pan"], direccion: "Calle 1" }) + "\n"
        ).join(""),
      );
      const replies = [];
      for (const cliente of clientes) {
        const reply = await client.readJson(30_000);
        assert.equal(reply.ok, true, JSON.stringify(reply));
        replies.push({ cliente, id: reply.id as number });
      }
      return replies;
    }),
  )).flat();
  // The server, not strace: strace stays until its tracee exits.
  const server = Number((await Deno.readTextFile(trace)).match(/^(\d+) /)![1]);
  Deno.kill(server, "SIGTERM");
  await child.status;
  await stderr.cancel();
  return { log: await Deno.readTextFile(trace), wal: `${dir.path}/pedidos.db-wal`, orders };
}

Deno.test({
  name:
    "with --sync full, no ok leaves before an fdatasync of the -wal that followed the order's row",
  ignore: !strace,
  async fn() {
    const { log, wal, orders } = await tracedRun("full");
    const traces = traceOrders(log, wal, orders);
    assert.deepEqual(repliedBeforeSync(traces), []);
    assert.equal(traces.length, CONNECTIONS * PER_CONNECTION);
  },
});

Deno.test({
  name: "the same check finds replies sent before any sync when --sync normal skips them",
  ignore: !strace,
  async fn() {
    const { log, wal, orders } = await tracedRun("normal");
    const traces = traceOrders(log, wal, orders);
    assert.ok(traces.every((trace) => trace.walWrite >= 0 && trace.reply >= 0));
    assert.ok(repliedBeforeSync(traces).length > 0);
  },
});

Deno.test("a trace's syncs count when they complete, on their own line or when resumed", () => {
  const lines = [
    '10 pwrite64(7</d/p.db-wal>, "..ana..", 4096, 0) = 4096',
    "11 fdatasync(9</d/p.db-wal> <unfinished ...>",
    '10 sendto(12<socket:[1]>, "{\\"ok\\":true,\\"id\\":1,\\"m\\":1}\\n", 30, 0, NULL, 0) = 30',
    "11 <... fdatasync resumed>) = 0",
    "12 fdatasync(9</d/p.db-wal>) = 0",
    "13 fsync(5</d/p.db>) = 0",
  ];
  assert.deepEqual(walSyncsCompleted(lines, "/d/p.db-wal"), [3, 4]);
  const [early] = traceOrders(lines.join("\n"), "/d/p.db-wal", [{ cliente: "ana", id: 1 }]);
  assert.deepEqual(early, { cliente: "ana", id: 1, walWrite: 0, reply: 2, syncAfter: 3 });
  assert.equal(repliedBeforeSync([early!]).length, 1, "the reply went out before the sync ended");
  const late = [...lines.slice(0, 2), lines[3]!, lines[2]!].join("\n");
  assert.deepEqual(
    repliedBeforeSync(traceOrders(late, "/d/p.db-wal", [{ cliente: "ana", id: 1 }])),
    [],
  );
  assert.equal(traceOrders(late, "/d/p.db-wal", [{ cliente: "bea", id: 2 }])[0]!.walWrite, -1);
  assert.deepEqual(
    walSyncsCompleted(lines, "/d/otra.db-wal"),
    [],
    "another file's syncs do not count",
  );
});
