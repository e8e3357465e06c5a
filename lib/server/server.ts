/**
 * The composition root: opens the store (which locks it), binds the
 * sockets, builds the order service from its parts (group commit, admission
 * semaphore, worker pool) and accepts connections; and takes it all down
 * again in order.
 *
 * @module
 */
import { instanceName, type ServerConfig } from "./config.ts";
import { acceptLoop, ListenerSlot } from "./accept.ts";
import { Connection } from "./connection.ts";
import { handleMessage, isRead } from "./handlers.ts";
import { DEFAULT_MAX_CONNECTIONS_PER_IP, PerIpLimiter } from "./limits.ts";
import { bindListeners, type NetListener } from "./listen.ts";
import type { CertifiedKey } from "./tls.ts";
import type { TokenTable } from "../auth/tokens.ts";
import { exposureWarning } from "./warnings.ts";
import { formatAddress } from "../util/net.ts";
import { createLogger, type Logger } from "../util/log.ts";
import { OrderService, type ShutdownSummary } from "../orders/service.ts";
import { AdmissionSemaphore } from "../orders/semaphore.ts";
import {
  type PoolEvents,
  sandboxedWorker,
  type WorkerFactory,
  WorkerPool,
  workerWith,
} from "../orders/pool.ts";
import { calibrateCpu, iterationsFor } from "../orders/calibration.ts";
import type { PreparedProcessor } from "../orders/processor_module.ts";
import { ClusterCapacity } from "../cluster/capacity.ts";
import { claimTarget, ClusterPool } from "../cluster/pool.ts";
import { BacklogPool, windowFor } from "../orders/backlog.ts";
import { encodeLine, failure, greeting } from "../wire/protocol.ts";
import { GroupCommitter, type Written } from "../store/group_commit.ts";
import { WalSyncError } from "../store/wal_sync.ts";
import { DatabaseFileLostError, describeTarget, isPostgresUrl, openStore } from "../store/open.ts";
import type { Inserted, NewOrder, OrderUpdate } from "../store/types.ts";
import { VERSION } from "../util/version.ts";
import { MetricsRecorder } from "../http/recorder.ts";
import type { Phase, RunningHttpServer } from "../http/server.ts";

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
  /** The dashboard's URL, with `--http`. */
  readonly httpUrl?: string;
  /** Whether the listeners speak TLS (`--tls-cert`). */
  readonly tls: boolean;
  /**
   * Re-reads the TLS certificate and key and serves new connections with
   * them; open connections are untouched. Resolves false (and logs why) if
   * the new files are unusable: the old certificate then stays.
   */
  reloadTls(): Promise<boolean>;
  /** Whether it takes orders: not while shutting down, nor while a cluster's database is unreachable. */
  readonly ready: boolean;
  /** Stops gracefully; safe to call more than once (every call gets the same result). */
  shutdown(): Promise<ShutdownSummary>;
}

const WORKER_URL = new URL("../../worker.ts", import.meta.url);
const SUMMARY_INTERVAL_MS = 5000;
/** How long a closing connection may take to flush its last replies. */
const CLOSE_GRACE_MS = 1000;
/** How long a turned-away connection may take to receive its one line (a TLS handshake first). */
const REFUSE_GRACE_MS = 5000;

/**
 * Starts a server. It leaves process-wide state alone: a program that serves
 * calls `ignoreSigusr1()` (`sigusr1.ts`) first, or SIGUSR1 opens Deno's
 * unauthenticated inspector in it.
 *
 * @example
 * ```ts
 * await using server = await startServer({ ...config, port: 0, db: "/tmp/p.db" });
 * console.log(server.addresses); // ["0.0.0.0:40123", "[::]:40123"]
 * ```
 * @throws {DatabaseInUseError} if another server holds a SQLite database
 * @throws {PortInUseError} if the port is taken
 * @throws {Error} if the processor module cannot be loaded
 */
export async function startServer(
  config: ServerConfig,
  overrides: ServerOverrides = {},
): Promise<RunningServer> {
  const log = overrides.log ?? createLogger(config.logLevel, "pedidos");
  const workerUrl = overrides.workerUrl ?? WORKER_URL;
  // Before anything else: a processor that cannot run stops the start-up.
  // Loaded only with --processor: its path handling (node:path, node:url)
  // would add tens of milliseconds to every start-up.
  let processor: PreparedProcessor | undefined;
  if (config.processor) {
    const { CODE_ROOT, prepareProcessor } = await import("../orders/processor_module.ts");
    processor = await prepareProcessor(config.processor.file, config.processor.grants, {
      place: { standalone: Deno.build.standalone, cwd: Deno.cwd(), codeRoot: CODE_ROOT },
      workerUrl,
      timeoutMs: config.timeoutMs,
    });
  }
  const createWorker = overrides.createWorker ??
    (processor ? workerWith(processor.permissions) : undefined);
  // --work-mode cpu does a fixed amount of computation per order, sized here
  // once while nothing else runs.
  const cpuPerMs = config.workMode === "cpu" && config.workMs > 0 && !processor
    ? await calibrateCpu(workerUrl, createWorker ?? sandboxedWorker)
    : undefined;
  const cpuIterations = config.workMode === "cpu" && !processor
    ? iterationsFor(config.workMs, cpuPerMs ?? 0)
    : undefined;
  // Files named on the command line are read before the store is opened or anything bound.
  // TLS and tokens are loaded only when configured: both pull in node:crypto,
  // whose compatibility layer costs every other server some 20 MB of memory.
  const loaded = config.tokensFile === undefined
    ? undefined
    : (await import("../auth/tokens.ts")).loadTokens(config.tokensFile);
  const tokens: TokenTable | undefined = loaded?.tokens;
  const tlsFiles = config.tls;
  const tls = tlsFiles ? await import("./tls.ts") : undefined;
  let certified: CertifiedKey | undefined = tlsFiles && tls
    ? tls.readCertifiedKey(tlsFiles)
    : undefined;
  // Loaded only with --http: prom-client takes a noticeable part of a second
  // to load, which a server without it should not pay at start-up.
  const { startHttpServer } = config.http ? await import("../http/server.ts") : {};
  const recorder = config.http ? new MetricsRecorder() : undefined;
  let phase: Phase = "arrancando";
  const connections = new Set<Connection>();
  let http: RunningHttpServer | undefined;
  const store = await openStore(config.db, {
    sync: config.sync,
    cluster: isPostgresUrl(config.db)
      ? { instance: instanceName(config), leaseMs: config.leaseMs, max: config.max, log }
      : undefined,
  });
  let listeners: NetListener[];
  try {
    listeners = bindListeners(
      config.hosts,
      config.port,
      log,
      tlsFiles && tls && certified
        ? (options) => tls.listenTls(options, certified!, tlsFiles)
        : undefined,
    );
  } catch (error) {
    await store.close();
    throw error;
  }
  if (config.http && recorder && startHttpServer) {
    // Started before the service and synchronously up to its first
    // request, so that the closures below never see the service missing.
    try {
      http = startHttpServer({
        address: config.http,
        log,
        tokens,
        source: {
          recorder,
          phase: () => phase,
          occupancy: () => ({ ...service.occupancy(), conexiones: connections.size }),
          stats: () => service.statistics({ intervalos: false }).snapshot,
        },
      });
    } catch (error) {
      for (const listener of listeners) listener.close();
      await store.close();
      throw error;
    }
  }
  // A store that writes synchronously lets the next batch be written while this one is synced.
  const write = store.write?.bind(store);
  const commit = (inserts: readonly NewOrder[], updates: readonly OrderUpdate[]) =>
    write ? write(inserts, updates) : store.commit(inserts, updates);
  const localPool = (events: PoolEvents) =>
    new WorkerPool({
      size: config.workers,
      workerUrl,
      workMs: config.workMs,
      workMode: config.workMode,
      ...(cpuIterations === undefined ? {} : { cpuIterations }),
      timeoutMs: config.timeoutMs,
      retries: config.retries,
      events,
      ...(processor ? { processor: processor.url } : {}),
      ...(createWorker ? { createWorker } : {}),
    });
  // A cluster's store keeps the limit and hands orders out itself: this
  // server claims them for its workers instead of running what it admits.
  const cluster = store.cluster;
  const service: OrderService = new OrderService({
    store,
    committer: new GroupCommitter<NewOrder, OrderUpdate, Inserted>(
      recorder ? timedCommit(commit, recorder) : commit,
      { onError: writeErrorLogger(log) },
    ),
    ...(recorder ? { observer: recorder } : {}),
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
      : (events) =>
        new BacklogPool({
          store,
          events,
          createPool: localPool,
          window: windowFor(config.workers, config.workMs, processor !== undefined),
          log,
        }),
    cluster,
    log,
  });
  let recovered: number;
  try {
    recovered = await service.recover();
  } catch (error) {
    await service.shutdown(0);
    for (const listener of listeners) listener.close();
    await http?.close();
    await store.close();
    throw error;
  }
  phase = "sirviendo";

  const addresses = listeners.map((listener) => formatAddress(listener.addr));
  log.info(
    `versión ${VERSION}; base de datos ${
      describeTarget(config.db)
    } (esquema v${store.schemaVersion}, sync ${config.sync}${
      store.durability ? `: ${store.durability}` : ""
    })`,
  );
  log.info(
    `${config.workers} workers (${
      processor ? "procesador" : `${config.workMode} ${config.workMs} ms`
    }), máximo ${config.max} pedidos admitidos${cluster ? " en todo el clúster" : ""}`,
  );
  if (cpuPerMs !== undefined) {
    log.info(
      `trabajo cpu: ${cpuIterations} iteraciones por pedido, calibrado a ${
        Math.round(cpuPerMs)
      } iteraciones por ms de un núcleo`,
    );
  }
  if (processor) log.notice(processor.summary);
  if (cluster) {
    const { instancias } = cluster.figures();
    log.info(
      `clúster: instancia ${cluster.instance}, concesión ${config.leaseMs} ms; en marcha: ${
        instancias.join(", ")
      }`,
    );
  }
  if (recovered > 0) log.info(`recuperados ${recovered} pedidos sin terminar`);
  if (loaded) {
    log.info(`${tokens!.size} tokens: cada conexión debe autenticarse`);
    if (loaded.warning) log.warn(loaded.warning);
  }
  if (certified && tls) logCertificate(tls.describeCertificate, certified, log);
  const exposure = exposureWarning(config.hosts, {
    tls: certified !== undefined,
    tokens: tokens !== undefined,
  });
  if (exposure) log.warn(exposure);
  for (const address of addresses) {
    log.notice(`escuchando en ${address}${certified ? " (TLS)" : ""}`);
  }
  if (http) log.notice(`panel, métricas y comprobaciones en ${http.url}`);

  const connectionsDone = new Set<Promise<void>>();
  const connectionOptions = {
    maxBytes: config.maxBytes,
    idleMs: config.idleMs,
    greeting: () => encodeLine(greeting(service.capacity, VERSION)),
    handle: (message: Record<string, unknown>, context: Parameters<typeof handleMessage>[1]) =>
      handleMessage(message, context, service),
    isRead,
    onFrameError: (codigo: string) => service.recordRejected(codigo),
    tokens,
    log,
  };

  // Given explicitly, the per-address limit applies to loopback too; by default it spares
  // the machine's own tools (tests, load, bench), which open thousands of connections.
  const perIp = new PerIpLimiter({
    limit: config.maxConnectionsPerIp ?? DEFAULT_MAX_CONNECTIONS_PER_IP,
    exemptLoopback: config.maxConnectionsPerIp === undefined,
  });
  const refusals = new Map<Deno.Conn, Promise<void>>();
  const turnAway = (conn: Deno.Conn, detalle?: string) => {
    refusals.set(conn, refuse(conn, detalle).finally(() => refusals.delete(conn)));
  };
  const onConnection = (conn: Deno.Conn) => {
    if (connections.size >= config.maxConnections) return turnAway(conn);
    const ip = (conn.remoteAddr as Deno.NetAddr).hostname;
    if (!perIp.tryOpen(ip)) {
      return turnAway(conn, `la dirección ${ip} ya tiene ${perIp.count(ip)} abiertas`);
    }
    const connection = new Connection(conn, connectionOptions);
    connections.add(connection);
    const done = connection.serve().finally(() => {
      perIp.release(ip);
      connections.delete(connection);
      connectionsDone.delete(done);
    });
    connectionsDone.add(done);
  };
  const slots = listeners.map((listener) => new ListenerSlot(listener));
  const accepting = Promise.all(
    slots.map((slot, index) => acceptLoop(slot, onConnection, { log, name: addresses[index]! })),
  );

  let reloading = Promise.resolve(true);
  const reloadTls = () => {
    reloading = reloading.then(() => {
      if (!tlsFiles || !tls || service.closing) return false;
      try {
        certified = tls.reloadCertificates(slots, tlsFiles);
      } catch (error) {
        log.error(
          `no se recargaron los certificados TLS (se sigue con los anteriores): ${
            error instanceof Error ? error.message : String(error)
          }`,
        );
        return false;
      }
      log.notice("certificados TLS recargados; las conexiones abiertas siguen con los anteriores");
      logCertificate(tls.describeCertificate, certified, log);
      return true;
    });
    return reloading;
  };

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
      phase = "apagando";
      service.beginShutdown();
      clearInterval(summaryTimer);
      await reloading;
      for (const slot of slots) slot.close();
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
      for (const conn of refusals.keys()) closeQuietly(conn);
      await Promise.all(refusals.values());
      await http?.close();
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
    ...(http ? { httpUrl: http.url } : {}),
    tls: tlsFiles !== undefined,
    reloadTls,
    get ready() {
      return !service.closing && (cluster?.ready ?? true);
    },
    shutdown,
    [Symbol.asyncDispose]: async () => {
      await shutdown();
    },
  };
}

/** Sends `demasiadas_conexiones` instead of the greeting, then closes; bounded in time. */
async function refuse(conn: Deno.Conn, detalle?: string): Promise<void> {
  const line = new TextEncoder().encode(encodeLine(failure("demasiadas_conexiones", detalle)));
  const close = () => closeQuietly(conn);
  const timer = setTimeout(close, REFUSE_GRACE_MS);
  try {
    await conn.write(line);
  } catch {
    // Nobody is listening for the reason; closing is all that is left.
  } finally {
    clearTimeout(timer);
    close();
  }
}

function closeQuietly(conn: Deno.Conn) {
  try {
    conn.close();
  } catch {
    // Closed already: by the peer, the grace timer or shutdown.
  }
}

function logCertificate(
  describe: typeof import("./tls.ts").describeCertificate,
  certified: CertifiedKey,
  log: Logger,
) {
  const described = describe(certified.cert, new Date());
  if (!described) return;
  if (described.expired) log.warn(`${described.line}: ya caducó`);
  else log.info(described.line);
}

function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => timer = setTimeout(resolve, ms));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Logs a failed commit. An error every later commit repeats (the database
 * file deleted or renamed under the server) is said once, not per batch.
 */
/** Logs write failures; a permanent one (a lost file, a failed sync) once, as every later write fails too. */
function writeErrorLogger(log: Logger): (error: unknown) => void {
  let permanentReported = false;
  return (error) => {
    if (!(error instanceof DatabaseFileLostError || error instanceof WalSyncError)) {
      log.error(`no se pudo escribir en la base de datos: ${error}`);
    } else if (!permanentReported) {
      permanentReported = true;
      log.error(error.message);
    }
  };
}

/**
 * The store's commit, with its duration (until durable) and outcome
 * reported to the metrics.
 */
function timedCommit<A extends unknown[], R>(
  commit: (...args: A) => Promise<R[]> | Written<R>,
  recorder: MetricsRecorder,
): (...args: A) => Promise<R[]> | Written<R> {
  return (...args) => {
    const started = performance.now();
    const record = (ok: boolean) => recorder.committed(performance.now() - started, ok);
    let outcome;
    try {
      outcome = commit(...args);
    } catch (error) {
      record(false);
      throw error;
    }
    const durable = outcome instanceof Promise ? outcome : outcome.durable;
    durable.then(() => record(true), () => record(false));
    return outcome;
  };
}
