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
import { DEFAULT_MAX_CONNECTIONS_PER_IP } from "./limits.ts";
import type { TlsFiles } from "./tls.ts";
import type { LogLevel } from "../util/log.ts";
import type { SyncMode } from "../store/types.ts";
import { isPostgresUrl } from "../store/open.ts";
import { MIN_LEASE_MS } from "../store/lease.ts";
import type { WorkMode } from "../orders/work.ts";
import { type HttpAddress, parseHttpAddress } from "../http/address.ts";
import {
  envGrantProblem,
  netGrantProblem,
  type ProcessorGrants,
  splitList,
} from "../orders/processor_permissions.ts";

/** The shop's processor and what it may do. */
export interface ProcessorConfig {
  /** The module, as given: a path relative to the working directory, or absolute. */
  file: string;
  grants: ProcessorGrants;
}

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
  /** Replaces the simulated work (`workMs`, `workMode`) when given. */
  processor?: ProcessorConfig;
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
  /** Where to serve metrics, health checks and the dashboard; off when absent. */
  http?: HttpAddress;
  /**
   * Open connections per remote address. Absent: {@linkcode DEFAULT_MAX_CONNECTIONS_PER_IP}
   * for every address but loopback; given, for every address.
   */
  maxConnectionsPerIp?: number;
  /** PEM certificate and key: every listener speaks TLS. Absent: plain TCP. */
  tls?: TlsFiles;
  /** The tokens file: connections must authenticate. Absent: everyone is `anonimo`. */
  tokensFile?: string;
}

/** IPv4 and IPv6 any-address: two sockets, one per family. */
export const DEFAULT_HOSTS = ["0.0.0.0", "::"];

/** Defaults for every setting; README's flag table quotes these. */
export const DEFAULTS: Omit<ServerConfig, "hosts" | "processor"> = {
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
    description:
      "sleep (bloquea el hilo, como time.sleep) o cpu (un cálculo fijo por pedido, medido al arrancar para durar --work-ms en un núcleo libre)",
  },
  {
    name: "processor",
    type: "string",
    placeholder: "ARCHIVO",
    description:
      "módulo TypeScript o JavaScript cuyo export default procesa cada pedido, en vez del trabajo simulado",
  },
  {
    name: "processor-allow-net",
    type: "string",
    multiple: true,
    placeholder: "HOST[:PUERTO]",
    description: "host con el que el procesador puede conectar; o varios, separados por comas",
  },
  {
    name: "processor-allow-read",
    type: "string",
    multiple: true,
    placeholder: "RUTA",
    description: "archivo o carpeta que el procesador puede leer; o varios, separados por comas",
  },
  {
    name: "processor-allow-env",
    type: "string",
    multiple: true,
    placeholder: "NOMBRE",
    description: "variable de entorno que el procesador puede leer; o varias, separadas por comas",
  },
  {
    name: "timeout-ms",
    type: "string",
    placeholder: "N",
    default: String(DEFAULTS.timeoutMs),
    description:
      "un intento que tarda más se aborta y su worker se reemplaza (un procesador recibe antes su señal de aborto)",
  },
  {
    name: "retries",
    type: "string",
    placeholder: "N",
    default: String(DEFAULTS.retries),
    description: "reintentos de un pedido cuyo intento falla, antes de marcarlo fallido",
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
    description: "cierra una conexión sin ningún mensaje válido durante este tiempo",
  },
  {
    name: "max-connections-per-ip",
    type: "string",
    placeholder: "N",
    default: `${DEFAULT_MAX_CONNECTIONS_PER_IP}, sin límite en loopback si no se indica`,
    description: "conexiones abiertas a la vez desde una misma dirección",
  },
  {
    name: "tls-cert",
    type: "string",
    placeholder: "ARCHIVO",
    description: "certificado PEM (con su cadena): todas las direcciones hablan TLS",
  },
  {
    name: "tls-key",
    type: "string",
    placeholder: "ARCHIVO",
    description: "clave privada PEM del certificado",
  },
  {
    name: "tokens",
    type: "string",
    placeholder: "ARCHIVO",
    description: "una línea ROL TOKEN por token (cliente u operador); exige autenticarse",
  },
  {
    name: "http",
    type: "string",
    placeholder: "[DIR:]PUERTO",
    default: "apagado",
    description:
      "sirve /metrics, /healthz, /readyz y el panel en vivo; solo PUERTO escucha en 127.0.0.1",
  },
  {
    name: "html",
    type: "string",
    placeholder: "ARCHIVO",
    description: "con stats: escribe además el informe como página HTML autónoma",
  },
  { name: "verbose", type: "boolean", short: "v", description: "una línea por pedido" },
  { name: "quiet", type: "boolean", short: "q", description: "solo avisos y errores" },
  { name: "version", type: "boolean", description: "muestra la versión" },
  { name: "help", type: "boolean", short: "h", description: "muestra esta ayuda" },
];

const DAY_MS = 86_400_000;

/** A repeatable, comma-separated list flag whose every item passes `problem`. */
function listFlag(problem: (item: string) => string | undefined) {
  return z.array(z.string()).transform((values, context) => {
    const items = splitList(values);
    if (items.length === 0) context.addIssue({ code: "custom", message: "no puede estar vacío" });
    for (const item of items) {
      const message = problem(item);
      if (message) context.addIssue({ code: "custom", message });
    }
    return items;
  });
}

const GRANT_FLAGS = ["processor-allow-net", "processor-allow-read", "processor-allow-env"] as const;

const serverFlagsSchema = z.object({
  host: z.array(z.string().min(1, { error: "no puede estar vacío" })).optional(),
  port: integerFlag(0, 65535).optional(),
  max: integerFlag(1, 1_000_000).optional(),
  workers: integerFlag(1, 256).optional(),
  "work-ms": integerFlag(0, DAY_MS).optional(),
  "work-mode": choiceFlag(["sleep", "cpu"]).optional(),
  processor: z.string().min(1, { error: "no puede estar vacío" }).optional(),
  "processor-allow-net": listFlag(netGrantProblem).optional(),
  "processor-allow-read": listFlag(() => undefined).optional(),
  "processor-allow-env": listFlag(envGrantProblem).optional(),
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
  http: z.string().transform((text, context) => {
    const address = parseHttpAddress(text);
    if (address === null) {
      context.addIssue({
        code: "custom",
        message: "debe ser PUERTO, DIR:PUERTO o [IPV6]:PUERTO (por ejemplo 9090 o 0.0.0.0:9090)",
      });
      return z.NEVER;
    }
    return address;
  }).optional(),
  html: z.string().min(1, { error: "no puede estar vacío" }).optional(),
  "max-connections-per-ip": integerFlag(1, 1_000_000).optional(),
  "tls-cert": z.string().min(1, { error: "no puede estar vacío" }).optional(),
  "tls-key": z.string().min(1, { error: "no puede estar vacío" }).optional(),
  tokens: z.string().min(1, { error: "no puede estar vacío" }).optional(),
  verbose: z.boolean().optional(),
  quiet: z.boolean().optional(),
}).refine((flags) => !(flags.verbose && flags.quiet), {
  error: "--verbose y --quiet no pueden usarse juntos",
}).refine(
  (flags) => flags.processor !== undefined || GRANT_FLAGS.every((f) => flags[f] === undefined),
  {
    error: "--processor-allow-* solo tiene sentido con --processor",
  },
).refine(
  (flags) =>
    flags.processor === undefined ||
    (flags["work-ms"] === undefined && flags["work-mode"] === undefined),
  { error: "--work-ms y --work-mode son del trabajo simulado: no se usan con --processor" },
).refine((flags) => (flags["tls-cert"] === undefined) === (flags["tls-key"] === undefined), {
  error: "--tls-cert y --tls-key van juntos",
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
  | { kind: "stats"; db: string; html?: string };

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
  if (positionals[0] === "stats") {
    return { kind: "stats", db, ...(flags.html === undefined ? {} : { html: flags.html }) };
  }
  if (flags.html !== undefined) throw new UsageError("--html solo vale con el subcomando stats");
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
      ...(flags.processor === undefined ? {} : {
        processor: {
          file: flags.processor,
          grants: {
            net: flags["processor-allow-net"] ?? [],
            read: flags["processor-allow-read"] ?? [],
            env: flags["processor-allow-env"] ?? [],
          },
        },
      }),
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
      ...(flags.http === undefined ? {} : { http: flags.http }),
      ...(flags["max-connections-per-ip"] === undefined
        ? {}
        : { maxConnectionsPerIp: flags["max-connections-per-ip"] }),
      ...(flags["tls-cert"] === undefined || flags["tls-key"] === undefined
        ? {}
        : { tls: { certFile: flags["tls-cert"], keyFile: flags["tls-key"] } }),
      ...(flags.tokens === undefined ? {} : { tokensFile: flags.tokens }),
    },
  };
}
