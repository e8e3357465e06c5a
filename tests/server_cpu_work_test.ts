/**
 * `--work-mode cpu` in a real server process: the work is calibrated once at
 * start-up, and each order then costs a fixed amount of computation, which
 * shows in the CPU time of the worker threads, read from `/proc`, however
 * many workers share the cores.
 *
 * @module
 */
import assert from "node:assert/strict";
import { order, spawnServer, tempDir, TestClient } from "./helpers.ts";
import { waitForFinished } from "./server_helpers.ts";
import { parseThreadStat } from "../tools/proc.ts";

const WORK_MS = 20;
const CALIBRATION =
  /trabajo cpu: (\d+) iteraciones por pedido, calibrado a (\d+) iteraciones por ms/g;

/** Sends `count` orders down one connection and reads their replies. */
async function sendOrders(port: number, count: number): Promise<void> {
  await using client = await TestClient.open(port);
  await client.send(
    Array.from({ length: count }, (_, i) => JSON.stringify(order({ cliente: `C${i}` })) + "\n")
      .join(""),
  );
  const replies = await client.readJsons(count, 30_000);
  assert.ok(
    replies.every((reply) => reply.ok === true),
    JSON.stringify(replies.find((r) => !r.ok)),
  );
}

Deno.test("a cpu-mode server calibrates once at start-up, logs its rate and processes orders to listo", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/pedidos.db`;
  await using server = await spawnServer([
    ...["--db", db, "--work-mode", "cpu", "--work-ms", String(WORK_MS), "--workers", "2"],
    ...["--max", "100"],
  ]);
  const calibrations = [...server.stderr().matchAll(CALIBRATION)];
  assert.equal(calibrations.length, 1, server.stderr());
  const [iterations, perMs] = [Number(calibrations[0]![1]), Number(calibrations[0]![2])];
  assert.ok(perMs > 0, server.stderr());
  // The log rounds the rate; the iterations come from the unrounded one.
  assert.ok(Math.abs(iterations - WORK_MS * perMs) <= WORK_MS, server.stderr());

  await sendOrders(server.port, 20);
  const done = await waitForFinished(db, 20, 60_000);
  assert.deepEqual(done.map((r) => r.estado), Array(20).fill("listo"));
  // Loose on purpose: waiting for a core makes an order longer, and a
  // machine busy at start-up makes the calibration understate a core's
  // speed (seen down to three quarters of it), which makes orders shorter.
  for (const { id, duracion } of done) {
    assert.ok(duracion! >= WORK_MS / 2 / 1000, `order #${id} took ${duracion} s`);
  }
});

const procReadable = await Deno.stat("/proc/self/task").then(() => true, () => false);

Deno.test({
  name: `with more workers than cores each cpu-mode order still costs its work-ms of CPU${
    procReadable ? "" : " (skipped: no /proc)"
  }`,
  ignore: !procReadable,
  async fn() {
    // Twice the cores (up to four): a span of wall-clock time would cost each order at
    // most half its milliseconds of CPU here; a fixed computation costs all
    // of them, less what a machine busy at start-up makes the calibration
    // understate (seen down to three quarters).
    const workers = Math.min(2 * navigator.hardwareConcurrency, 8);
    const orders = 60;
    await using dir = await tempDir();
    const db = `${dir.path}/pedidos.db`;
    await using server = await spawnServer([
      ...["--db", db, "--work-mode", "cpu", "--work-ms", String(WORK_MS)],
      ...["--workers", String(workers), "--max", "1000"],
    ]);
    const pid = server.child.pid;
    const before = workerCpuSeconds(pid);
    await sendOrders(server.port, orders);
    await waitForFinished(db, orders, 60_000);
    const used = workerCpuSeconds(pid) - before;
    const expected = (orders * WORK_MS) / 1000;
    assert.ok(
      used >= 0.6 * expected,
      `${
        used.toFixed(3)
      } s of worker CPU for ${orders} orders × ${WORK_MS} ms on ${workers} workers`,
    );
  },
});

/** CPU seconds used so far by the Web Worker threads of process `pid` (Deno names them `worker-N`). */
function workerCpuSeconds(pid: number): number {
  let seconds = 0;
  for (const entry of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      const thread = parseThreadStat(Deno.readTextFileSync(`/proc/${pid}/task/${entry.name}/stat`));
      if (/^worker-\d+$/.test(thread.name)) seconds += thread.seconds;
    } catch {
      // The thread ended meanwhile.
    }
  }
  return seconds;
}
