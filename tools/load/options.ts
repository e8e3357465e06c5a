/**
 * The load tool's command line: flags, defaults and their validation, via
 * the shared flag table in `cli.ts`.
 *
 * @module
 */
import { z } from "zod";
import {
  choiceFlag,
  type FlagSpec,
  HELP_FLAG,
  integerFlag,
  parseCommand,
  UsageError,
} from "../../lib/util/cli.ts";
import { type CredentialSettings, TLS_FLAGS, tlsSettings } from "../../lib/client/credentials.ts";
import type { ClientTls } from "../../lib/client/tls.ts";

/** `conexion`: one order per TCP connection, as the seed's clients; `pipeline`: persistent NDJSON. */
export type LoadMode = "conexion" | "pipeline";

/** Everything `runLoad` needs. */
export interface LoadOptions {
  host: string;
  port: number;
  mode: LoadMode;
  /** Closed loop: orders in the run. Ignored when `rate` is set. */
  orders: number;
  /** Connections open at once (pipeline) or orders in flight at once (conexion). */
  concurrency: number;
  /** Pipeline: orders in flight per connection. */
  depth: number;
  /**
   * JavaScript threads that drive the connections: 1 drives them on the
   * calling thread, more spreads them over that many workers (never more
   * than `concurrency`). Absent: {@linkcode defaultThreads}.
   */
  threads?: number;
  /** Open loop: arrivals per second; absent for a closed loop. */
  rate?: number;
  /** Open loop: length of the arrival schedule, in milliseconds. */
  durationMs: number;
  /** Fraction of deliberately invalid messages, in [0, 1]. */
  bad: number;
  /** An order without a reply after this long is counted as an error and its connection closed. */
  timeoutMs: number;
  /** Database to verify after the run. */
  verify?: string;
  /** With `verify`: wait until every order of the run has left the queue, and require `listo`. */
  waitDone: boolean;
  /** Longest wait for `waitDone`, in milliseconds. */
  waitMs: number;
  /** Print the report as JSON. */
  json: boolean;
  /** No progress display. */
  quiet: boolean;
  /** Speak TLS, verifying the server's certificate. */
  tls?: ClientTls;
  /** Authenticate every connection with this token first. */
  token?: string;
}

/** Defaults for every option. */
export const LOAD_DEFAULTS = {
  host: "127.0.0.1",
  port: 8888,
  mode: "conexion",
  orders: 10_000,
  concurrency: 50,
  depth: 16,
  durationMs: 10_000,
  bad: 0,
  timeoutMs: 10_000,
  waitDone: false,
  waitMs: 60_000,
  json: false,
  quiet: false,
} as const satisfies Omit<LoadOptions, "rate" | "verify" | "tls" | "token">;

/** The load tool's flags, in help order. */
export const LOAD_FLAGS: readonly FlagSpec[] = [
  {
    name: "host",
    type: "string",
    placeholder: "DIR",
    default: LOAD_DEFAULTS.host,
    description: "servidor al que conectarse",
  },
  {
    name: "port",
    type: "string",
    short: "p",
    placeholder: "N",
    default: String(LOAD_DEFAULTS.port),
    description: "puerto del servidor",
  },
  {
    name: "mode",
    type: "string",
    placeholder: "MODO",
    default: LOAD_DEFAULTS.mode,
    description:
      "conexion (un pedido por conexión TCP) o pipeline (conexiones persistentes, NDJSON)",
  },
  {
    name: "orders",
    type: "string",
    short: "n",
    placeholder: "N",
    default: String(LOAD_DEFAULTS.orders),
    description: "lazo cerrado: pedidos a enviar",
  },
  {
    name: "concurrency",
    type: "string",
    short: "c",
    placeholder: "N",
    default: String(LOAD_DEFAULTS.concurrency),
    description: "conexiones simultáneas",
  },
  {
    name: "depth",
    type: "string",
    placeholder: "N",
    default: String(LOAD_DEFAULTS.depth),
    description: "pipeline: pedidos en vuelo por conexión",
  },
  {
    name: "threads",
    type: "string",
    placeholder: "N",
    default: "1, o 2 en conexion con 4 núcleos o más",
    description: "hilos que llevan las conexiones (más de 1: Web Workers, cada uno con su parte)",
  },
  {
    name: "rate",
    type: "string",
    placeholder: "R",
    description:
      "lazo abierto: llegadas por segundo (la latencia se mide desde la hora programada)",
  },
  {
    name: "duration",
    type: "string",
    placeholder: "S",
    default: String(LOAD_DEFAULTS.durationMs / 1000),
    description: "lazo abierto: segundos de llegadas",
  },
  {
    name: "bad",
    type: "string",
    placeholder: "F",
    default: String(LOAD_DEFAULTS.bad),
    description: "fracción de mensajes inválidos mezclados (0 a 1)",
  },
  {
    name: "timeout-ms",
    type: "string",
    placeholder: "N",
    default: String(LOAD_DEFAULTS.timeoutMs),
    description: "un pedido sin respuesta tras este tiempo cuenta como error",
  },
  {
    name: "verify",
    type: "string",
    placeholder: "RUTA",
    description: "al terminar, comprueba en esta base de datos cada pedido confirmado",
  },
  {
    name: "wait-done",
    type: "boolean",
    description: "con --verify: espera a que todos lleguen a listo y lo comprueba",
  },
  {
    name: "wait-ms",
    type: "string",
    placeholder: "N",
    default: String(LOAD_DEFAULTS.waitMs),
    description: "con --wait-done: espera máxima",
  },
  ...TLS_FLAGS,
  {
    name: "token-file",
    type: "string",
    placeholder: "ARCHIVO",
    description: "token con el que se autentica cada conexión ante un servidor con --tokens",
  },
  { name: "json", type: "boolean", description: "informe en JSON por stdout" },
  { name: "quiet", type: "boolean", short: "q", description: "sin barra de progreso" },
  HELP_FLAG,
];

const DAY_MS = 86_400_000;

/** Most `--threads`: far more than any machine this runs on has cores. */
const MAX_THREADS = 64;

/**
 * Threads a run uses when `--threads` is not given. A pipelined run costs a
 * few microseconds of CPU per order, so one thread drives far more than a
 * server can take, and a second only adds its own wake-ups: one. In
 * `conexion` mode every order pays for a connect, a close and four socket
 * operations, around 90 µs of CPU, so one thread tops out near 10,000 orders
 * a second. A second thread lifts that ceiling but costs about 15 % more CPU
 * per order (fewer completions per wake-up), and on a two-core machine,
 * where the server needs the other core, it lowered the rate measured
 * against the trivial server: two threads only where there are at least
 * four cores.
 *
 * @example
 * ```ts
 * defaultThreads("pipeline", 8); // 1
 * defaultThreads("conexion", 8); // 2
 * defaultThreads("conexion", 2); // 1
 * ```
 */
export function defaultThreads(mode: LoadMode, cpus: number): number {
  return mode === "conexion" && cpus >= 4 ? 2 : 1;
}

/** The threads a run really uses: as asked (or the default), and never more than its connections. */
export function threadsFor(options: LoadOptions, cpus: number): number {
  return Math.min(options.threads ?? defaultThreads(options.mode, cpus), options.concurrency);
}

/** A flag holding a decimal number in [min, max], e.g. `0.05` or `2.5`. */
function decimalFlag(min: number, max: number) {
  const message = `debe ser un número entre ${min} y ${max}`;
  return z.string()
    .regex(/^\d+(\.\d+)?$/, { error: message })
    .transform(Number)
    .pipe(z.number().min(min, { error: message }).max(max, { error: message }));
}

const loadFlagsSchema = z.object({
  host: z.string().min(1, { error: "no puede estar vacío" }).optional(),
  port: integerFlag(1, 65535).optional(),
  mode: choiceFlag(["conexion", "pipeline"]).optional(),
  orders: integerFlag(1, 100_000_000).optional(),
  concurrency: integerFlag(1, 100_000).optional(),
  depth: integerFlag(1, 100_000).optional(),
  threads: integerFlag(1, MAX_THREADS).optional(),
  rate: decimalFlag(0.001, 10_000_000).optional(),
  duration: decimalFlag(0.001, DAY_MS / 1000).optional(),
  bad: decimalFlag(0, 1).optional(),
  "timeout-ms": integerFlag(1, DAY_MS).optional(),
  verify: z.string().min(1, { error: "no puede estar vacío" }).optional(),
  "wait-done": z.boolean().optional(),
  "wait-ms": integerFlag(0, DAY_MS).optional(),
  tls: z.boolean().optional(),
  ca: z.string().min(1, { error: "no puede estar vacío" }).optional(),
  "token-file": z.string().min(1, { error: "no puede estar vacío" }).optional(),
  json: z.boolean().optional(),
  quiet: z.boolean().optional(),
});

/**
 * What the command line asks for. The files of `credentials` are read by
 * `main`, which puts the CA and token into `options`.
 */
export type LoadCommand =
  | { kind: "help" }
  | { kind: "run"; options: LoadOptions; credentials: CredentialSettings };

/**
 * Parses the load tool's command line.
 *
 * @example
 * ```ts
 * const command = parseLoadArgs(["--mode", "pipeline", "-n", "1000", "--depth", "32"]);
 * // { kind: "run", options: { mode: "pipeline", orders: 1000, depth: 32, ... } }
 * ```
 * @throws {UsageError} with a one-line message on any bad flag or combination
 */
export function parseLoadArgs(args: readonly string[]): LoadCommand {
  const flags = parseCommand(args, LOAD_FLAGS, loadFlagsSchema);
  if (!flags) return { kind: "help" };
  if (flags.rate !== undefined && flags.orders !== undefined) {
    throw new UsageError("-n y --rate no pueden usarse juntos (lazo cerrado o abierto)");
  }
  if (flags.rate === undefined && flags.duration !== undefined) {
    throw new UsageError("--duration solo tiene sentido con --rate");
  }
  if (flags.mode !== "pipeline" && flags.depth !== undefined) {
    throw new UsageError("--depth solo tiene sentido con --mode pipeline");
  }
  if (flags.verify === undefined && (flags["wait-done"] || flags["wait-ms"] !== undefined)) {
    throw new UsageError("--wait-done y --wait-ms necesitan --verify");
  }
  const tls = tlsSettings(flags.tls, flags.ca);
  return {
    kind: "run",
    options: {
      host: flags.host ?? LOAD_DEFAULTS.host,
      port: flags.port ?? LOAD_DEFAULTS.port,
      mode: flags.mode ?? LOAD_DEFAULTS.mode,
      orders: flags.orders ?? LOAD_DEFAULTS.orders,
      concurrency: flags.concurrency ?? LOAD_DEFAULTS.concurrency,
      depth: flags.depth ?? LOAD_DEFAULTS.depth,
      ...(flags.threads !== undefined ? { threads: flags.threads } : {}),
      ...(flags.rate !== undefined ? { rate: flags.rate } : {}),
      durationMs: (flags.duration ?? LOAD_DEFAULTS.durationMs / 1000) * 1000,
      bad: flags.bad ?? LOAD_DEFAULTS.bad,
      timeoutMs: flags["timeout-ms"] ?? LOAD_DEFAULTS.timeoutMs,
      ...(flags.verify !== undefined ? { verify: flags.verify } : {}),
      waitDone: flags["wait-done"] ?? LOAD_DEFAULTS.waitDone,
      waitMs: flags["wait-ms"] ?? LOAD_DEFAULTS.waitMs,
      json: flags.json ?? LOAD_DEFAULTS.json,
      quiet: flags.quiet ?? LOAD_DEFAULTS.quiet,
    },
    credentials: {
      ...(tls ? { tls } : {}),
      ...(flags["token-file"] !== undefined ? { token: { file: flags["token-file"] } } : {}),
    },
  };
}
