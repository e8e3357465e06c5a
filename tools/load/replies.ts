/**
 * Reading the server's lines on the client side: split bytes into lines and
 * classify each one as a greeting, a success, a failure with its `codigo`, or
 * an event. Pure: bytes in, values out.
 *
 * The lines a load run receives by the hundred thousand, `{"ok":true,"id":N,`
 * and `{"ok":false,"codigo":"C"`, and the greeting that opens every
 * connection, `{"ok":true,"tipo":"bienvenida",`, are recognised from their
 * bytes without decoding or `JSON.parse`; any other shape (other key order,
 * events) goes through `JSON.parse`, so a server that orders its keys
 * differently is still understood, only more slowly.
 *
 * @module
 */
import { ByteLineSplitter } from "../../lib/wire/lines.ts";

/** One line from the server. */
export type ServerLine =
  | { tipo: "ok"; id: number | undefined }
  | { tipo: "error"; codigo: string }
  | { tipo: "saludo" }
  | { tipo: "evento" }
  | { tipo: "ilegible"; texto: string };

const QUOTE = 0x22;
const COMMA = 0x2c;
const CLOSE_BRACE = 0x7d;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const OK_PREFIX = new TextEncoder().encode('{"ok":true,"id":');
const ERROR_PREFIX = new TextEncoder().encode('{"ok":false,"codigo":"');
const GREETING_PREFIX = new TextEncoder().encode('{"ok":true,"tipo":"bienvenida",');
const SALUDO: ServerLine = Object.freeze({ tipo: "saludo" });
const MAX_CODIGO = 64;
const decoder = new TextDecoder();

/**
 * Splits a byte stream into the server's lines and classifies them (empty
 * lines are skipped).
 *
 * @example
 * ```ts
 * const reader = new ReplyReader();
 * const bytes = new TextEncoder().encode('{"ok":true,"id":7,"mensaje":"x"}\n{"ok":fa');
 * reader.push(bytes); // [{ tipo: "ok", id: 7 }]
 * reader.push(new TextEncoder().encode('lse,"codigo":"limite"}\n')); // [{ tipo: "error", codigo: "limite" }]
 * ```
 */
export class ReplyReader {
  readonly #splitter = new ByteLineSplitter();

  /**
   * Feeds bytes; returns the lines they completed, in order. The chunk may be reused afterwards.
   *
   * @throws {RangeError} if a line grows past the splitter's limit
   */
  push(chunk: Uint8Array): ServerLine[] {
    const lines: ServerLine[] = [];
    this.#splitter.push(chunk, (bytes, start, end) => {
      if (end > start) lines.push(classify(bytes, start, end));
    });
    return lines;
  }
}

/**
 * Classifies one line (without its newline) given as `bytes[start..end)`.
 *
 * @example
 * ```ts
 * const bytes = new TextEncoder().encode('{"ok":false,"codigo":"limite","mensaje":"…"}');
 * classify(bytes, 0, bytes.length); // { tipo: "error", codigo: "limite" }
 * ```
 */
export function classify(bytes: Uint8Array, start: number, end: number): ServerLine {
  if (startsWith(bytes, start, end, OK_PREFIX)) {
    let position = start + OK_PREFIX.length;
    let id = 0;
    const first = position;
    while (position < end && bytes[position]! >= DIGIT_0 && bytes[position]! <= DIGIT_9) {
      id = id * 10 + bytes[position]! - DIGIT_0;
      position++;
    }
    const next = bytes[position];
    if (position > first && position - first <= 15 && (next === COMMA || next === CLOSE_BRACE)) {
      return { tipo: "ok", id };
    }
  } else if (startsWith(bytes, start, end, GREETING_PREFIX)) {
    return SALUDO;
  } else if (startsWith(bytes, start, end, ERROR_PREFIX)) {
    const from = start + ERROR_PREFIX.length;
    const quote = bytes.subarray(from, Math.min(end, from + MAX_CODIGO)).indexOf(QUOTE);
    if (quote > 0) {
      let codigo = "";
      for (let i = from; i < from + quote; i++) codigo += String.fromCharCode(bytes[i]!);
      if (/^[a-z_]+$/.test(codigo)) return { tipo: "error", codigo };
    }
  }
  return classifyText(decoder.decode(bytes.subarray(start, end)));
}

/** The slow path: any JSON line, whatever its key order. */
export function classifyText(texto: string): ServerLine {
  let value: unknown;
  try {
    value = JSON.parse(texto);
  } catch {
    return { tipo: "ilegible", texto };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { tipo: "ilegible", texto };
  }
  const line = value as Record<string, unknown>;
  if ("evento" in line && !("ok" in line)) return { tipo: "evento" };
  if (line.ok === true && line.tipo === "bienvenida") return SALUDO;
  if (line.ok === true) {
    return { tipo: "ok", id: Number.isSafeInteger(line.id) ? line.id as number : undefined };
  }
  if (line.ok === false && typeof line.codigo === "string") {
    return { tipo: "error", codigo: line.codigo };
  }
  return { tipo: "ilegible", texto };
}

function startsWith(bytes: Uint8Array, start: number, end: number, prefix: Uint8Array): boolean {
  if (end - start < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[start + i] !== prefix[i]) return false;
  return true;
}
