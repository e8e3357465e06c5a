/**
 * The bench's processes and instruments: server children started on an
 * ephemeral port, their CPU time per thread and memory from `/proc`, a
 * client for a child's V8 inspector, and idle connections. The I/O half of
 * the measuring; `tools/bench/measure.ts` decides what to measure.
 *
 * @module
 */
import { LineReader } from "../../lib/wire/lines.ts";
import type { CpuUse } from "./figures.ts";
import type { CpuProfile } from "./profile.ts";
import { parseMachineCpu, parseThreadStat, readKilobytes, type ThreadCpu } from "../proc.ts";

const ROOT = new URL("../../", import.meta.url);
/** Every child listens here, and the load connects here. */
export const HOST = "127.0.0.1";

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A child process running a server, with its port and /proc readings. */
export class Child implements AsyncDisposable {
  readonly process: Deno.ChildProcess;
  readonly label: string;
  port = 0;
  inspector: string | undefined;
  /** The database of a real server. */
  db = "";
  /** What the child wrote to stderr (and to stdout until it was listening). */
  #output = "";
  #listening = false;
  #exit: Promise<Deno.CommandStatus>;

  private constructor(process: Deno.ChildProcess, label: string) {
    this.process = process;
    this.label = label;
    this.#exit = process.status;
    const keep = new WritableStream<string>({ write: (text) => void (this.#output += text) });
    process.stderr.pipeThrough(new TextDecoderStream()).pipeTo(keep).catch(() => {});
    // stdout only matters until the child says where it listens (beanstalkd says it there).
    process.stdout.pipeThrough(new TextDecoderStream()).pipeTo(
      new WritableStream({
        write: (text) => {
          if (!this.#listening) this.#output += text;
        },
      }),
    ).catch(() => {});
  }

  /** Spawns `deno run` on `script` and waits until it logs its address. */
  static start(
    label: string,
    script: string,
    permissions: string[],
    args: string[],
    inspect = false,
  ): Promise<Child> {
    return Child.spawn(label, Deno.execPath(), [
      "run",
      ...(inspect ? [`--inspect=${HOST}:0`] : []),
      ...permissions,
      new URL(script, ROOT).pathname,
      ...args,
    ], /escuchando en \S+:(\d+)/);
  }

  /**
   * Spawns any program and waits until its output matches `listening`, whose
   * first group is the port it listens on.
   *
   * @throws {Error} with the child's last line if it exits or stays silent for 30 s
   * @throws {Deno.errors.NotFound} if there is no such program
   */
  static async spawn(
    label: string,
    program: string,
    args: string[],
    listening: RegExp,
  ): Promise<Child> {
    const process = new Deno.Command(program, {
      args,
      cwd: new URL(".", ROOT).pathname,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const child = new Child(process, label);
    let exited = false;
    child.#exit.then(() => exited = true);
    const deadline = Date.now() + 30_000;
    let match: RegExpMatchArray | null;
    while (!(match = child.#output.match(listening))) {
      if (exited || Date.now() > deadline) {
        await child.stop();
        throw new Error(`${label} no arrancó: ${child.#output.trim().split("\n").at(-1) ?? ""}`);
      }
      await sleep(20);
    }
    child.#listening = true;
    child.port = Number(match[1]);
    child.inspector = child.#output.match(/Debugger listening on (ws:\/\/\S+)/)?.[1];
    return child;
  }

  get pid(): number {
    return this.process.pid;
  }

  /** What the child has written to stderr so far (and to stdout until it was listening). */
  log(): string {
    return this.#output;
  }

  /** Resident set size now, bytes. */
  rss(): number {
    return readKilobytes(Deno.readTextFileSync(`/proc/${this.pid}/status`), "VmRSS");
  }

  /** Peak resident set size so far, bytes. */
  peakRss(): number {
    return readKilobytes(Deno.readTextFileSync(`/proc/${this.pid}/status`), "VmHWM");
  }

  /** CPU seconds of the main thread, of the worker threads and of all threads. */
  cpu(): { main: number; all: number; workers: number } {
    return processCpu(this.pid);
  }

  /** SIGTERM, then SIGKILL if it does not exit within 30 s. */
  async stop(): Promise<void> {
    try {
      this.process.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    const timer = setTimeout(() => {
      try {
        this.process.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }, 30_000);
    await this.#exit;
    clearTimeout(timer);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/** CPU seconds used so far by the main thread (tid = pid) and by every thread of `pid`. */
function processCpu(pid: number): { main: number; all: number; workers: number } {
  let main = 0;
  let all = 0;
  let workers = 0;
  for (const entry of Deno.readDirSync(`/proc/${pid}/task`)) {
    let thread: ThreadCpu;
    try {
      thread = parseThreadStat(Deno.readTextFileSync(`/proc/${pid}/task/${entry.name}/stat`));
    } catch {
      continue; // The thread ended meanwhile.
    }
    all += thread.seconds;
    if (entry.name === String(pid)) main = thread.seconds;
    // Deno names the thread of each Web Worker "worker-N".
    if (/^worker-\d+$/.test(thread.name)) workers += thread.seconds;
  }
  return { main, all, workers };
}

/** CPU readings at one instant: the server's threads, the load tool, the machine. */
export interface CpuMark {
  at: number;
  server: { main: number; all: number; workers: number };
  load: number;
  machine: number;
}

/** Reads the CPU time used so far by `server`, this process and the machine. */
export function cpuMark(server: Child): CpuMark {
  return {
    at: performance.now(),
    server: server.cpu(),
    load: processCpu(Deno.pid).all,
    machine: parseMachineCpu(Deno.readTextFileSync("/proc/stat")).busy,
  };
}

/** CPU used between two marks, in cores. */
export function cpuSince(before: CpuMark, after: CpuMark): CpuUse {
  const seconds = (after.at - before.at) / 1000;
  const server = after.server.all - before.server.all;
  const load = after.load - before.load;
  const machine = after.machine - before.machine;
  return {
    serverMain: (after.server.main - before.server.main) / seconds,
    serverWorkers: (after.server.workers - before.server.workers) / seconds,
    server: server / seconds,
    load: load / seconds,
    others: Math.max(0, machine - server - load) / seconds,
  };
}

/** A connection to a server's V8 inspector (Chrome DevTools Protocol over WebSocket). */
export class Inspector implements AsyncDisposable {
  readonly #socket: WebSocket;
  readonly #pending = new Map<number, (result: unknown) => void>();
  #id = 0;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      this.#pending.get(message.id)?.(message.result);
      this.#pending.delete(message.id);
    };
  }

  static async connect(url: string): Promise<Inspector> {
    const socket = new WebSocket(url);
    const opened = Promise.withResolvers<void>();
    socket.onopen = () => opened.resolve();
    socket.onerror = () => opened.reject(new Error("no se pudo conectar con el inspector"));
    await opened.promise;
    return new Inspector(socket);
  }

  call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const { promise, resolve } = Promise.withResolvers<unknown>();
    this.#pending.set(++this.#id, resolve);
    this.#socket.send(JSON.stringify({ id: this.#id, method, params }));
    return promise;
  }

  /** Profiles the main thread while `during` runs. */
  async profile(during: () => Promise<void>): Promise<CpuProfile> {
    await this.call("Profiler.enable");
    await this.call("Profiler.setSamplingInterval", { interval: 500 });
    await this.call("Profiler.start");
    await during();
    const result = await this.call("Profiler.stop") as { profile: CpuProfile };
    return result.profile;
  }

  /** Runs a full garbage collection; returns the JavaScript heap in use afterwards, bytes. */
  async collectGarbage(): Promise<number> {
    await this.call("HeapProfiler.collectGarbage");
    const usage = await this.call("Runtime.getHeapUsage") as { usedSize: number };
    return usage.usedSize;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    const closed = Promise.withResolvers<void>();
    this.#socket.onclose = () => closed.resolve();
    this.#socket.close();
    await closed.promise;
  }
}

/** Opens `count` connections to `port` and reads each greeting; returns them open. */
export async function openIdle(port: number, count: number): Promise<Deno.TcpConn[]> {
  const connections: Deno.TcpConn[] = [];
  for (let start = 0; start < count; start += 250) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(250, count - start) }, async () => {
        const conn = await Deno.connect({ hostname: HOST, port });
        const greeting = await new LineReader(conn).readLine();
        if (greeting === null) throw new Error("el servidor cerró una conexión inactiva");
        if (!greeting.includes('"bienvenida"')) throw new Error(`saludo inesperado: ${greeting}`);
        return conn;
      }),
    );
    connections.push(...batch);
  }
  return connections;
}
