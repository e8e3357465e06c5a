/**
 * One client connection: greeting, framing, answering in request order (as
 * if each request ran after the one before it), completion notices (one per
 * order), and the limits that keep one bad client from costing anyone else
 * anything (message size, idle time, stalled readers, replies prepared ahead
 * of the reader).
 *
 * @module
 */
import { type FrameErrorCode, MessageFramer } from "../wire/framing.ts";
import { ConnectionAuth, WRONG_TOKEN_CLOSE_MS } from "./auth.ts";
import type { RequestContext } from "./handlers.ts";
import { countsAsActivity } from "./limits.ts";
import type { TokenTable } from "../auth/tokens.ts";
import { formatAddress, writeAll } from "../util/net.ts";
import type { Logger } from "../util/log.ts";
import type { OrderListener } from "../orders/service.ts";
import { encodeLine, failure, type FinishedEvent, type Reply } from "../wire/protocol.ts";

/** What a connection needs from the server. */
export interface ConnectionOptions {
  /** Longest message, in bytes. */
  maxBytes: number;
  /** Close after this long without a complete message (or with a write stuck this long). */
  idleMs: number;
  /** The greeting line, built when the client connects. */
  greeting: () => string;
  handle: (message: Record<string, unknown>, context: RequestContext) => Reply | Promise<Reply>;
  /** Whether a message only reads (see `isRead` in `handlers.ts`). */
  isRead: (message: Record<string, unknown>) => boolean;
  /** Counts a message rejected before it reached a handler. */
  onFrameError: (codigo: FrameErrorCode) => void;
  /** When set, a connection must authenticate before anything else. */
  tokens?: TokenTable | undefined;
  log: Logger;
}

/**
 * Each connection reads into its own buffer (a pending read owns it), so an
 * idle connection costs its buffer: it starts small, 5,000 idle connections
 * then hold 20 MB rather than 320 MB, and doubles whenever a read fills it,
 * up to the maximum, for clients that pipeline.
 */
const MIN_READ_BUFFER_BYTES = 4 * 1024;
const MAX_READ_BUFFER_BYTES = 64 * 1024;
/**
 * Most reply text (in UTF-16 units, about bytes for this mostly ASCII JSON)
 * a connection prepares before the peer has taken it. One 64 KiB read can
 * hold ~2,800 requests, and a reply can be a thousand times its request
 * (statistics, an order's full record): past this bound the connection
 * sends what it has and waits for the peer to read it before answering the
 * rest, so a client that does not read holds about this much plus one
 * reply, and never makes the server build more.
 */
const MAX_PENDING_REPLY_CHARS = 64 * 1024;
/**
 * A write the socket takes at once resolves without the event loop turning,
 * so a connection answering a long read would keep the thread from every
 * other connection, timer and worker message; past this many milliseconds
 * of answering one read it lets them run before going on.
 */
const TURN_MS = 10;
/**
 * Orders whose notice a connection remembers having sent, so that resending
 * one does not bring its notice again; past this many, the oldest are
 * forgotten and memory stays bounded however long the connection lives.
 */
const TOLD_MEMORY = 4096;
const encoder = new TextEncoder();

/**
 * Serves one accepted TCP connection until either side closes it.
 *
 * @example
 * ```ts
 * const connection = new Connection(conn, options);
 * await connection.serve();
 * ```
 */
export class Connection implements OrderListener {
  readonly #conn: Deno.Conn;
  readonly #options: ConnectionOptions;
  readonly peer: string;
  #open = true;
  #writes: Promise<void> = Promise.resolve();
  #writeStartedAt: number | undefined;
  #lastMessageAt = Date.now();
  /** Orders whose notice this connection waits for. */
  #watching = new Set<number>();
  /** Orders whose notice was sent, oldest first (at most `TOLD_MEMORY`). */
  #told = new Set<number>();
  /** Set while replies to a read are being prepared; see `notify`. */
  #heldEvents: string[] | undefined;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** Ends the wait before closing a connection that gave a wrong token. */
  #hangUpTimer: ReturnType<typeof setTimeout> | undefined;
  #hangUpDone: (() => void) | undefined;

  constructor(conn: Deno.Conn, options: ConnectionOptions) {
    this.#conn = conn;
    this.#options = options;
    this.peer = formatAddress(conn.remoteAddr as Deno.NetAddr);
  }

  get open(): boolean {
    return this.#open;
  }

  wants(id: number): boolean {
    return !this.#watching.has(id) && !this.#told.has(id);
  }

  watch(id: number): void {
    this.#watching.add(id);
  }

  notify(event: FinishedEvent): void {
    if (this.#told.has(event.id)) return;
    this.#told.add(event.id);
    if (this.#told.size > TOLD_MEMORY) this.#told.delete(this.#told.values().next().value!);
    this.#watching.delete(event.id);
    this.#lastMessageAt = Date.now();
    // An event for an order whose reply is still being prepared waits for
    // that reply, so a client always reads "encolado" before "listo".
    if (this.#heldEvents) this.#heldEvents.push(encodeLine(event));
    else this.#send(encodeLine(event));
  }

  /** Runs the connection; resolves once it is closed. */
  async serve(): Promise<void> {
    try {
      (this.#conn as Deno.TcpConn).setNoDelay?.(true);
      this.#send(this.#options.greeting());
      this.#armIdleTimer(this.#options.idleMs);
      await this.#readLoop();
      await this.#writes;
    } catch (error) {
      if (this.#open) this.#options.log.warn(`conexión ${this.peer}: ${describe(error)}`);
    } finally {
      this.close();
    }
  }

  /** Closes at once; pending replies are dropped. Safe to call twice. */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    clearTimeout(this.#idleTimer);
    clearTimeout(this.#hangUpTimer);
    this.#hangUpDone?.();
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer's reset.
    }
  }

  /** Lets queued writes finish (bounded by the idle limit), then closes. */
  async closeAfterWrites(): Promise<void> {
    await this.#writes;
    this.close();
  }

  async #readLoop() {
    const framer = new MessageFramer({ maxBytes: this.#options.maxBytes });
    let buffer = new Uint8Array(MIN_READ_BUFFER_BYTES);
    const context: RequestContext = {
      listener: this,
      auth: new ConnectionAuth(this.#options.tokens),
    };
    while (this.#open) {
      const count = await this.#conn.read(buffer).catch((error) => {
        if (this.#open) throw error;
        return null;
      });
      if (count === null) return;
      const frames = framer.push(buffer.subarray(0, count));
      if (count === buffer.length && buffer.length < MAX_READ_BUFFER_BYTES) {
        buffer = new Uint8Array(buffer.length * 2);
      }
      if (frames.length === 0) continue;
      this.#heldEvents = [];
      // Requests run as if one ran after the other: writes start at once,
      // one after another, and share the group commit; a read request waits
      // until every request before it is answered, and the request after a
      // read waits for the read, so a pipelined `estado` sees the order sent
      // just before it. Replies known at once are counted, and past the
      // bound, sent before the next request is handled.
      let replies: (string | Promise<Reply>)[] = [];
      let unsettled = false;
      let afterRead = false;
      let preparedChars = 0;
      let turnStartedAt = performance.now();
      for (const frame of frames) {
        let reply: Reply | Promise<Reply>;
        if (frame.tipo === "mensaje") {
          const read = this.#options.isRead(frame.valor);
          if ((read || afterRead) && unsettled) {
            await Promise.all(replies);
            unsettled = false;
            // Replies that settle as microtasks never let the event loop
            // turn: past TURN_MS, let other connections (and accept) run.
            if (performance.now() - turnStartedAt >= TURN_MS) {
              await new Promise((resolve) => setTimeout(resolve, 0));
              turnStartedAt = performance.now();
              if (!this.#open) return;
            }
          }
          afterRead = read;
          reply = this.#answer(frame.valor, context);
        } else {
          this.#options.onFrameError(frame.codigo);
          reply = failure(frame.codigo, frame.detalle);
        }
        this.#noteActivity(reply);
        if (reply instanceof Promise) {
          replies.push(reply);
          unsettled = true;
          continue;
        }
        const line = encodeLine(reply);
        replies.push(line);
        preparedChars += line.length;
        if (preparedChars >= MAX_PENDING_REPLY_CHARS) {
          this.#send(await linesOf(replies));
          replies = [];
          unsettled = false;
          preparedChars = 0;
          await this.#writes;
          if (performance.now() - turnStartedAt >= TURN_MS) {
            await new Promise((resolve) => setTimeout(resolve, 0));
            turnStartedAt = performance.now();
          }
          if (!this.#open) return;
        }
      }
      const lines = await linesOf(replies);
      const events = this.#heldEvents.join("");
      this.#heldEvents = undefined;
      this.#send(lines + events);
      // Read no further until the peer has taken the replies: a client that
      // never reads stops being read, and its buffers stay bounded.
      await this.#writes;
      if (framer.closed) return;
      if (context.auth.hangUp) return await this.#hangUp();
    }
  }

  /** Waits, reading nothing more, then lets `serve` close: a wrong token's price. */
  #hangUp(): Promise<void> {
    if (!this.#open) return Promise.resolve();
    return new Promise((resolve) => {
      this.#hangUpDone = resolve;
      this.#hangUpTimer = setTimeout(resolve, WRONG_TOKEN_CLOSE_MS);
    });
  }

  /**
   * Invalid or unauthorised messages are not activity: a connection sending
   * nothing else is closed as idle.
   */
  #noteActivity(reply: Reply | Promise<Reply>) {
    if (!(reply instanceof Promise)) {
      if (countsAsActivity(reply)) this.#lastMessageAt = Date.now();
      return;
    }
    reply.then((settled) => {
      if (countsAsActivity(settled)) this.#lastMessageAt = Date.now();
    }, () => {});
  }

  /** The handler's reply; a reply it can give at once is returned as is, not as a promise. */
  #answer(message: Record<string, unknown>, context: RequestContext): Reply | Promise<Reply> {
    try {
      const reply = this.#options.handle(message, context);
      return reply instanceof Promise ? reply.catch((error) => this.#internal(error)) : reply;
    } catch (error) {
      return this.#internal(error);
    }
  }

  #internal(error: unknown): Reply {
    this.#options.log.error(`error inesperado atendiendo a ${this.peer}: ${describe(error)}`);
    return failure("interno");
  }

  #send(text: string) {
    if (!this.#open) return;
    const bytes = encoder.encode(text);
    this.#writes = this.#writes.then(() => this.#writeAll(bytes)).catch((error) => {
      if (this.#open) {
        this.#options.log.debug(`conexión ${this.peer}: escritura fallida: ${describe(error)}`);
      }
      this.close();
    });
  }

  async #writeAll(bytes: Uint8Array) {
    if (!this.#open) return;
    this.#writeStartedAt = Date.now();
    await writeAll(this.#conn, bytes);
    this.#writeStartedAt = undefined;
  }

  #armIdleTimer(delay: number) {
    this.#idleTimer = setTimeout(() => this.#checkIdle(), delay);
  }

  #checkIdle() {
    if (!this.#open) return;
    const now = Date.now();
    const { idleMs } = this.#options;
    if (this.#writeStartedAt !== undefined) {
      // A write in progress is judged alone: a peer that stops reading is
      // closed once one write has been stuck for the idle limit.
      const stuckFor = now - this.#writeStartedAt;
      if (stuckFor >= idleMs) {
        this.#options.log.debug(`conexión ${this.peer}: no lee sus respuestas; se cierra`);
        this.close();
      } else {
        this.#armIdleTimer(idleMs - stuckFor);
      }
      return;
    }
    // Requests being answered, or orders whose notice is awaited, are not idleness.
    const busy = this.#heldEvents !== undefined || this.#watching.size > 0;
    const quietFor = now - this.#lastMessageAt;
    if (!busy && quietFor >= idleMs) {
      this.#send(encodeLine(failure("inactivo", `sin ningún mensaje válido durante ${idleMs} ms`)));
      this.#writes.finally(() => this.close());
      this.#armIdleTimer(idleMs);
      return;
    }
    this.#armIdleTimer(busy ? idleMs : idleMs - quietFor);
  }
}

/** The lines of replies in request order, once every one is known. */
async function linesOf(replies: readonly (string | Promise<Reply>)[]): Promise<string> {
  const lines = await Promise.all(
    replies.map((reply) => typeof reply === "string" ? reply : reply.then(encodeLine)),
  );
  return lines.join("");
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
