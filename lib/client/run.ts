/**
 * The client's run: parse the command line, build and validate the orders,
 * talk to the server, print results, and choose the exit code. All I/O goes
 * through a {@linkcode ClientIO}, so tests drive it in-process.
 *
 * @module
 */
import { UsageError } from "../util/cli.ts";
import {
  CLIENT_PROGRAM,
  type ClientMode,
  type ClientSettings,
  clientUsage,
  parseClientArgs,
} from "./config.ts";
import { type Credentials, plainTokenWarning, readCredentials } from "./credentials.ts";
import { ConnectionError, EXIT, exitCodeOf, InputError, RefusedByServerError } from "./errors.ts";
import {
  describeErrores,
  missingFields,
  type OutgoingOrder,
  parseBatch,
  prepareOrder,
} from "./orders.ts";
import {
  type BatchSummary,
  humanRenderer,
  jsonRenderer,
  type Renderer,
  UNANSWERED,
} from "./output.ts";
import { readBatch } from "./batch_input.ts";
import { askMissing } from "./prompt.ts";
import { resendCommand } from "./resend.ts";
import { type RetryNotice, withRetries } from "./retry.ts";
import { SessionKeeper } from "./session.ts";
import { submitOrders } from "./submit.ts";
import { type AcceptedOrder, waitForOrders } from "./wait.ts";
import { createLogger, type Logger } from "../util/log.ts";
import type { Reply } from "../wire/protocol.ts";
import { versionLine } from "../util/version.ts";

/** Somewhere to write text. */
export interface TextSink {
  write(text: string): void;
}

/** Everything the client reads from and writes to, besides the network and `--file`. */
export interface ClientIO {
  stdin: ReadableStream<Uint8Array>;
  stdout: TextSink;
  stderr: TextSink;
  /** An environment variable, or `undefined` if unset or not allowed. */
  env: (name: string) => string | undefined;
  /** Whether stdin is a terminal a person can answer prompts at. */
  isTerminal: () => boolean;
  /**
   * Gives up file reading and the environment once the inputs are read, so
   * that nothing later in the run can read a file it was not given.
   */
  dropPrivileges?: () => void;
}

/** Everything a mode needs while it runs. */
interface Run {
  settings: ClientSettings;
  credentials: Credentials;
  io: ClientIO;
  log: Logger;
  out: Renderer;
}

/**
 * Runs the client with `args` (without the program name) and returns the
 * exit code; never throws. See `--help` for the codes.
 *
 * @example
 * ```ts
 * const code = await runClient(["--stats", "--json"], io);
 * ```
 */
export async function runClient(args: readonly string[], io: ClientIO): Promise<number> {
  let log = createLogger("normal", CLIENT_PROGRAM, (line) => io.stderr.write(line + "\n"));
  try {
    const command = parseClientArgs(args, io.env);
    if (command.kind === "help") {
      io.stdout.write(clientUsage());
      return EXIT.ok;
    }
    if (command.kind === "version") {
      io.stdout.write(versionLine(CLIENT_PROGRAM) + "\n");
      return EXIT.ok;
    }
    const { settings, mode } = command;
    if (settings.verbose) {
      log = createLogger("verbose", CLIENT_PROGRAM, (line) => io.stderr.write(line + "\n"));
    }
    const credentials = await readCredentials(settings);
    const exposed = plainTokenWarning(settings.host, credentials);
    if (exposed) log.warn(exposed);
    const run: Run = {
      settings,
      credentials,
      io,
      log,
      out: settings.json ? jsonRenderer : humanRenderer,
    };
    return await runMode(run, mode);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const hint = error instanceof UsageError ? ` (pruebe '${CLIENT_PROGRAM} --help')` : "";
    log.error(message + hint);
    return exitCodeOf(error);
  }
}

function runMode(run: Run, mode: ClientMode): Promise<number> {
  if (mode.kind !== "batch") run.io.dropPrivileges?.();
  switch (mode.kind) {
    case "status":
      return query(
        run,
        { tipo: "estado", id: mode.id, ...(mode.clave === undefined ? {} : { clave: mode.clave }) },
        "pedido",
        run.out.status,
      );
    case "stats":
      return query(run, { tipo: "estadisticas", intervalos: true }, "estadisticas", run.out.stats);
    case "order":
      return sendOneOrder(run, mode);
    case "batch":
      return sendBatch(run, mode);
  }
}

function keeperFor({ settings, credentials, log }: Run): SessionKeeper {
  return new SessionKeeper({
    host: settings.host,
    port: settings.port,
    timeoutMs: settings.timeoutMs,
    trace: (message) => log.debug(message),
    tls: credentials.tls,
    token: credentials.token,
  });
}

/** Asks one question; a successful reply must carry the object named `carries`. */
async function query(
  run: Run,
  message: Record<string, unknown>,
  carries: "pedido" | "estadisticas",
  render: (reply: Reply) => string,
): Promise<number> {
  await using keeper = keeperFor(run);
  let reply: Reply;
  try {
    reply = await withRetries(async () => (await keeper.get()).request(message), {
      retries: run.settings.retries,
      onRetry: (notice) => run.log.warn(describeRetry(notice)),
    });
  } catch (error) {
    if (!(error instanceof RefusedByServerError)) throw error;
    reply = error.reply;
  }
  if (reply.ok && !isObject(reply[carries])) {
    throw new ConnectionError("protocolo", `${keeper.name} respondió sin ${carries}`);
  }
  run.io.stdout.write(render(reply));
  return reply.ok ? EXIT.ok : EXIT.rechazado;
}

async function sendOneOrder(
  run: Run,
  mode: Extract<ClientMode, { kind: "order" }>,
): Promise<number> {
  let fields = mode.fields;
  const missing = missingFields(fields);
  if (missing.length > 0) {
    if (!run.io.isTerminal()) {
      const flags = missing.map((name) => `--${name}`).join(", ");
      run.log.error(
        `${
          missing.length === 1 ? "falta" : "faltan"
        } ${flags} y stdin no es una terminal donde preguntar`,
      );
      run.io.stderr.write(clientUsage());
      return EXIT.uso;
    }
    fields = await askMissing(fields, run.io);
  }
  const prepared = prepareOrder({ ...fields }, { wait: mode.wait });
  if (!prepared.ok) {
    throw new InputError(`pedido inválido: ${describeErrores(prepared.errores)}`);
  }
  run.log.debug(`clave de idempotencia: ${prepared.order.clave}`);
  return await deliver(run, [prepared.order], { wait: mode.wait, batch: false });
}

async function sendBatch(
  run: Run,
  mode: Extract<ClientMode, { kind: "batch" }>,
): Promise<number> {
  const name = mode.file === "-" ? "stdin" : mode.file;
  const text = await readInput(mode.file, name, run.io);
  run.io.dropPrivileges?.();
  const { orders, problems } = parseBatch(text, { wait: mode.wait });
  if (problems.length > 0) {
    for (const { linea, mensaje } of problems) run.log.error(`${name}, línea ${linea}: ${mensaje}`);
    throw new InputError(
      `${problems.length} ${
        problems.length === 1 ? "línea inválida" : "líneas inválidas"
      } en ${name}; no se envió ningún pedido`,
    );
  }
  return await deliver(run, orders, { wait: mode.wait, batch: true });
}

/** The whole of `file` (`-`: stdin), within the batch limits, shown in messages as `name`. */
async function readInput(file: string, name: string, io: ClientIO): Promise<string> {
  let bytes: Uint8Array;
  try {
    const stream = file === "-" ? io.stdin : (await Deno.open(file)).readable;
    bytes = await readBatch(stream, name);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`no se puede leer ${name}: ${(error as Error).message}`);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new InputError(`${name} no es texto UTF-8 válido`);
  }
}

/** Sends, optionally waits, prints each result (and a batch's summary); returns the exit code. */
async function deliver(
  run: Run,
  orders: readonly OutgoingOrder[],
  options: { wait: boolean; batch: boolean },
): Promise<number> {
  const { out, io, log, settings } = run;
  const summary: BatchSummary = {
    pedidos: orders.length,
    aceptados: 0,
    duplicados: 0,
    rechazados: {},
    sin_respuesta: 0,
    ...(options.wait ? { listos: 0, fallidos: 0 } : {}),
  };
  const accepted: AcceptedOrder[] = [];
  /** Sent but unanswered: each may or may not have been stored. */
  const unknownFate: { order: OutgoingOrder; reintento: string }[] = [];
  let failure: Error | undefined;

  await using keeper = keeperFor(run);
  await submitOrders(keeper, orders, {
    retries: settings.retries,
    onOutcome: (outcome) => {
      const { order } = outcome;
      if ("error" in outcome) {
        summary.sin_respuesta++;
        failure ??= outcome.error;
        if (outcome.sent) {
          const reintento = resendCommand(order, settings);
          unknownFate.push({ order, reintento });
          io.stdout.write(out.unanswered({ linea: order.linea, clave: order.clave }, reintento));
        }
        return;
      }
      const { reply } = outcome;
      io.stdout.write(out.orderReply(reply, { linea: order.linea, clave: order.clave }));
      if (!reply.ok) {
        summary.rechazados[reply.codigo] = (summary.rechazados[reply.codigo] ?? 0) + 1;
        return;
      }
      summary.aceptados++;
      if (reply.duplicado) summary.duplicados++;
      if (reply.id !== undefined) {
        accepted.push({
          order,
          id: reply.id,
          subscribedOn: reply.duplicado ? undefined : outcome.session,
        });
      }
    },
    onRetry: (notice) => log.warn(describeRetry(notice)),
  });

  if (options.wait && accepted.length > 0) {
    try {
      await waitForOrders(keeper, accepted, (order, event) => {
        io.stdout.write(out.finished(event, order.linea));
        if (event.estado === "listo") summary.listos!++;
        else summary.fallidos!++;
      });
    } catch (error) {
      failure ??= error instanceof Error ? error : new Error(String(error));
    }
  }

  if (options.batch) io.stdout.write(out.summary(summary));
  if (failure) {
    log.error(failure.message);
    for (const { order, reintento } of unknownFate) {
      const linea = order.linea === undefined ? "" : `línea ${order.linea}: `;
      log.warn(
        `${linea}${UNANSWERED} (clave ${order.clave}); para reenviarlo sin duplicarlo: ${reintento}`,
      );
    }
    return exitCodeOf(failure);
  }
  const rejected = Object.keys(summary.rechazados).length > 0 || (summary.fallidos ?? 0) > 0;
  return rejected ? EXIT.rechazado : EXIT.ok;
}

/** `why → reintento 1 de 3 en 120 ms`, counting orders that share a reason. */
function describeRetry({ retry, retries, delayMs, reasons }: RetryNotice): string {
  const why = [...reasons]
    .map(([reason, count]) => count > 1 ? `${reason} (×${count})` : reason)
    .join("; ");
  return `${why} → reintento ${retry} de ${retries} en ${delayMs} ms`;
}

function isObject(value: unknown): boolean {
  return typeof value === "object" && value !== null;
}
