/**
 * The client's command line: flags, environment defaults, help text, and
 * which of the four things the user asks for (one order, a batch, a status
 * query, the statistics).
 *
 * @module
 */
import { z } from "zod";
import {
  type FlagSpec,
  integerFlag,
  parseFlags,
  usage,
  UsageError,
  validateFlags,
} from "../util/cli.ts";
import { parseHost } from "./connect.ts";
import { type CredentialSettings, TLS_FLAGS, tlsSettings } from "./credentials.ts";
import { EXIT } from "./errors.ts";
import { type OrderFields, splitProducts } from "./orders.ts";
import { RETRY_BASE_MS, RETRY_CAP_MS } from "./retry.ts";
import { DEFAULT_PORT } from "../wire/protocol.ts";

/** The name in messages, help and `--version`. */
export const CLIENT_PROGRAM = "pedidos-client";

/** Environment variables that supply defaults; flags win over them. */
export const ENV_HOST = "PEDIDOS_HOST";
/** See {@linkcode ENV_HOST}. */
export const ENV_PORT = "PEDIDOS_PORT";
/** The token, when `--token-file` is not given. */
export const ENV_TOKEN = "PEDIDOS_TOKEN";

/** Defaults, as help shows them. */
export const CLIENT_DEFAULTS = {
  host: "localhost",
  port: DEFAULT_PORT,
  timeoutMs: 10_000,
  retries: 0,
} as const;

/** The client's flags, in help order. */
export const CLIENT_FLAGS: readonly FlagSpec[] = [
  {
    name: "host",
    type: "string",
    placeholder: "HOST",
    default: `${CLIENT_DEFAULTS.host}, o $${ENV_HOST}`,
    description: "servidor: nombre, IPv4 o IPv6 (::1, [::1], fe80::1%eth0)",
  },
  {
    name: "port",
    type: "string",
    short: "p",
    placeholder: "N",
    default: `${CLIENT_DEFAULTS.port}, o $${ENV_PORT}`,
    description: "puerto TCP del servidor",
  },
  {
    name: "timeout-ms",
    type: "string",
    placeholder: "N",
    default: String(CLIENT_DEFAULTS.timeoutMs),
    description: "límite para conectar (todas las direcciones) y para cada respuesta",
  },
  ...TLS_FLAGS,
  {
    name: "token-file",
    type: "string",
    placeholder: "ARCHIVO",
    default: `$${ENV_TOKEN}`,
    description: "archivo con el token con el que autenticarse ante un servidor con --tokens",
  },
  {
    name: "cliente",
    type: "string",
    placeholder: "TEXTO",
    default: "se pregunta en una terminal",
    description: "nombre del cliente",
  },
  {
    name: "productos",
    type: "string",
    multiple: true,
    placeholder: "LISTA",
    default: "se pregunta en una terminal",
    description: "productos separados por coma",
  },
  {
    name: "direccion",
    type: "string",
    placeholder: "TEXTO",
    default: "se pregunta en una terminal",
    description: "dirección de entrega",
  },
  {
    name: "clave",
    type: "string",
    placeholder: "TEXTO",
    default: "una nueva al azar",
    description:
      "clave de idempotencia: reenviar la misma clave nunca crea otro pedido; con --status, muestra el pedido entero",
  },
  {
    name: "file",
    type: "string",
    short: "f",
    placeholder: "RUTA",
    description: "envía un pedido JSON por línea (NDJSON) por una sola conexión; - lee stdin",
  },
  {
    name: "wait",
    type: "boolean",
    short: "w",
    description: "espera a que cada pedido esté listo o fallido y muestra inicio, fin y duración",
  },
  {
    name: "retry",
    type: "string",
    placeholder: "N",
    default: String(CLIENT_DEFAULTS.retries),
    description:
      `reintentos ante límite alcanzado, demasiadas conexiones o conexión rechazada o perdida; espera ${RETRY_BASE_MS} ms, luego el doble… (máx. ${RETRY_CAP_MS} ms), con azar`,
  },
  {
    name: "status",
    type: "string",
    placeholder: "ID",
    description: "muestra el estado y los tiempos de un pedido (sus datos, con --clave)",
  },
  { name: "stats", type: "boolean", description: "muestra las estadísticas del servidor" },
  {
    name: "json",
    type: "boolean",
    description: "un objeto JSON por línea y resultado, para scripts",
  },
  {
    name: "verbose",
    type: "boolean",
    short: "v",
    description: "cuenta en stderr las direcciones probadas, la familia usada y el saludo",
  },
  { name: "version", type: "boolean", description: "muestra la versión" },
  { name: "help", type: "boolean", short: "h", description: "muestra esta ayuda" },
];

const DAY_MS = 86_400_000;
const notEmpty = z.string().min(1, { error: "no puede estar vacío" });

const clientFlagsSchema = z.object({
  host: z.string().optional(),
  port: integerFlag(1, 65535).optional(),
  "timeout-ms": integerFlag(1, DAY_MS).optional(),
  tls: z.boolean().optional(),
  ca: notEmpty.optional(),
  "token-file": notEmpty.optional(),
  cliente: z.string().optional(),
  productos: z.array(z.string()).optional(),
  direccion: z.string().optional(),
  clave: z.string().optional(),
  file: notEmpty.optional(),
  wait: z.boolean().optional(),
  retry: integerFlag(0, 100).optional(),
  status: integerFlag(1, Number.MAX_SAFE_INTEGER).optional(),
  stats: z.boolean().optional(),
  json: z.boolean().optional(),
  verbose: z.boolean().optional(),
});

/** How to reach the server and how to report. */
export interface ClientSettings extends CredentialSettings {
  /** No brackets; see `parseHost`. */
  host: string;
  port: number;
  timeoutMs: number;
  retries: number;
  json: boolean;
  verbose: boolean;
}

/** What the user asks for. */
export type ClientMode =
  | { kind: "order"; fields: OrderFields; wait: boolean }
  | { kind: "batch"; file: string; wait: boolean }
  | { kind: "status"; id: number; clave?: string }
  | { kind: "stats" };

/** The parsed command line. */
export type ClientCommand =
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "run"; settings: ClientSettings; mode: ClientMode };

/** Reads an environment variable; `undefined` when unset or not allowed. */
export type EnvReader = (name: string) => string | undefined;

/**
 * Parses the client's command line, with `PEDIDOS_HOST`, `PEDIDOS_PORT` and
 * `PEDIDOS_TOKEN` as defaults under the flags.
 *
 * @example
 * ```ts
 * parseClientArgs(["--status", "42", "--host", "[::1]"], () => undefined);
 * // { kind: "run", mode: { kind: "status", id: 42 }, settings: { host: "::1", port: 8888, … } }
 * ```
 * @throws {UsageError} with a one-line message naming the flag or variable
 */
export function parseClientArgs(args: readonly string[], env: EnvReader): ClientCommand {
  const { values } = parseFlags(args, CLIENT_FLAGS);
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };
  const { help: _help, version: _version, ...rest } = values;
  const flags = validateFlags(clientFlagsSchema, rest);
  const settings: ClientSettings = {
    host: hostFrom(flags.host, env),
    port: flags.port ?? portFrom(env),
    timeoutMs: flags["timeout-ms"] ?? CLIENT_DEFAULTS.timeoutMs,
    retries: flags.retry ?? CLIENT_DEFAULTS.retries,
    json: flags.json ?? false,
    verbose: flags.verbose ?? false,
  };
  const tls = tlsSettings(flags.tls, flags.ca);
  if (tls) settings.tls = tls;
  const tokenFromEnv = env(ENV_TOKEN);
  if (flags["token-file"] !== undefined) settings.token = { file: flags["token-file"] };
  else if (tokenFromEnv) settings.token = { env: ENV_TOKEN, value: tokenFromEnv };
  return { kind: "run", settings, mode: modeFrom(flags) };
}

function hostFrom(flag: string | undefined, env: EnvReader): string {
  if (flag !== undefined) return parseHost(flag);
  const fromEnv = env(ENV_HOST);
  return fromEnv ? parseHost(fromEnv, ENV_HOST) : CLIENT_DEFAULTS.host;
}

function portFrom(env: EnvReader): number {
  const fromEnv = env(ENV_PORT);
  if (!fromEnv) return CLIENT_DEFAULTS.port;
  const result = integerFlag(1, 65535).safeParse(fromEnv);
  if (!result.success) throw new UsageError(`${ENV_PORT}: ${result.error.issues[0]!.message}`);
  return result.data;
}

function modeFrom(flags: z.infer<typeof clientFlagsSchema>): ClientMode {
  const queries = [
    flags.file !== undefined ? "--file" : "",
    flags.status !== undefined ? "--status" : "",
    flags.stats ? "--stats" : "",
  ].filter((name) => name !== "");
  if (queries.length > 1) throw new UsageError(`${queries.join(" y ")} no pueden usarse juntos`);
  const query = queries[0];
  // --clave also proves ownership to --status, which then shows the whole order.
  const orderFlags = (["cliente", "productos", "direccion", "clave"] as const)
    .filter((name) => flags[name] !== undefined && !(name === "clave" && query === "--status"))
    .map((name) => `--${name}`);
  if (query && orderFlags.length > 0) {
    throw new UsageError(`${orderFlags[0]} no se combina con ${query}`);
  }
  if (flags.wait && (query === "--status" || query === "--stats")) {
    throw new UsageError(`--wait solo sirve al enviar pedidos, no con ${query}`);
  }
  if (flags.file !== undefined) {
    return { kind: "batch", file: flags.file, wait: flags.wait ?? false };
  }
  if (flags.status !== undefined) {
    return flags.clave === undefined
      ? { kind: "status", id: flags.status }
      : { kind: "status", id: flags.status, clave: flags.clave };
  }
  if (flags.stats) return { kind: "stats" };
  const fields: OrderFields = {};
  if (flags.cliente !== undefined) fields.cliente = flags.cliente;
  if (flags.productos !== undefined) fields.productos = splitProducts(flags.productos);
  if (flags.direccion !== undefined) fields.direccion = flags.direccion;
  if (flags.clave !== undefined) fields.clave = flags.clave;
  return { kind: "order", fields, wait: flags.wait ?? false };
}

const HELP_EXTRA = `
Uso habitual:
  ${CLIENT_PROGRAM} --cliente Ana --productos pan,leche --direccion "Calle Falsa 123"
  ${CLIENT_PROGRAM}                          pregunta lo que falte si stdin es una terminal
  ${CLIENT_PROGRAM} --file pedidos.ndjson    un pedido JSON por línea; muestra un resumen
  ${CLIENT_PROGRAM} --status 42              estado y tiempos de un pedido
  ${CLIENT_PROGRAM} --status 42 --clave K    el pedido entero, si K es su clave
  ${CLIENT_PROGRAM} --stats                  estadísticas del servidor en vivo

Con --tls el certificado del servidor siempre se verifica; no hay forma de saltarse
la verificación. Un servidor con --tokens pide un token: --token-file o $${ENV_TOKEN}
(nunca en la línea de órdenes, donde ps lo mostraría).

Cada pedido lleva una clave de idempotencia (la de --clave o la de la línea, o
una nueva): un reintento nunca crea un segundo pedido. Los pedidos se validan
antes de conectar; con --file, una sola línea inválida impide enviar el lote.

Códigos de salida:
  ${EXIT.ok}  pedido aceptado (o listo, con --wait); consulta respondida
  ${EXIT.rechazado}  rechazado por el servidor (límite, inválido, no autorizado, apagando, no encontrado) o pedido fallido
  ${EXIT.uso}  uso incorrecto o entrada inválida
  ${EXIT.conexion}  no se pudo conectar (o verificar su certificado TLS), se perdió la conexión o se agotó el tiempo
`;

/** The `--help` text. */
export function clientUsage(): string {
  return usage(
    `${CLIENT_PROGRAM} [opciones]`,
    "Cliente del sistema de pedidos: envía pedidos por TCP (IPv4 o IPv6) y consulta su estado y las estadísticas.",
    CLIENT_FLAGS,
    HELP_EXTRA,
  );
}
