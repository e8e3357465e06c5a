/**
 * Test harness: real servers on ephemeral ports, real TCP clients, real
 * database files in temporary folders. Everything here is disposable with
 * `await using`, so Deno's resource sanitizers stay on in every test.
 *
 * @module
 */
import { type ServerConfig } from "../lib/server/config.ts";
import { DEFAULTS } from "../lib/server/config.ts";
import { createLogger, type Logger } from "../lib/util/log.ts";
import { type RunningServer, type ServerOverrides, startServer } from "../lib/server/server.ts";
import { writeAll } from "../lib/util/net.ts";
import { LineReader } from "../lib/wire/lines.ts";
import { type ClientIO, runClient } from "../lib/client/run.ts";
import { permissionSet } from "../tools/permissions.ts";
import { withReader } from "../lib/store/open.ts";
import type { OrderFilter, StoredOrder } from "../lib/store/types.ts";

/** The repository root, for spawning the real entry points. */
export const ROOT = new URL("../", import.meta.url);
/** Loopback on both families: every protocol test runs over each. */
export const LOOPBACKS = ["127.0.0.1", "::1"] as const;

/** A logger that keeps its lines for assertions instead of printing them. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return Object.assign(createLogger("verbose", "pedidos", (line) => lines.push(line)), { lines });
}

/** A temporary folder removed on dispose (a folder already gone is fine). */
export async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "pedidos-test-" });
  return {
    path,
    [Symbol.asyncDispose]: () =>
      Deno.remove(path, { recursive: true }).catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }),
  };
}

/** An in-process server with its own temporary database. */
export interface TestServer extends AsyncDisposable {
  server: RunningServer;
  port: number;
  db: string;
  log: Logger & { lines: string[] };
}

/**
 * Starts a server in-process on an ephemeral port, bound to both loopbacks,
 * with a fresh database (or `config.db`), short work and quiet logs.
 */
export async function startTestServer(
  config: Partial<ServerConfig> = {},
  overrides: ServerOverrides = {},
): Promise<TestServer> {
  const dir = config.db ? undefined : await Deno.makeTempDir({ prefix: "pedidos-test-" });
  const db = config.db ?? `${dir}/pedidos.db`;
  const log = memoryLogger();
  const server = await startServer({
    ...DEFAULTS,
    hosts: [...LOOPBACKS],
    port: 0,
    workMs: 20,
    drainMs: 2000,
    ...config,
    db,
  }, { log, ...overrides });
  return {
    server,
    port: server.port,
    db,
    log,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      if (dir) await Deno.remove(dir, { recursive: true });
    },
  };
}

const encoder = new TextEncoder();

/** A raw protocol client, over TCP or TLS: send bytes, read lines. */
export class TestClient<C extends Deno.Conn = Deno.TcpConn> implements AsyncDisposable {
  readonly conn: C;
  readonly #lines: LineReader;
  /** A read still under way after a timeout, which the next call takes over. */
  #reading: Promise<string | null> | undefined;
  #closed = false;

  private constructor(conn: C) {
    this.conn = conn;
    this.#lines = new LineReader(conn);
  }

  /** Connects; does not read the greeting (see `greeting()`). */
  static async connect(port: number, hostname: string = "127.0.0.1"): Promise<TestClient> {
    return new TestClient(await Deno.connect({ hostname, port }));
  }

  /**
   * Connects over TLS, trusting `ca` and checking the certificate against
   * `hostname`; does not read the greeting.
   */
  static async tls(port: number, hostname: string, ca: string): Promise<TestClient<Deno.TlsConn>> {
    const conn = await Deno.connectTls({ hostname, port, caCerts: [ca] });
    await conn.handshake();
    return new TestClient(conn);
  }

  /** Connects and reads the greeting line. */
  static async open(
    port: number,
    hostname: string = "127.0.0.1",
  ): Promise<TestClient & { bienvenida: Record<string, unknown> }> {
    const client = await TestClient.connect(port, hostname);
    const bienvenida = await client.readJson();
    return Object.assign(client, { bienvenida });
  }

  /** Sends a string, bytes, or a value as compact JSON (no newline added). */
  async send(data: string | Uint8Array | object): Promise<void> {
    const bytes = data instanceof Uint8Array
      ? data
      : encoder.encode(typeof data === "string" ? data : JSON.stringify(data));
    await writeAll(this.conn, bytes);
  }

  /** Sends one value as an NDJSON line. */
  sendLine(value: object): Promise<void> {
    return this.send(JSON.stringify(value) + "\n");
  }

  /** Reads one line (without its newline), or the unterminated rest, or null at end of stream. */
  async readLine(timeoutMs = 10_000): Promise<string | null> {
    const reading = this.#reading ??= this.#lines.readLine().finally(() => {
      this.#reading = undefined;
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no line within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([reading, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Reads one line and parses it as JSON; fails on end of stream. */
  async readJson(timeoutMs?: number): Promise<Record<string, unknown>> {
    const line = await this.readLine(timeoutMs);
    if (line === null) throw new Error("connection closed before a reply");
    return JSON.parse(line);
  }

  /** Reads `count` JSON lines. */
  async readJsons(count: number, timeoutMs?: number): Promise<Record<string, unknown>[]> {
    const replies = [];
    for (let i = 0; i < count; i++) replies.push(await this.readJson(timeoutMs));
    return replies;
  }

  /** Sends an order line and reads its reply. */
  async request(value: object): Promise<Record<string, unknown>> {
    await this.sendLine(value);
    return this.readJson();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch {
      // The server closed it first.
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

/** How {@linkcode runClientInProcess} sets up the client's world. */
export interface ClientRunOptions {
  /** What the client reads on stdin (nothing by default). */
  stdin?: string | ReadableStream<Uint8Array>;
  /** Its environment (empty by default). */
  env?: Record<string, string>;
  /** Whether stdin is a terminal (not by default). */
  terminal?: boolean;
}

/** A client run's exit code and what it printed. */
export interface ClientRunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the client in-process with in-memory streams. */
export async function runClientInProcess(
  args: string[],
  options: ClientRunOptions = {},
): Promise<ClientRunResult> {
  let stdout = "";
  let stderr = "";
  const io: ClientIO = {
    stdin: options.stdin instanceof ReadableStream
      ? options.stdin
      : ReadableStream.from([encoder.encode(options.stdin ?? "")]),
    stdout: { write: (text) => void (stdout += text) },
    stderr: { write: (text) => void (stderr += text) },
    env: (name) => options.env?.[name],
    isTerminal: () => options.terminal ?? false,
  };
  const code = await runClient(args, io);
  return { code, stdout, stderr };
}

/** A port nobody listens on (bound and released at once). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/** A valid order, with overrides. */
export function order(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    cliente: "Ana",
    productos: ["pan", "leche"],
    direccion: "Calle Falsa 123",
    ...overrides,
  };
}

/** The stored orders matching `filter`, by id, read through the store's read side. */
export function readOrders(db: string, filter: OrderFilter = {}): Promise<StoredOrder[]> {
  return withReader(db, (reader) => Array.fromAsync(reader.orders(filter)));
}

/** How many stored orders match `filter`. */
export function countOrders(db: string, filter: OrderFilter = {}): Promise<number> {
  return withReader(db, (reader) => reader.count(filter));
}

/** Polls `check` until it returns a truthy value, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A server running as a child process (for signals, crashes and the CLI). */
export interface ServerProcess extends AsyncDisposable {
  child: Deno.ChildProcess;
  port: number;
  /** Addresses from the start-up log. */
  addresses: string[];
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Waits for exit; returns the code and the full stdout. */
  exited(): Promise<{ code: number; stdout: string; stderr: string }>;
  kill(signal: Deno.Signal): void;
}

/**
 * `deno run` of one of the project's scripts (path from the root), from the
 * root, with stdin closed and stdout and stderr piped.
 */
export function scriptCommand(
  script: string,
  args: readonly string[],
  permissions: readonly string[],
  env?: Record<string, string>,
): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, new URL(script, ROOT).pathname, ...args],
    cwd: new URL(".", ROOT).pathname,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(env ? { env } : {}),
  });
}

/** Flags the `server` task runs with: deno.json's `server` permission set. */
export const SERVER_PERMISSIONS = permissionSet("server");

/**
 * Spawns `server.ts` with the given flags (port 0 and loopback hosts unless
 * given) and permissions (the `server` task's by default), and waits until it
 * logs its addresses.
 */
export async function spawnServer(
  args: string[],
  timeoutMs = 20_000,
  permissions = SERVER_PERMISSIONS,
): Promise<ServerProcess> {
  const fullArgs = [...args];
  if (!args.includes("--port")) fullArgs.push("--port", "0");
  if (!args.includes("--host")) fullArgs.push("--host", "127.0.0.1", "--host", "::1");
  const child = scriptCommand("server.ts", fullArgs, permissions).spawn();
  let stderr = "";
  let stdout = "";
  const stderrDone = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (text) => void (stderr += text) }),
  );
  const stdoutDone = child.stdout.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (text) => void (stdout += text) }),
  );
  let exit: Promise<{ code: number; stdout: string; stderr: string }> | undefined;
  const exited = () =>
    exit ??= Promise.all([child.status, stderrDone, stdoutDone]).then(([status]) => ({
      code: status.code,
      stdout,
      stderr,
    }));
  const handle: ServerProcess = {
    child,
    port: 0,
    addresses: [],
    stderr: () => stderr,
    exited,
    kill: (signal) => {
      try {
        child.kill(signal);
      } catch {
        // Already gone.
      }
    },
    async [Symbol.asyncDispose]() {
      handle.kill("SIGKILL");
      await exited();
    },
  };
  let hasExited = false;
  exited().then(() => hasExited = true);
  await waitFor(() => hasExited || /escuchando en .*\n/.test(stderr), "server start-up", timeoutMs);
  if (hasExited) {
    const { code } = await exited();
    throw Object.assign(new Error(`server exited with ${code}: ${stderr.trim()}`), {
      code,
      stderr,
    });
  }
  // Give the log a moment to list every address.
  await new Promise((resolve) => setTimeout(resolve, 100));
  handle.addresses = [...stderr.matchAll(/escuchando en (\S+)/g)].map((m) => m[1]!);
  handle.port = Number(handle.addresses[0]?.split(":").pop());
  return handle;
}

/**
 * The TCP ports process `pid` listens on (Linux only): its socket inodes from
 * `/proc/<pid>/fd`, matched against the listening sockets of its network
 * namespace in `/proc/<pid>/net/tcp` and `tcp6`.
 */
export function listeningPorts(pid: number): Set<number> {
  const inodes = new Set<string>();
  for (const entry of Deno.readDirSync(`/proc/${pid}/fd`)) {
    try {
      const target = Deno.readLinkSync(`/proc/${pid}/fd/${entry.name}`);
      const inode = target.match(/^socket:\[(\d+)\]$/)?.[1];
      if (inode) inodes.add(inode);
    } catch {
      // Closed between listing and reading.
    }
  }
  const ports = new Set<number>();
  for (const table of ["tcp", "tcp6"]) {
    // Columns: sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …
    for (const line of Deno.readTextFileSync(`/proc/${pid}/net/${table}`).split("\n").slice(1)) {
      const columns = line.trim().split(/\s+/);
      const [local, state, inode] = [columns[1], columns[3], columns[9]];
      if (state === "0A" && inode && inodes.has(inode) && local) {
        ports.add(parseInt(local.split(":").pop()!, 16));
      }
    }
  }
  return ports;
}

/** The outcome of a finished child process. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one of the project's scripts (path from the root) to completion, without colours or stdin. */
export async function runScript(
  script: string,
  args: string[],
  permissions: string[],
): Promise<CliResult> {
  const output = await scriptCommand(script, args, permissions, { NO_COLOR: "1" }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}
