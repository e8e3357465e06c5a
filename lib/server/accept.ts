/**
 * Accepting connections so that no error makes a listener deaf.
 *
 * `accept` fails for reasons that pass: the process is out of descriptors
 * (EMFILE), the system is (ENFILE), a connection was reset before it was
 * taken. Ending the loop on the first error would leave the port open and
 * unanswered forever, so each error is followed by a pause (5 ms, doubling to
 * 1 s, as Go's net/http does) and another `accept`. Only closing the slot ends
 * the loop; replacing its listener (a TLS certificate reload) moves the loop
 * on to the new one.
 *
 * @module
 */
import type { Logger } from "../util/log.ts";

/** The first pause after an accept error. */
export const ACCEPT_BACKOFF_MIN_MS = 5;
/** The longest pause between attempts. */
export const ACCEPT_BACKOFF_MAX_MS = 1000;

/**
 * The pause after an accept error, given the previous one (none: first error).
 *
 * @example
 * ```ts
 * nextBackoff(undefined); // 5
 * nextBackoff(640); // 1000
 * ```
 */
export function nextBackoff(previousMs: number | undefined): number {
  return previousMs === undefined
    ? ACCEPT_BACKOFF_MIN_MS
    : Math.min(previousMs * 2, ACCEPT_BACKOFF_MAX_MS);
}

/** What the loop needs of a listener. */
export type Acceptor = Pick<Deno.Listener<Deno.Conn, Deno.NetAddr>, "accept" | "close" | "addr">;

/**
 * One listening address whose socket may be replaced while it is served.
 *
 * @example
 * ```ts
 * const slot = new ListenerSlot(Deno.listen({ port: 0 }));
 * const loop = acceptLoop(slot, (conn) => serve(conn), { log, name: "0.0.0.0:8888" });
 * slot.close();
 * await loop;
 * ```
 */
export class ListenerSlot {
  #current: Acceptor;
  #closed = false;
  readonly #wakers = new Set<() => void>();

  constructor(listener: Acceptor) {
    this.#current = listener;
  }

  /** The listener accepting now. */
  get current(): Acceptor {
    return this.#current;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Puts `next` in place, then closes the old listener; connections it accepted stay open. */
  replace(next: Acceptor): void {
    if (this.#closed) {
      next.close();
      return;
    }
    const old = this.#current;
    this.#current = next;
    closeQuietly(old);
  }

  /** Stops accepting for good; a loop that is pausing returns at once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeQuietly(this.#current);
    for (const wake of this.#wakers) wake();
    this.#wakers.clear();
  }

  /** Resolves after `ms`, or as soon as the slot closes. */
  pause(ms: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#wakers.add(wake);
    });
  }
}

/** Options of {@linkcode acceptLoop}. */
export interface AcceptLoopOptions {
  log: Logger;
  /** How log lines name the listener, e.g. `0.0.0.0:8888`. */
  name: string;
}

/**
 * Accepts connections on `slot` until it is closed, handing each to
 * `onConnection`. An error is logged once per episode (and its end once),
 * followed by a pause and another attempt.
 */
export async function acceptLoop(
  slot: ListenerSlot,
  onConnection: (conn: Deno.Conn) => void,
  { log, name }: AcceptLoopOptions,
): Promise<void> {
  let backoff: number | undefined;
  let failures = 0;
  while (!slot.closed) {
    const listener = slot.current;
    let conn: Deno.Conn;
    try {
      conn = await listener.accept();
    } catch (error) {
      if (slot.closed) return;
      if (slot.current !== listener) continue;
      failures++;
      backoff = nextBackoff(backoff);
      if (failures === 1) {
        log.error(`no se pudo aceptar una conexión en ${name}: ${describe(error)}; se reintenta`);
      }
      await slot.pause(backoff);
      continue;
    }
    if (failures > 0) {
      log.notice(`${name} vuelve a aceptar conexiones (tras ${failures} errores seguidos)`);
      failures = 0;
      backoff = undefined;
    }
    onConnection(conn);
  }
}

function closeQuietly(listener: Acceptor) {
  try {
    listener.close();
  } catch {
    // Already closed.
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
