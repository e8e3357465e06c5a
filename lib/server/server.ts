/**
 * The composition root: opens the store (which locks it), binds the
 * sockets, builds the order service from its parts (group commit, admission
 * semaphore, worker pool) and accepts connections; and takes it all down
 * again in order.
 *
 * @module
 */
import { instanceName, type ServerConfig } from "./config.ts";
import { Connection } from "./connection.ts";
import { handleMessage, isRead } from "./handlers.ts";
import { bindListeners } from "./listen.ts";
import { formatAddress } from "../util/net.ts";
import { createLogger, type Logger } from "../util/log.ts";
import { OrderService, type ShutdownSummary } from "../orders/service.ts";
import { AdmissionSemaphore } from "../orders/semaphore.ts";
import { type PoolEvents, type WorkerFactory, WorkerPool } from "../orders/pool.ts";
import { ClusterCapacity } from "../cluster/capacity.ts";
import { claimTarget, ClusterPool } from "../cluster/pool.ts";
import { encodeLine, failure, greeting } from "../wire/protocol.ts";
import { GroupCommitter } from "../store/group_commit.ts";
import { describeTarget, isPostgresUrl, openStore } from "../store/open.ts";
import type { Inserted, NewOrder, OrderUpdate } from "../store/types.ts";
import { VERSION } from "../util/version.ts";

/** Replaceable parts, for tests. */
export interface ServerOverrides {
  log?: Logger;
  /** The worker module; tests swap in workers that fail on purpose. */
  workerUrl?: URL;
  createWorker?: WorkerFactory;
}

/** A running server. Dispose of it (or call `shutdown`) to stop it. */
export interface RunningServer extends AsyncDisposable {
  /** Every bound address, as `host:port`. */
  readonly addresses: readonly string[];
  /** The bound port (useful with port 0). */
  readonly port: number;
  /** Orders recovered from the database at start-up. */
  readonly recovered: number;
  /** Whether it takes orders: not while shutting down, nor while a cluster's database is unreachable. */
  readonly ready: boolean;
  /** Stops gracefully; safe to call more than once (every call gets the same result). */
  shutdown(): Promise<ShutdownSummary>;
}

const WORKER_URL = new URL("../../worker.ts", import.meta.url);
const SUMMARY_INTERVAL_MS = 5000;
/** How long a closing connection may take to flush its last replies. */
const CLOSE_GRACE_MS = 1000;

/**
 * Starts a server.
 *
 * @example
 * ```ts
 * await using server = await startServer({ ...config, port: 0, db: "/tmp/p.db" });
 * console.log(server.addresses); // ["0.0.0.0:40123", "[::]:40123"]
 * ```
 * @throws {DatabaseInUseError} if another server holds a SQLite database
 * @throws {PortInUseError} if the port is taken
 */
export async function startServer(
  config: ServerConfig,
  overrides: ServerOverrides = {},
): Promise<RunningServer> {
  const log = overrides.log ?? createLogger(config.logLevel, "pedidos");
  const store = await openStore(config.db, {
    sync: config.sync,
    cluster: isPostgresUrl(config.db)
      ? { instance: instanceName(config), leaseMs: config.leaseMs, max: config.max, log }
      : undefined,
  });
  let listeners: Deno.TcpListener[];
  try {
    listeners = bindListeners(config.hosts, config.port, log);
  } catch (error) {
    await store.close();
    throw error;
  }
  const localPool = (events: PoolEvents) =>
    new WorkerPool({
      size: config.workers,
      workerUrl: overrides.workerUrl ?? WORKER_URL,
      workMs: config.workMs,
      workMode: config.workMode,
      timeoutMs: config.timeoutMs,
      retries: config.retries,
      events,
      ...(overrides.createWorker ? { createWorker: overrides.createWorker } : {}),
    });
  // A cluster's store keeps the limit and hands orders out itself: this
  // server claims them for its workers instead of running what it admits.
  const cluster = store.cluster;
  const service: OrderService = new OrderService({
    store,
    committer: new GroupCommitter<NewOrder, OrderUpdate, Inserted>(
      (inserts, updates) => store.commit(inserts, updates),
      { onError: (error) => log.error(`no se pudo escribir en la base de datos: ${error}`) },
    ),
    semaphore: cluster ? new ClusterCapacity(cluster) : new AdmissionSemaphore(config.max),
    createPool: cluster
      ? (events) =>
        new ClusterPool({
          queue: cluster,
          events,
          createPool: localPool,
          target: claimTarget(config.workers, config.workMs),
          finished: (id) => service.finishedElsewhere(id),
          awaited: () => service.awaited(),
          log,
        })
      : localPool,
    cluster,
    log,
  });
  let recovered: number;
  try {
    recovered = await service.recover();
  } catch (error) {
    await service.shutdown(0);
    for (const listener of listeners) listener.close();
    await store.close();
    throw error;
  }

  const addresses = listeners.map((listener) => formatAddress(listener.addr));
  log.info(
    `versión ${VERSION}; base de datos ${
      describeTarget(config.db)
    } (esquema v${store.schemaVersion}, sync ${config.sync}${
      store.durability ? `: ${store.durability}` : ""
    })`,
  );
  log.info(
    `${config.workers} workers (${config.workMode} ${config.workMs} ms), máximo ${config.max} pedidos admitidos${
      cluster ? " en todo el clúster" : ""
    }`,
  );
  if (cluster) {
    const { instancias } = cluster.figures();
    log.info(
      `clúster: instancia ${cluster.instance}, concesión ${config.leaseMs} ms; en marcha: ${
        instancias.join(", ")
      }`,
    );
  }
  if (recovered > 0) log.info(`recuperados ${recovered} pedidos sin terminar`);
  for (const address of addresses) log.notice(`escuchando en ${address}`);

  const connections = new Set<Connection>();
  const connectionsDone = new Set<Promise<void>>();
  const connectionOptions = {
    maxBytes: config.maxBytes,
    idleMs: config.idleMs,
    greeting: () => encodeLine(greeting(service.capacity, VERSION)),
    handle: (message: Record<string, unknown>, context: Parameters<typeof handleMessage>[1]) =>
      handleMessage(message, context, service),
    isRead,
    onFrameError: (codigo: string) => service.recordRejected(codigo),
    log,
  };

  const accept = async (listener: Deno.TcpListener) => {
    try {
      for await (const conn of listener) {
        if (connections.size >= config.maxConnections) {
          refuse(conn);
          continue;
        }
        const connection = new Connection(conn, connectionOptions);
        connections.add(connection);
        const done = connection.serve().finally(() => {
          connections.delete(connection);
          connectionsDone.delete(done);
        });
        connectionsDone.add(done);
      }
    } catch (error) {
      if (!service.closing) log.error(`no se aceptan más conexiones: ${error}`);
    }
  };
  const accepting = Promise.all(listeners.map(accept));

  let lastAdmitted = 0;
  const summaryTimer = setInterval(() => {
    const activity = service.activity();
    if (activity.admitidos === lastAdmitted && activity.enCola + activity.enProceso === 0) return;
    log.info(
      `admitidos ${activity.admitidos} (+${
        activity.admitidos - lastAdmitted
      }) · en cola ${activity.enCola} · en proceso ${activity.enProceso} · conexiones ${connections.size}`,
    );
    lastAdmitted = activity.admitidos;
  }, SUMMARY_INTERVAL_MS);

  let stopping: Promise<ShutdownSummary> | undefined;
  const shutdown = () => {
    stopping ??= (async () => {
      service.beginShutdown();
      clearInterval(summaryTimer);
      for (const listener of listeners) listener.close();
      await accepting;
      log.info("apagando: se esperan los pedidos en proceso");
      const summary = await service.shutdown(config.drainMs);
      await Promise.all(
        [...connections].map((connection) =>
          withTimeout(connection.closeAfterWrites(), CLOSE_GRACE_MS).finally(() =>
            connection.close()
          )
        ),
      );
      await Promise.all(connectionsDone);
      await store.close();
      if (summary.abandoned > 0) {
        log.warn(
          `${summary.abandoned} pedidos quedaron en proceso; ${
            cluster ? "los retomarán los demás servidores" : "se retomarán al reiniciar"
          }`,
        );
      }
      if (summary.unwrittenUpdates > 0) {
        log.warn(`${summary.unwrittenUpdates} cambios de estado no se pudieron guardar`);
      }
      log.info(
        cluster
          ? `apagado; ${summary.queued} pedidos sin empezar vuelven a la cola del clúster`
          : `apagado; ${summary.queued} pedidos quedan en cola para el próximo arranque`,
      );
      return summary;
    })();
    return stopping;
  };

  return {
    addresses,
    port: listeners[0]!.addr.port,
    recovered,
    get ready() {
      return !service.closing && (cluster?.ready ?? true);
    },
    shutdown,
    [Symbol.asyncDispose]: async () => {
      await shutdown();
    },
  };
}

function refuse(conn: Deno.Conn) {
  const line = new TextEncoder().encode(encodeLine(failure("demasiadas_conexiones")));
  conn.write(line).catch(() => {}).finally(() => {
    try {
      conn.close();
    } catch {
      // The peer went first.
    }
  });
}

function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => timer = setTimeout(resolve, ms));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
