/**
 * The one place the server writes diagnostics: stderr, one line per event,
 * with control characters made visible so that no client-supplied text can
 * move a terminal's cursor or forge a log line.
 *
 * @module
 */
import { writeAllSync } from "./net.ts";

/**
 * `quiet`: warnings, errors and where the server listens; `normal`: also
 * start-up and summaries; `verbose`: also one line per order.
 */
export type LogLevel = "quiet" | "normal" | "verbose";

/** A line-oriented logger. */
export interface Logger {
  readonly level: LogLevel;
  error(message: string): void;
  warn(message: string): void;
  /** Printed at every level: facts an operator always needs, such as bound addresses. */
  notice(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

// Control characters, line separators and the bidirectional overrides that
// could make a log line read differently from what it contains.
const CONTROL = /[\p{Cc}\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/**
 * Replaces control characters with visible `\uXXXX` escapes.
 *
 * @example
 * ```ts
 * escapeControl("Ana\x1b[2J"); // "Ana\\u001b[2J"
 * ```
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * Creates a logger writing to `sink` (stderr by default).
 *
 * @example
 * ```ts
 * const lines: string[] = [];
 * const log = createLogger("normal", "pedidos", (line) => lines.push(line));
 * log.info("escuchando en [::]:8888"); // lines: ["pedidos: escuchando en [::]:8888"]
 * ```
 */
export function createLogger(
  level: LogLevel,
  name: string,
  sink: (line: string) => void = writeStderr,
): Logger {
  const emit = (prefix: string, message: string) =>
    sink(`${name}: ${prefix}${escapeControl(message)}`);
  return {
    level,
    error: (message) => emit("error: ", message),
    warn: (message) => emit("aviso: ", message),
    notice: (message) => emit("", message),
    info: (message) => level !== "quiet" && emit("", message),
    debug: (message) => level === "verbose" && emit("", message),
  } as Logger;
}

const encoder = new TextEncoder();

function writeStderr(line: string) {
  writeAllSync(Deno.stderr, encoder.encode(line + "\n"));
}
