/**
 * The bench's beanstalkd reference: finds the `beanstalkd` program, starts
 * it as a child on an ephemeral loopback port, in memory (no `-b`, so no
 * binlog and no fsync), and drives it with pipelined `put`s at a given
 * shape (connections × puts in flight each), timing each put from its send
 * to its `INSERTED` reply.
 *
 * The driver is kept cheap so that beanstalkd, not the driver, sets the
 * rate: the frames are encoded before the clock starts
 * (`beanstalk_wire.ts`), each connection has one read loop that counts
 * replies in the bytes it reads, and refills what was answered with one
 * write of a contiguous slice. beanstalkd writes each reply on its own, so
 * a read brings only a few of them, and the driver still costs about half
 * of beanstalkd's CPU per put: the bench reads both CPUs and says which of
 * the two set the rate.
 *
 * ```ts
 * await using beanstalkd = await startBeanstalkd();
 * const frames = encodePuts(10_000, (i) => `{"cliente":"c-${i}"}`);
 * const run = await runPuts(beanstalkd.port, frames, { concurrency: 4, depth: 64 });
 * ```
 *
 * @module
 */
import { Histogram } from "../../lib/stats/histogram.ts";
import { writeAll } from "../../lib/util/net.ts";
import { InsertedCounter, type PutFrames } from "./beanstalk_wire.ts";
import { Child, HOST } from "./children.ts";

/** The program, looked up on PATH (Debian's `beanstalkd` package puts it in /usr/bin). */
const PROGRAM = "beanstalkd";
const READ_BYTES = 64 * 1024;

/** What `beanstalkd -v` said, or why there is no beanstalkd to measure. */
export type BeanstalkdProbe = { version: string } | { unavailable: string };

/**
 * Looks for beanstalkd by running `beanstalkd -v`.
 *
 * @example
 * ```ts
 * const probe = probeBeanstalkd();
 * "version" in probe ? probe.version : probe.unavailable; // "beanstalkd 1.12"
 * ```
 */
export function probeBeanstalkd(): BeanstalkdProbe {
  let output: Deno.CommandOutput;
  try {
    output = new Deno.Command(PROGRAM, { args: ["-v"], stdin: "null" }).outputSync();
  } catch (error) {
    return {
      unavailable: error instanceof Deno.errors.NotFound
        ? "beanstalkd no está instalado (apt-get install -y beanstalkd)"
        : `beanstalkd no se pudo ejecutar: ${error instanceof Error ? error.message : error}`,
    };
  }
  const version = new TextDecoder().decode(output.stdout).trim().split("\n")[0] ?? "";
  return output.success && version !== ""
    ? { version }
    : { unavailable: `beanstalkd -v falló (código ${output.code})` };
}

/**
 * Starts beanstalkd on 127.0.0.1 and an ephemeral port, jobs in memory only.
 * `-V` makes it print `bind <fd> <host>:<port>`, which is how the port is learnt.
 *
 * @throws {Deno.errors.NotFound} where beanstalkd is not installed
 */
export function startBeanstalkd(): Promise<Child> {
  return Child.spawn("beanstalkd", PROGRAM, ["-V", "-l", HOST, "-p", "0"], /bind \d+ \S+:(\d+)/);
}

/** Puts per second and latency of one run. */
export interface PutRun {
  puts: number;
  /** From the first send to the last reply. */
  elapsedMs: number;
  putsPerSecond: number;
  /** Send to `INSERTED`, per put. */
  latency: Histogram;
}

/** The shared state of one run's connections: the next put to send and the latencies. */
interface RunState {
  readonly frames: PutFrames;
  next: number;
  readonly latency: Histogram;
}

/**
 * Sends every put of `frames` to beanstalkd at `port`, over `concurrency`
 * connections with up to `depth` puts in flight each (a closed loop: each
 * reply lets one more put go), and waits for every reply.
 *
 * @throws {UnexpectedReply} if a put is answered with anything but `INSERTED`
 * @throws {Error} if beanstalkd closes a connection
 */
export async function runPuts(
  port: number,
  frames: PutFrames,
  shape: { concurrency: number; depth: number },
): Promise<PutRun> {
  const connections = await Promise.all(
    Array.from({ length: shape.concurrency }, () => Deno.connect({ hostname: HOST, port })),
  );
  const state: RunState = { frames, next: 0, latency: new Histogram() };
  try {
    for (const conn of connections) conn.setNoDelay(true);
    const started = performance.now();
    await Promise.all(connections.map((conn) => drive(conn, state, shape.depth)));
    const elapsedMs = performance.now() - started;
    return {
      puts: frames.count,
      elapsedMs,
      putsPerSecond: frames.count / (elapsedMs / 1000),
      latency: state.latency,
    };
  } finally {
    for (const conn of connections) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
  }
}

/** One connection's loop: fill up to `depth`, then refill after each read by what it answered. */
async function drive(conn: Deno.TcpConn, state: RunState, depth: number): Promise<void> {
  const { frames, latency } = state;
  const starts = new Float64Array(depth);
  const replies = new InsertedCounter();
  const buffer = new Uint8Array(READ_BYTES);
  let head = 0;
  let inFlight = 0;
  const refill = async () => {
    const from = state.next;
    const count = Math.min(depth - inFlight, frames.count - from);
    if (count <= 0) return;
    state.next += count;
    const now = performance.now();
    for (let k = 0; k < count; k++) starts[(head + inFlight + k) % depth] = now;
    inFlight += count;
    await writeAll(conn, frames.bytes.subarray(frames.offsets[from], frames.offsets[from + count]));
  };
  await refill();
  while (inFlight > 0) {
    const read = await conn.read(buffer);
    if (read === null) throw new Error("beanstalkd cerró la conexión");
    const now = performance.now();
    let answered = replies.push(buffer.subarray(0, read));
    if (answered > inFlight) throw new Error("beanstalkd respondió a más put de los enviados");
    inFlight -= answered;
    while (answered-- > 0) {
      latency.record(now - starts[head]!);
      head = (head + 1) % depth;
    }
    await refill();
  }
}
