/**
 * The server's configuration: flags, defaults and their validation.
 *
 * @module
 */
import { z } from "zod";
import {
  choiceFlag,
  type FlagSpec,
  integerFlag,
  parseFlags,
  UsageError,
  validateFlags,
} from "../util/cli.ts";
import { DEFAULT_MAX_MESSAGE_BYTES } from "../wire/framing.ts";
import { DEFAULT_PORT } from "../wire/protocol.ts";
import type { LogLevel } from "../util/log.ts";
import type { SyncMode } from "../store/types.ts";
import { isPostgresUrl } from "../store/open.ts";
import { MIN_LEASE_MS } from "../store/lease.ts";
import type { WorkMode } from "../orders/work.ts";

/** Everything `startServer` needs to know. */
export interface ServerConfig {
  /** Addresses to bind; by default IPv4 and IPv6 any-address. */
  hosts: string[];
  port: number;
  /** Admission limit: orders admitted and not yet finished. */
  max: number;
  workers: number;
  workMs: number;
  workMode: WorkMode;
  timeoutMs: number;
  retries: number;
  db: string;
  sync: SyncMode;
  /**
   * This server's name in a PostgreSQL cluster; `undefined` for the default,
   * host and process id (`host:pid`).
   */
  instance?: string | undefined;
  /** How long a cluster's server may go without renewing its lease before others rescue its orders. */
  leaseMs: number;
  drainMs: number;
  maxBytes: number;
  maxConnections: number;
  idleMs: number;
  logLevel: LogLevel;
}

/** IPv4 and IPv6 any-address: two sockets, one per family. */
export const DEFAULT_HOSTS = ["0.0.0.0", "::"];

/** Defaults for every setting; README's flag table quotes these. */
export const DEFAULTS: Omit<ServerConfig, "hosts"> = {
  port: DEFAULT_PORT,
  max: 6,
  workers: 3,
  workMs: 2000,
  workMode: "sleep",
  timeoutMs: 30_000,
  retries: 2,
  db: "pedidos.db",
  sync: "full",
  leaseMs: 10_000,
  drainMs: 10_000,
  maxBytes: DEFAULT_MAX_MESSAGE_BYTES,
  // Below the usual 20,000-descriptor limit, with room for the database and workers.
  maxConnections: 10_000,
  idleMs: 60_000,
  logLevel: "normal",
};

/** The server's flags, in help order. */
export const SERVER_FLAGS: readonly FlagSpec[] = [
  {
    name: "host",
    type: "string",
    multiple: true,
    placeholder: "DIR",
    default: "0.0.0.0 y ::",
    description: "dirección en la que escuchar",
  },
  {
    name: "port",
    type: "string",
    short: "p",
    placeholder: "N",
    default: String(DEFAULTS.port),
    description: "puerto TCP; 0 elige uno libre",
  },
  {
    name: "max",
    type: "string",
    placeholder: "N",
    default: String(DEFAULTS.max),
    description: "pedidos admitidos sin terminar (en cola + en proceso)",
  },
  {
    name: "workers",
    type: "string",
    placeholder: "N",
    default: String(DEFAULTS.workers),
    description: "workers que procesan pedidos en paralelo",
  },
  {
    name: "work-ms",
    type: "string",
    placeholder: "N",
    default: String(DEFAULTS.workMs),
    description: "duración del procesamiento simulado de cada pedido",
  },
  {
    name: "work-mode",
    type: "string",
    placeholder: "MODO",
    default: DEFAULTS.workMode,
    description: "sleep (bloquea el hilo, como time.sleep) o cpu (ocupa un núcleo)",
  },
  {
    name: "timeout-ms",
    type: "string",
    placeholder: "N",
    default: String(DEFAULTS.timeoutMs),
    description: "un intento que tarda más se aborta y su worker se reemplaza",
  },
  {
    name: "retries",
    type: "string",
    placeholder: "N",
    default: String(DEFAULTS.retries),
    description: "reintentos de un pedido cuyo worker falla, antes de marcarlo fallido",
  },
  {
    name: "db",
    type: "string",
    placeholder: "RUTA",
    default: DEFAULTS.db,
    description: "base de datos: la ruta de un archivo SQLite, o postgres://usuario@host/base",
  },
  {
    name: "sync",
    type: "string",
    placeholder: "MODO",
    default: DEFAULTS.sync,
    description: "full (sobrevive a un corte de luz) o normal (sobrevive a un fallo del proceso)",
  },
  {
    name: "instance",
    type: "string",
    placeholder: "NOMBRE",
    default: "host:pid",
    description: "con PostgreSQL, el nombre de este servidor en el clúster",
  },
  {
    name: "lease-ms",
    type: "string",
    placeholder: "N",
    default: String(DEFAULTS.leaseMs),
    description:
      "con PostgreSQL, sin renovar su concesión tanto tiempo, otro servidor rescata sus pedidos",
  },
  {
    name: "drain-ms",
    type: "string",
    placeholder: "N",
    default: String(DEFAULTS.drainMs),
    description: "al apagar, espera como máximo esto a los pedidos en proceso",
  },
  {
    name: "max-bytes",
    type: "string",
    placeholder: "N",
    default: String(DEFAULTS.maxBytes),
    description: "tamaño máximo de un mensaje; si se supera se responde y se cierra",
  },
  {
    name: "max-connections",
    type: "string",
    placeholder: "N",
    default: String(DEFAULTS.maxConnections),
    description: "conexiones abiertas a la vez",
  },
  {
    name: "idle-ms",
    type: "string",
    placeholder: "N",
    default: String(DEFAULTS.idleMs),
    description: "cierra una conexión sin ningún mensaje completo durante este tiempo",
  },
  { name: "verbose", type: "boolean", short: "v", description: "una línea por pedido" },
  { name: "quiet", type: "boolean", short: "q", description: "solo avisos y errores" },
  { name: "version", type: "boolean", description: "muestra la versión" },
  { name: "help", type: "boolean", short: "h", description: "muestra esta ayuda" },
];

const DAY_MS = 86_400_000;

const serverFlagsSchema = z.object({
  host: z.array(z.string().min(1, { error: "no puede estar vacío" })).optional(),
  port: integerFlag(0, 65535).optional(),
  max: integerFlag(1, 1_000_000).optional(),
  workers: integerFlag(1, 256).optional(),
  "work-ms": integerFlag(0, DAY_MS).optional(),
  "work-mode": choiceFlag(["sleep", "cpu"]).optional(),
  "timeout-ms": integerFlag(1, DAY_MS).optional(),
  retries: integerFlag(0, 100).optional(),
  db: z.string().min(1, { error: "no puede estar vacío" }).optional(),
  sync: choiceFlag(["full", "normal"]).optional(),
  instance: z.string().min(1, { error: "no puede estar vacío" }).max(200, {
    error: "admite hasta 200 caracteres",
  }).regex(/^[^\p{Cc}]+$/u, { error: "no admite caracteres de control" }).optional(),
  "lease-ms": integerFlag(MIN_LEASE_MS, DAY_MS).optional(),
  "drain-ms": integerFlag(0, DAY_MS).optional(),
  "max-bytes": integerFlag(1024, 16 * 1024 * 1024).optional(),
  "max-connections": integerFlag(1, 1_000_000).optional(),
  "idle-ms": integerFlag(100, DAY_MS).optional(),
  verbose: z.boolean().optional(),
  quiet: z.boolean().optional(),
}).refine((flags) => !(flags.verbose && flags.quiet), {
  error: "--verbose y --quiet no pueden usarse juntos",
});

/**
 * This server's name in a cluster: `--instance`, or by default its host
 * and process id, unique among running servers.
 */
export function instanceName(config: Pick<ServerConfig, "instance">): string {
  return config.instance ?? `${Deno.hostname()}:${Deno.pid}`;
}

/** What the command line asks for. */
export type ServerCommand =
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "serve"; config: ServerConfig }
  | { kind: "stats"; db: string };

/**
 * Parses the server's command line: `[stats] [flags]`.
 *
 * @throws {UsageError} with a one-line message on any bad flag
 */
export function parseServerArgs(args: readonly string[]): ServerCommand {
  const { values, positionals } = parseFlags(args, SERVER_FLAGS, { positionals: 1 });
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };
  const { help: _help, version: _version, ...rest } = values;
  const flags = validateFlags(serverFlagsSchema, rest);
  const db = flags.db ?? DEFAULTS.db;
  if (positionals[0] === "stats") return { kind: "stats", db };
  if ((flags.instance !== undefined || flags["lease-ms"] !== undefined) && !isPostgresUrl(db)) {
    throw new UsageError(
      "--instance y --lease-ms solo tienen sentido con --db postgres://… (varios servidores en una base)",
    );
  }
  if (positionals[0] !== undefined) {
    throw new UsageError(`subcomando desconocido: ${positionals[0]} (¿quiso decir stats?)`);
  }
  return {
    kind: "serve",
    config: {
      hosts: flags.host ?? DEFAULT_HOSTS,
      port: flags.port ?? DEFAULTS.port,
      max: flags.max ?? DEFAULTS.max,
      workers: flags.workers ?? DEFAULTS.workers,
      workMs: flags["work-ms"] ?? DEFAULTS.workMs,
      workMode: flags["work-mode"] ?? DEFAULTS.workMode,
      timeoutMs: flags["timeout-ms"] ?? DEFAULTS.timeoutMs,
      retries: flags.retries ?? DEFAULTS.retries,
      db,
      sync: flags.sync ?? DEFAULTS.sync,
      ...(flags.instance !== undefined ? { instance: flags.instance } : {}),
      leaseMs: flags["lease-ms"] ?? DEFAULTS.leaseMs,
      drainMs: flags["drain-ms"] ?? DEFAULTS.drainMs,
      maxBytes: flags["max-bytes"] ?? DEFAULTS.maxBytes,
      maxConnections: flags["max-connections"] ?? DEFAULTS.maxConnections,
      idleMs: flags["idle-ms"] ?? DEFAULTS.idleMs,
      logLevel: flags.verbose ? "verbose" : flags.quiet ? "quiet" : "normal",
    },
  };
}
