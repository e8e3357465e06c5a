import assert from "node:assert/strict";
import { writeAll } from "../../lib/util/net.ts";
import { OrderGenerator } from "../load/orders.ts";
import { encodePuts, UnexpectedReply } from "./beanstalk_wire.ts";
import { probeBeanstalkd, runPuts, startBeanstalkd } from "./beanstalkd.ts";
import { HOST } from "./children.ts";

const probe = probeBeanstalkd();
const ignore = "unavailable" in probe;
if (ignore) console.log(`se omiten las pruebas con beanstalkd: ${probe.unavailable}`);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Sends one command to beanstalkd and reads until the reply (with its data, if any) is whole. */
async function ask(port: number, command: string): Promise<string> {
  using conn = await Deno.connect({ hostname: HOST, port });
  await writeAll(conn, encoder.encode(`${command}\r\n`));
  const buffer = new Uint8Array(64 * 1024);
  let text = "";
  while (true) {
    const read = await conn.read(buffer);
    if (read === null) return text;
    text += decoder.decode(buffer.subarray(0, read));
    const [first = "", ...rest] = text.split("\r\n");
    const size = first.match(/^(?:OK|FOUND \d+) (\d+)$/)?.[1];
    if (size === undefined && text.includes("\r\n")) return first;
    if (size !== undefined && encoder.encode(rest.join("\r\n")).length >= Number(size) + 2) {
      return text;
    }
  }
}

Deno.test({
  name: "probing beanstalkd names the installed version",
  ignore,
  fn: () => {
    assert.match("version" in probe ? probe.version : "", /^beanstalkd \d+\.\d+/);
  },
});

Deno.test({
  name: "pipelined puts of order bodies are all stored, in order, and each one is timed",
  ignore,
  fn: async () => {
    await using beanstalkd = await startBeanstalkd();
    const orders = new OrderGenerator("beanstalk");
    const body = (i: number) => orders.line(i).slice(0, -1);
    const frames = encodePuts(2000, body);
    const run = await runPuts(beanstalkd.port, frames, { concurrency: 3, depth: 16 });
    assert.equal(run.puts, 2000);
    assert.equal(run.latency.count, 2000);
    assert.ok(run.putsPerSecond > 0 && run.elapsedMs > 0);
    const stats = await ask(beanstalkd.port, "stats");
    assert.match(stats, /\ncurrent-jobs-ready: 2000\n/);
    assert.match(stats, /\ncmd-put: 2000\n/);
    // Jobs of equal priority are ready in id order: the first is the first body sent.
    const first = await ask(beanstalkd.port, "peek-ready");
    assert.match(first, /^FOUND \d+ \d+\r\n/);
    assert.equal(first.split("\r\n")[1], body(0));
    assert.match(body(0), /"cliente":"carga-beanstalk-0"/);
  },
});

Deno.test({
  name: "a put beanstalkd refuses ends the run with its reply",
  ignore,
  fn: async () => {
    await using beanstalkd = await startBeanstalkd();
    // beanstalkd's default limit is 65 535 bytes of job data.
    const frames = encodePuts(3, (i) => i === 1 ? "x".repeat(70_000) : "{}");
    await assert.rejects(
      runPuts(beanstalkd.port, frames, { concurrency: 1, depth: 4 }),
      (error: unknown) => error instanceof UnexpectedReply && error.reply === "JOB_TOO_BIG",
    );
  },
});
