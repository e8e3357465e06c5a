/**
 * Binding the listening sockets: one per address, IPv4 and IPv6 side by side.
 *
 * On Linux `[::]` is dual-stack, so binding `0.0.0.0` and `[::]` on one port
 * needs SO_REUSEPORT on both. That same option would let a second server bind
 * the port silently and steal half its connections, so each address is first
 * probed with a plain bind, which fails while anyone holds the port.
 *
 * @module
 */
import type { Logger } from "../util/log.ts";
import { PortInUseError } from "../util/net.ts";

/** A bound TCP socket, plain or TLS. */
export type NetListener = Deno.Listener<Deno.Conn, Deno.NetAddr>;

/** Opens one listening socket: plain TCP, or TLS (`lib/server/tls.ts`). */
export type ListenFunction = (options: Deno.TcpListenOptions) => NetListener;

const listenTcp: ListenFunction = (options) => Deno.listen(options);

/**
 * Binds every host on `port` (0: one free port chosen by the system, shared by
 * all hosts). Falls back to a single dual-stack `[::]` socket where the system
 * offers no SO_REUSEPORT.
 *
 * @throws {PortInUseError} if the port is held by another process
 */
export function bindListeners(
  hosts: readonly string[],
  port: number,
  log: Logger,
  listen: ListenFunction = listenTcp,
): NetListener[] {
  if (port !== 0) { for (const hostname of hosts) probe(hostname, port); }
  const listeners: NetListener[] = [];
  try {
    let boundPort = port;
    for (const hostname of hosts) {
      const listener = listen({ hostname, port: boundPort, reusePort: true });
      boundPort = listener.addr.port;
      listeners.push(listener);
    }
    return listeners;
  } catch (error) {
    for (const listener of listeners) listener.close();
    // Only the any-addresses may fold into one dual-stack socket: binding
    // [::] for specific addresses would listen on interfaces nobody asked for.
    if (!isReusePortUnavailable(error) || !hosts.every(isAnyAddress) || hosts.length < 2) {
      throw translate(error, port);
    }
    log.warn(
      "SO_REUSEPORT no disponible en este sistema: se escucha en un solo socket dual-stack [::]",
    );
    try {
      return [listen({ hostname: "::", port })];
    } catch (fallbackError) {
      throw translate(fallbackError, port);
    }
  }
}

function isAnyAddress(hostname: string): boolean {
  return hostname === "0.0.0.0" || hostname === "::" || hostname === "[::]";
}

function probe(hostname: string, port: number) {
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({ hostname, port });
  } catch (error) {
    throw translate(error, port);
  }
  listener.close();
}

function isReusePortUnavailable(error: unknown): boolean {
  // Where SO_REUSEPORT is missing, Deno rejects the option or the second
  // (overlapping) bind fails after the probes said the port was free.
  return error instanceof Deno.errors.NotSupported || error instanceof TypeError ||
    error instanceof Deno.errors.AddrInUse;
}

function translate(error: unknown, port: number): Error {
  if (error instanceof Deno.errors.AddrInUse) {
    return new PortInUseError(`el puerto ${port} ya está en uso (¿otro servidor de pedidos?)`);
  }
  return error instanceof Error ? error : new Error(String(error));
}
