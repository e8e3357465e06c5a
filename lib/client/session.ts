/**
 * A conversation with the server over one connection: the greeting, then
 * requests pipelined one line each, with replies matched to requests by
 * order (the protocol answers in order) and event lines (`evento`, never
 * `ok`) set aside for whoever waits for them.
 *
 * @module
 */
import { connectToHost } from "./connect.ts";
import { ConnectionError, RefusedByServerError } from "./errors.ts";
import { LineSplitter } from "../wire/lines.ts";
import { type ClientTls, startClientTls } from "./tls.ts";
import { formatAddress, writeAll } from "../util/net.ts";
import type { ErrorReply, FinishedEvent, Greeting, Reply } from "../wire/protocol.ts";

/** Options of {@linkcode ProtocolSession.open}. */
export interface SessionOptions {
  /**
   * Bound on the greeting and on each reply, counted from when the reply
   * became due: its request was sent and the reply before it arrived.
   */
  timeoutMs: number;
  /** How errors name the server, e.g. `localhost:8888`. */
  target: string;
}

interface PendingReply {
  sentAt: number;
  resolve(reply: Reply): void;
  reject(error: Error): void;
}

interface EventWaiter {
  resolve(event: FinishedEvent | null): void;
  reject(error: Error): void;
}

const READ_BUFFER_BYTES = 64 * 1024;
const encoder = new TextEncoder();

/**
 * One open connection speaking the pedidos protocol. Once it fails (closed,
 * timed out, not a pedidos server) it stays failed: every pending and later
 * request rejects with the same {@linkcode ConnectionError}.
 *
 * @example
 * ```ts
 * await using session = await ProtocolSession.open(conn, { timeoutMs: 5000, target: "localhost:8888" });
 * const reply = await session.request({ tipo: "estado", id: 1 });
 * ```
 */
export class ProtocolSession implements AsyncDisposable {
  readonly #conn: Deno.Conn;
  readonly #options: SessionOptions;
  readonly #splitter = new LineSplitter();
  readonly #greeting = Promise.withResolvers<Record<string, unknown>>();
  #greeted = false;
  #welcome: Greeting | undefined;
  /** Requests awaiting replies, oldest first, from `#head` on. */
  #pending: PendingReply[] = [];
  #head = 0;
  #lastReplyAt = 0;
  #replyTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #events: FinishedEvent[] = [];
  #eventWaiter: EventWaiter | undefined;
  #outbox: string[] = [];
  #flushing: Promise<void> | undefined;
  #error: Error | undefined;
  readonly #reading: Promise<void>;

  private constructor(conn: Deno.Conn, options: SessionOptions) {
    this.#conn = conn;
    this.#options = options;
    this.#reading = this.#readLoop();
  }

  /**
   * Starts a session on an open connection and reads the greeting. Takes
   * ownership of `conn`: it is closed on failure.
   *
   * @throws {RefusedByServerError} if the server turns the connection away
   * @throws {ConnectionError} on timeout, loss, or a peer that is not a pedidos server
   */
  static async open(conn: Deno.Conn, options: SessionOptions): Promise<ProtocolSession> {
    const session = new ProtocolSession(conn, options);
    const timer = setTimeout(
      () =>
        session.#fail(
          new ConnectionError(
            "tiempo",
            `${options.target} no envió su saludo en ${options.timeoutMs} ms`,
          ),
        ),
      options.timeoutMs,
    );
    try {
      const first = await session.#greeting.promise;
      if (first.ok === false && typeof first.codigo === "string") {
        throw new RefusedByServerError(first as unknown as ErrorReply);
      }
      if (first.ok !== true || first.tipo !== "bienvenida") {
        throw notPedidos(options.target, "su saludo no es el de un servidor de pedidos");
      }
      session.#welcome = first as unknown as Greeting;
      return session;
    } catch (error) {
      await session.close();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The server's greeting (version, free capacity). */
  get greeting(): Greeting {
    return this.#welcome!;
  }

  /** True once the session has ended, for whatever reason. */
  get closed(): boolean {
    return this.#error !== undefined;
  }

  /**
   * Sends one request and resolves with its reply. Requests may be issued
   * without awaiting earlier ones; they are written in call order.
   *
   * @throws {ConnectionError} if the session fails before the reply
   */
  request(message: Record<string, unknown>): Promise<Reply> {
    if (this.#error) return Promise.reject(this.#error);
    const { promise, resolve, reject } = Promise.withResolvers<Reply>();
    this.#pending.push({ sentAt: Date.now(), resolve, reject });
    if (this.#pending.length - this.#head === 1) this.#armReplyTimer();
    this.#outbox.push(JSON.stringify(message) + "\n");
    this.#flushing ??= this.#flush();
    return promise;
  }

  /**
   * The next `terminado` event (events that arrived earlier are kept), or
   * `null` if none arrives within `timeoutMs`. One caller at a time.
   *
   * @throws {ConnectionError} if the session has failed and no event is left
   */
  nextEvent(timeoutMs: number): Promise<FinishedEvent | null> {
    const buffered = this.#events.shift();
    if (buffered) return Promise.resolve(buffered);
    if (this.#error) return Promise.reject(this.#error);
    const { promise, resolve, reject } = Promise.withResolvers<FinishedEvent | null>();
    const timer = setTimeout(() => {
      this.#eventWaiter = undefined;
      resolve(null);
    }, timeoutMs);
    this.#eventWaiter = {
      resolve: (event) => {
        clearTimeout(timer);
        resolve(event);
      },
      reject: (error) => {
        clearTimeout(timer);
        reject(error);
      },
    };
    return promise;
  }

  /** Closes the connection; pending requests reject. Safe to call twice. */
  async close(): Promise<void> {
    this.#fail(new ConnectionError("perdida", `la conexión con ${this.#options.target} se cerró`));
    await this.#reading;
    await this.#flushing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #readLoop(): Promise<void> {
    const buffer = new Uint8Array(READ_BUFFER_BYTES);
    const { target } = this.#options;
    while (!this.#error) {
      let count: number | null;
      try {
        count = await this.#conn.read(buffer);
      } catch (error) {
        this.#fail(lost(target, error));
        return;
      }
      if (count === null) {
        this.#fail(new ConnectionError("perdida", `${target} cerró la conexión`));
        return;
      }
      try {
        for (const line of this.#splitter.push(buffer.subarray(0, count))) {
          if (this.#error) return;
          this.#dispatch(line);
        }
      } catch (error) {
        this.#fail(error instanceof ConnectionError ? error : notPedidos(target, describe(error)));
      }
    }
  }

  #dispatch(line: string): void {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw notPedidos(this.#options.target, "envió una línea que no es JSON");
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw notPedidos(this.#options.target, "envió algo que no es un objeto JSON");
    }
    const message = value as Record<string, unknown>;
    if (!this.#greeted) {
      this.#greeted = true;
      this.#greeting.resolve(message);
    } else if (typeof message.ok === "boolean") {
      this.#onReply(message as unknown as Reply);
    } else if (message.evento === "terminado") {
      this.#onEvent(message as unknown as FinishedEvent);
    }
    // Other events are newer than this client; ignoring them keeps it working.
  }

  #onReply(reply: Reply): void {
    if (this.#head === this.#pending.length) {
      // Unasked, a failure is the server's last word before closing (`inactivo`).
      throw reply.ok
        ? notPedidos(this.#options.target, "respondió sin que se le preguntara")
        : new ConnectionError(
          "perdida",
          `${this.#options.target} cerró la conexión: ${reply.mensaje}`,
        );
    }
    const pending = this.#pending[this.#head++]!;
    if (this.#head > 1024 && this.#head * 2 > this.#pending.length) {
      this.#pending = this.#pending.slice(this.#head);
      this.#head = 0;
    }
    this.#lastReplyAt = Date.now();
    this.#armReplyTimer();
    pending.resolve(reply);
  }

  #onEvent(event: FinishedEvent): void {
    const waiter = this.#eventWaiter;
    if (!waiter) {
      this.#events.push(event);
      return;
    }
    this.#eventWaiter = undefined;
    waiter.resolve(event);
  }

  #armReplyTimer(): void {
    clearTimeout(this.#replyTimer);
    this.#replyTimer = undefined;
    const head = this.#pending[this.#head];
    if (!head) return;
    const { timeoutMs, target } = this.#options;
    const dueSince = Math.max(head.sentAt, this.#lastReplyAt);
    this.#replyTimer = setTimeout(
      () => this.#fail(new ConnectionError("tiempo", `${target} no respondió en ${timeoutMs} ms`)),
      Math.max(0, dueSince + timeoutMs - Date.now()),
    );
  }

  async #flush(): Promise<void> {
    try {
      while (this.#outbox.length > 0 && !this.#error) {
        const bytes = encoder.encode(this.#outbox.join(""));
        this.#outbox = [];
        await writeAll(this.#conn, bytes);
      }
    } catch (error) {
      this.#fail(lost(this.#options.target, error));
    } finally {
      this.#flushing = undefined;
    }
  }

  #fail(error: Error): void {
    if (this.#error) return;
    this.#error = error;
    clearTimeout(this.#replyTimer);
    this.#greeting.reject(error);
    for (let i = this.#head; i < this.#pending.length; i++) this.#pending[i]!.reject(error);
    this.#pending = [];
    this.#head = 0;
    this.#eventWaiter?.reject(error);
    this.#eventWaiter = undefined;
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }
}

/** Where to connect, and how long to wait. */
export interface SessionTarget {
  /** From {@linkcode parseHost}: no brackets. */
  host: string;
  port: number;
  timeoutMs: number;
  /** Progress lines for `--verbose`. */
  trace: (message: string) => void;
  /** Speak TLS (`--tls`, `--ca`); plain TCP when absent. */
  tls?: ClientTls | undefined;
  /** Authenticate each connection with this token before anything else. */
  token?: string | undefined;
}

/**
 * Keeps one session open across requests and reconnects on demand once it
 * has ended, so that retries reuse a healthy connection.
 *
 * @example
 * ```ts
 * await using keeper = new SessionKeeper({ host: "::1", port: 8888, timeoutMs: 5000, trace: () => {} });
 * const session = await keeper.get();
 * ```
 */
export class SessionKeeper implements AsyncDisposable {
  readonly #target: SessionTarget;
  #current: ProtocolSession | undefined;

  constructor(target: SessionTarget) {
    this.#target = target;
  }

  /** `host:port`, IPv6 in brackets: how messages name the server. */
  get name(): string {
    return formatAddress({ hostname: this.#target.host, port: this.#target.port });
  }

  /**
   * The open session, or a new one.
   *
   * @throws {ConnectionError} if no address accepts, or the peer is not a pedidos server
   * @throws {RefusedByServerError} if the server turns the connection away
   */
  async get(): Promise<ProtocolSession> {
    if (this.#current && !this.#current.closed) return this.#current;
    await this.#current?.close();
    this.#current = undefined;
    const { host, port, timeoutMs, trace, tls, token } = this.#target;
    const { conn: tcp } = await connectToHost(host, port, { timeoutMs, trace });
    const conn = tls
      ? await startClientTls(tcp, { hostname: host, tls, target: this.name, timeoutMs })
      : tcp;
    if (tls) trace(`TLS con ${this.name}: certificado verificado para ${host}`);
    const session = await ProtocolSession.open(conn, { timeoutMs, target: this.name });
    const { version, capacidad } = session.greeting;
    trace(`servidor de pedidos ${version}: ${capacidad.libres} de ${capacidad.max} plazas libres`);
    if (token !== undefined) {
      const reply = await session.request({ tipo: "auth", token });
      if (!reply.ok) {
        await session.close();
        throw new RefusedByServerError(reply);
      }
      trace(reply.mensaje);
    }
    this.#current = session;
    return session;
  }

  /** Closes the current session, if any. */
  async close(): Promise<void> {
    await this.#current?.close();
    this.#current = undefined;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function notPedidos(target: string, detail: string): ConnectionError {
  return new ConnectionError("protocolo", `${target} no parece un servidor de pedidos: ${detail}`);
}

function lost(target: string, error: unknown): ConnectionError {
  return new ConnectionError("perdida", `se perdió la conexión con ${target}: ${describe(error)}`, {
    cause: error,
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
