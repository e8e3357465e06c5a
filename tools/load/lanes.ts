/**
 * Where the load tool's orders go: a lane is one persistent pipelined
 * connection ({@linkcode PipelineLane}) or a slot that opens one connection
 * per order ({@linkcode ConnectionLane}). Lanes talk back to the run through
 * {@linkcode LaneHost}; `tools/load/run.ts` decides what goes where.
 *
 * @module
 */
import { ConnectionError } from "../../lib/client/errors.ts";
import { startClientTls } from "../../lib/client/tls.ts";
import { writeAll } from "../../lib/util/net.ts";
import type { LoadOptions } from "./options.ts";
import type { OrderGenerator } from "./orders.ts";
import { ReplyReader, type ServerLine } from "./replies.ts";

const PIPELINE_READ_BYTES = 64 * 1024;
const CONNECTION_READ_BYTES = 4096;
const RECONNECT_MIN_MS = 50;
const RECONNECT_MAX_MS = 1000;
const encoder = new TextEncoder();

/** One place orders go to: a persistent connection, or a slot of one-shot connections. */
export interface Lane {
  /** Its number among its run's lanes, from 0: the run keeps its bookkeeping by it. */
  readonly slot: number;
  /** Whether it can take one more order now. */
  readonly hasRoom: boolean;
  /** Accepts one order; `start` is the time its latency counts from. */
  assign(index: number, start: number): void;
  /** Sends what `assign` queued. */
  flush(): void;
  /** The start time of its oldest order without a reply, if any. */
  oldestStart(): number | undefined;
  /** Gives up on what is in flight (counted as errors for `reason`) and closes. */
  fail(reason: string): void;
  /** Closes for good at the end of the run. */
  close(): void;
}

/** What a lane needs from the run it serves. */
export interface LaneHost {
  readonly options: LoadOptions;
  readonly orders: OrderGenerator;
  /** Whether the run is over (no reconnecting then). */
  readonly finished: boolean;
  /** Puts a lane with room at the back of the round-robin. */
  markReady(lane: Lane): void;
  /** Hands available orders to lanes with room, then sends them. */
  pump(): void;
  /** A lane's connection is up and greeted. */
  connected(): void;
  /** A connection could not be opened or was not greeted. */
  connectFailed(reason: string): void;
  /** A lane's connection went down. */
  disconnected(): void;
  /** Records the reply to message `index`, sent or due at `start`. */
  replied(index: number, start: number, line: ServerLine, now: number): void;
  /** Records that `count` orders got no reply. */
  failed(reason: string, count?: number): void;
}

/**
 * Opens one connection to the server: TCP, then TLS if asked (the
 * certificate verified against `--host`). Nagle's algorithm is turned off
 * where it could hold back a write: on persistent connections, which write
 * while earlier bytes are unacknowledged, and under TLS, whose handshake
 * ends with two writes in a row. A plain one-order connection writes once,
 * with nothing unacknowledged, so Nagle never delays it and the extra
 * system call per order is skipped.
 */
function openConnection(options: LoadOptions, persistent: boolean): Promise<Deno.Conn> {
  const connecting = Deno.connect({ hostname: options.host, port: options.port });
  return persistent || options.tls ? connecting.then((conn) => prepare(conn, options)) : connecting;
}

function prepare(conn: Deno.TcpConn, options: LoadOptions): Promise<Deno.Conn> | Deno.Conn {
  conn.setNoDelay(true);
  if (!options.tls) return conn;
  const { host, port } = options;
  return startClientTls(conn, {
    hostname: host,
    tls: options.tls,
    target: `${host}:${port}`,
    timeoutMs: options.timeoutMs,
  });
}

/** The line that authenticates a connection, sent before anything else. */
function authLine(token: string): string {
  return JSON.stringify({ tipo: "auth", token }) + "\n";
}

function describe(error: unknown): string {
  if (error instanceof ConnectionError) return error.message;
  if (error instanceof Deno.errors.ConnectionRefused) return "conexión rechazada";
  if (error instanceof Deno.errors.ConnectionReset) return "conexión reiniciada";
  if (error instanceof Deno.errors.BrokenPipe) return "conexión rota";
  if (error instanceof Error) return error.name === "Error" ? error.message : error.name;
  return String(error);
}

/**
 * A persistent connection with up to `depth` orders in flight. Replies come
 * back in request order, so the oldest order in flight owns the next reply.
 */
export class PipelineLane implements Lane {
  readonly slot: number;
  readonly #run: LaneHost;
  readonly #depth: number;
  #conn: Deno.Conn | undefined;
  /** The greeting arrived; with a token, the reply to `auth` is still due. */
  #sawGreeting = false;
  #greeted = false;
  #indices: Float64Array;
  #starts: Float64Array;
  #head = 0;
  #count = 0;
  #out = "";
  #writing = false;
  #retryMs = RECONNECT_MIN_MS;
  #reconnect: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(run: LaneHost, slot: number) {
    this.slot = slot;
    this.#run = run;
    this.#depth = run.options.depth;
    this.#indices = new Float64Array(this.#depth);
    this.#starts = new Float64Array(this.#depth);
  }

  get hasRoom(): boolean {
    return this.#greeted && this.#count < this.#depth;
  }

  /** Connects and waits for the greeting; on failure, schedules a retry. */
  async connect(): Promise<void> {
    let conn: Deno.Conn;
    try {
      conn = await openConnection(this.#run.options, true);
    } catch (error) {
      this.#connectFailed(describe(error));
      return;
    }
    if (this.#closed) {
      conn.close();
      return;
    }
    this.#conn = conn;
    this.#sawGreeting = false;
    const { token } = this.#run.options;
    if (token !== undefined) {
      this.#out = authLine(token);
      this.flush();
    }
    const greeting = Promise.withResolvers<void>();
    this.#readLoop(conn, greeting.resolve);
    await greeting.promise;
  }

  assign(index: number, start: number): void {
    const slot = (this.#head + this.#count) % this.#depth;
    this.#indices[slot] = index;
    this.#starts[slot] = start;
    this.#count++;
    this.#out += this.#run.orders.line(index);
  }

  flush(): void {
    if (this.#writing || this.#out === "" || !this.#conn) return;
    const conn = this.#conn;
    const bytes = encoder.encode(this.#out);
    this.#out = "";
    this.#writing = true;
    writeAll(conn, bytes).then(
      () => {
        this.#writing = false;
        if (this.#conn === conn) this.flush();
      },
      (error) => {
        this.#writing = false;
        if (this.#conn === conn) this.fail(describe(error));
      },
    );
  }

  oldestStart(): number | undefined {
    return this.#count > 0 ? this.#starts[this.#head] : undefined;
  }

  fail(reason: string): void {
    const conn = this.#conn;
    if (!conn) return;
    this.#conn = undefined;
    if (this.#greeted) this.#run.disconnected();
    this.#greeted = false;
    this.#run.failed(reason, this.#count);
    this.#head = 0;
    this.#count = 0;
    this.#out = "";
    try {
      conn.close();
    } catch {
      // Already closed.
    }
    if (!this.#closed && !this.#run.finished) this.#scheduleReconnect();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#reconnect);
    const conn = this.#conn;
    this.#conn = undefined;
    try {
      conn?.close();
    } catch {
      // Already closed.
    }
  }

  #connectFailed(reason: string) {
    this.#run.connectFailed(reason);
    if (!this.#closed && !this.#run.finished) this.#scheduleReconnect();
  }

  #scheduleReconnect() {
    const delay = this.#retryMs;
    this.#retryMs = Math.min(this.#retryMs * 2, RECONNECT_MAX_MS);
    this.#reconnect = setTimeout(() => {
      this.#reconnect = undefined;
      this.connect();
    }, delay);
  }

  async #readLoop(conn: Deno.Conn, onGreeting: () => void) {
    const reader = new ReplyReader();
    const buffer = new Uint8Array(PIPELINE_READ_BYTES);
    try {
      while (this.#conn === conn) {
        const count = await conn.read(buffer);
        if (count === null) throw new Error("el servidor cerró la conexión");
        if (this.#conn !== conn) return;
        const now = performance.now();
        for (const line of reader.push(buffer.subarray(0, count))) {
          if (!this.#greeted) {
            if (!this.#sawGreeting) {
              if (line.tipo !== "saludo") {
                throw new Error(
                  line.tipo === "error" ? `saludo rechazado: ${line.codigo}` : "saludo ilegible",
                );
              }
              this.#sawGreeting = true;
              if (this.#run.options.token !== undefined) continue;
            } else if (line.tipo !== "ok") {
              throw new Error(
                line.tipo === "error" ? `autenticación rechazada: ${line.codigo}` : "auth ilegible",
              );
            }
            this.#greeted = true;
            this.#retryMs = RECONNECT_MIN_MS;
            this.#run.connected();
            this.#run.markReady(this);
            onGreeting();
          } else if (line.tipo === "evento" || line.tipo === "saludo") {
            continue;
          } else if (this.#count === 0) {
            throw new Error("respuesta sin pedido");
          } else if (line.tipo === "ilegible") {
            throw new Error("respuesta ilegible");
          } else {
            this.#run.replied(this.#indices[this.#head]!, this.#starts[this.#head]!, line, now);
            this.#head = (this.#head + 1) % this.#depth;
            this.#count--;
          }
        }
        if (this.#count < this.#depth) this.#run.markReady(this);
        this.#run.pump();
      }
    } catch (error) {
      if (this.#conn !== conn) return;
      if (!this.#greeted) {
        this.#conn = undefined;
        try {
          conn.close();
        } catch {
          // Already closed.
        }
        this.#connectFailed(describe(error));
      } else {
        this.fail(describe(error));
      }
    } finally {
      onGreeting();
    }
  }
}

/** Where a {@linkcode ConnectionLane}'s exchange is. */
const AWAITING_GREETING = 0;
const AWAITING_AUTH = 1;
const AWAITING_REPLY = 2;

/**
 * One order at a time, each on a new connection: connect, read the greeting,
 * send, read the reply, close. One async call per order does all of it and
 * records the outcome; its only other promises are the socket's own.
 */
export class ConnectionLane implements Lane {
  readonly slot: number;
  readonly #run: LaneHost;
  readonly #buffer = new Uint8Array(CONNECTION_READ_BYTES);
  /** The `auth` line sent with each order, or nothing. */
  readonly #preamble: string;
  #busy = false;
  #start = 0;
  #conn: Deno.Conn | undefined;
  /** Why the current attempt was cut short by `fail`, if it was. */
  #failure: string | undefined;
  #closed = false;

  constructor(run: LaneHost, slot: number) {
    this.slot = slot;
    this.#run = run;
    const { token } = run.options;
    this.#preamble = token === undefined ? "" : authLine(token);
  }

  get hasRoom(): boolean {
    return !this.#busy && !this.#closed;
  }

  assign(index: number, start: number): void {
    this.#busy = true;
    this.#start = start;
    this.#failure = undefined;
    this.#attempt(index, start);
  }

  flush(): void {
    // Each attempt writes its own order.
  }

  oldestStart(): number | undefined {
    return this.#busy ? this.#start : undefined;
  }

  fail(reason: string): void {
    if (!this.#busy || this.#failure !== undefined) return;
    this.#failure = reason;
    try {
      this.#conn?.close();
    } catch {
      // Already closed.
    }
  }

  close(): void {
    this.#closed = true;
    this.fail("fin de la carga");
  }

  /** Sends order `index` on a connection of its own; never rejects. */
  async #attempt(index: number, start: number): Promise<void> {
    let reply: ServerLine | undefined;
    let reason = "";
    let conn: Deno.Conn | undefined;
    try {
      conn = await openConnection(this.#run.options, false);
      this.#conn = conn;
      const reader = new ReplyReader();
      let stage = AWAITING_GREETING;
      while (reply === undefined && reason === "" && this.#failure === undefined) {
        const count = await conn.read(this.#buffer);
        if (count === null) throw new Error("el servidor cerró la conexión");
        for (const line of reader.push(this.#buffer.subarray(0, count))) {
          if (stage === AWAITING_GREETING) {
            // A server at its connection limit answers the greeting with the reason and
            // closes: that is this order's rejection.
            if (line.tipo === "error") reply = line;
            else if (line.tipo !== "saludo") reason = "saludo ilegible";
            else {
              // With a token, auth and the order go in one write; a refused auth is the
              // order's outcome.
              let bytes = encoder.encode(this.#preamble + this.#run.orders.line(index));
              while (bytes.length > 0) bytes = bytes.subarray(await conn.write(bytes));
              stage = this.#preamble === "" ? AWAITING_REPLY : AWAITING_AUTH;
              continue;
            }
          } else if (line.tipo === "evento") {
            continue;
          } else if (line.tipo === "ilegible" || line.tipo === "saludo") {
            reason = "respuesta ilegible";
          } else if (stage === AWAITING_AUTH && line.tipo === "ok") {
            stage = AWAITING_REPLY;
            continue;
          } else {
            reply = line;
          }
          break;
        }
      }
    } catch (error) {
      reason = describe(error);
    } finally {
      try {
        conn?.close();
      } catch {
        // Closed by fail().
      }
    }
    this.#busy = false;
    this.#conn = undefined;
    if (this.#failure !== undefined || reply === undefined) {
      this.#run.failed(this.#failure ?? reason);
    } else {
      this.#run.replied(index, start, reply, performance.now());
    }
    this.#run.markReady(this);
    this.#run.pump();
  }
}
