/**
 * The HTTP side of the server: Prometheus metrics, health and readiness
 * checks, the live dashboard and the JSON it reads. Off unless `--http` is
 * given; loopback unless an address says otherwise.
 *
 * | route           | what                                                        |
 * | --------------- | ----------------------------------------------------------- |
 * | `/`             | the dashboard (one self-contained page)                     |
 * | `/metrics`      | Prometheus text format                                      |
 * | `/healthz`      | 200 while the process serves                                |
 * | `/readyz`       | 200 when it takes orders; 503 and the reason otherwise      |
 * | `/api/stats`    | the same figures as the `estadisticas` request              |
 * | `/api/timeline` | the recent orders per worker, and those in process          |
 * | `/api/events`   | server-sent events: `inicio`, then a `tick` every second    |
 *
 * With `--tokens`, every route but `/healthz` and `/readyz` needs an
 * operator token (`auth.ts`).
 *
 * @module
 */
import { PortInUseError } from "../util/net.ts";
import type { Logger } from "../util/log.ts";
import { type HttpAddress, httpUrl } from "./address.ts";
import { httpAccess } from "./auth.ts";
import type { TokenTable } from "../auth/tokens.ts";
import { dashboardPage } from "./assets/page.ts";
import { LiveFeed, type LiveSource } from "./live.ts";
import { createRegistry } from "./metrics.ts";

/** Where the server is in its life, as readiness sees it. */
export type Phase = "arrancando" | "sirviendo" | "apagando";

/** What the HTTP side reads from the order server. */
export interface HttpSource extends LiveSource {
  phase(): Phase;
}

/** Options of {@link startHttpServer}. */
export interface HttpServerOptions {
  address: HttpAddress;
  source: HttpSource;
  log: Logger;
  /** Live feed period. @default 1000 */
  intervalMs?: number;
  /** With `--tokens`: only an operator may read anything but health and readiness. */
  tokens?: TokenTable | undefined;
}

/** A running HTTP side. */
export interface RunningHttpServer {
  /** The bound address (the real port when 0 was asked for). */
  readonly address: HttpAddress;
  /** The dashboard's URL, as a browser on this machine opens it. */
  readonly url: string;
  /** Ends every open page's event stream and stops listening. */
  close(): Promise<void>;
}

/** Readiness: `null` when ready, or why not, in one Spanish phrase. */
export function notReadyReason(source: HttpSource): string | null {
  const phase = source.phase();
  if (phase === "arrancando") return "arrancando: recuperando pedidos";
  if (phase === "apagando") return "apagando: no se admiten pedidos";
  if (source.recorder.storeFailing) return "la base de datos no admite escrituras";
  return null;
}

/**
 * The page forbids itself any request to another origin: what it needs is
 * inline or comes from this server.
 */
const PAGE_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "content-security-policy":
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'",
  "x-content-type-options": "nosniff",
};

function json(value: unknown, status = 200): Response {
  return new Response(JSON.stringify(value), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
  });
}

function text(body: string, status = 200): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
  });
}

/**
 * Starts listening, synchronously: a caller can start it and then the
 * order service with no request served in between.
 *
 * @throws {PortInUseError} if the port is taken
 * @throws {Error} if the address cannot be bound, in one line naming `--http`
 */
export function startHttpServer(options: HttpServerOptions): RunningHttpServer {
  const { source, log } = options;
  const registry = createRegistry(source);
  const feed = new LiveFeed(source, { intervalMs: options.intervalMs ?? 1000 });
  const page = dashboardPage();

  const routes: Record<string, () => Response | Promise<Response>> = {
    "/": () => new Response(page, { headers: PAGE_HEADERS }),
    "/metrics": async () =>
      new Response(await registry.metrics(), {
        headers: { "content-type": registry.contentType, "cache-control": "no-store" },
      }),
    "/healthz": () => text("ok\n"),
    "/readyz": () => {
      const reason = notReadyReason(source);
      return reason === null ? json({ listo: true }) : json({ listo: false, motivo: reason }, 503);
    },
    "/api/stats": () => json(source.stats()),
    "/api/timeline": () =>
      json({ ...source.recorder.timeline(), workers: source.occupancy().workers }),
    "/api/events": () =>
      new Response(feed.subscribe(), {
        headers: {
          "content-type": "text/event-stream; charset=utf-8",
          "cache-control": "no-store",
        },
      }),
  };

  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: options.address.hostname,
      port: options.address.port,
      onListen: () => {},
      onError: (error) => {
        log.error(`http: ${error instanceof Error ? error.message : String(error)}`);
        return text("error interno\n", 500);
      },
    }, (request) => {
      const path = new URL(request.url).pathname;
      const route = routes[path];
      if (!route) return text("no encontrado\n", 404);
      if (request.method !== "GET" && request.method !== "HEAD") {
        return new Response("método no permitido\n", {
          status: 405,
          headers: { allow: "GET, HEAD" },
        });
      }
      const access = httpAccess(path, request.headers.get("authorization"), options.tokens);
      if (access === "sin_credenciales") {
        // Basic makes a browser ask once and send it with the dashboard's own requests.
        return new Response("se necesita un token de operador\n", {
          status: 401,
          headers: {
            "content-type": "text/plain; charset=utf-8",
            "www-authenticate": 'Basic realm="pedidos", charset="UTF-8"',
          },
        });
      }
      if (access === "prohibido") return text("solo para operadores\n", 403);
      return route();
    });
  } catch (error) {
    feed.close();
    if (error instanceof Deno.errors.AddrInUse) {
      throw new PortInUseError(`--http: el puerto ${options.address.port} ya está en uso`);
    }
    throw new Error(`--http: no se pudo escuchar en ${httpUrl(options.address)}: ${error}`);
  }
  const address = { hostname: server.addr.hostname, port: server.addr.port };
  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      feed.close();
      await server.shutdown();
    })();
  return { address, url: httpUrl(address), close };
}
