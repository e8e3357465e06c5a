/**
 * How a processor's outcome is recorded: its result as bounded JSON, and
 * what it threw (or why it could not load) as one escaped line for
 * `motivo_fallo` and the log. Pure.
 *
 * @module
 */
import { escapeControl } from "../util/log.ts";
import { MAX_RESULT_BYTES } from "./processor.ts";

/** Longest reason kept from a processor's error: enough for any real message, not for a dump. */
export const MAX_MOTIVO_CHARS = 500;

/** A result ready to store (`json` undefined: none), or why it cannot be stored. */
export type EncodedResult = { json: string | undefined } | { motivo: string };

const encoder = new TextEncoder();

/** Deno colours a module's location in a load error for a terminal. */
// deno-lint-ignore no-control-regex
const ANSI_COLOUR = /\x1b\[[0-9;]*m/g;

/**
 * A processor's return value as the JSON text to store: `undefined` means
 * no result; anything `JSON.stringify` cannot turn into text, or text
 * longer than {@linkcode MAX_RESULT_BYTES}, fails the attempt.
 *
 * @example
 * ```ts
 * encodeResult({ pago: "p-1" }); // { json: '{"pago":"p-1"}' }
 * encodeResult(10n); // { motivo: "el resultado no se puede guardar como JSON: ..." }
 * ```
 */
export function encodeResult(value: unknown, limit = MAX_RESULT_BYTES): EncodedResult {
  if (value === undefined) return { json: undefined };
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    return { motivo: `el resultado no se puede guardar como JSON: ${firstLine(error)}` };
  }
  if (json === undefined) {
    return { motivo: `el resultado no se puede guardar como JSON: es de tipo ${typeof value}` };
  }
  const bytes = encoder.encode(json).length;
  if (bytes > limit) {
    return { motivo: `el resultado ocupa ${bytes} bytes como JSON; el máximo es ${limit}` };
  }
  return { json };
}

/** Spanish for what each kind of permission lets a processor do, and whether a flag grants it. */
const PERMISSIONS: Record<string, { action: string; flag?: string; never?: string }> = {
  net: { action: "conectar con", flag: "--processor-allow-net" },
  read: { action: "leer", flag: "--processor-allow-read" },
  env: { action: "leer la variable de entorno", flag: "--processor-allow-env" },
  write: { action: "escribir", never: "un procesador no puede escribir archivos" },
  run: { action: "ejecutar", never: "un procesador no puede ejecutar programas" },
  ffi: { action: "cargar la biblioteca", never: "un procesador no puede usar FFI" },
  sys: { action: "consultar del sistema", never: "un procesador no puede consultar el sistema" },
  import: { action: "importar desde", never: "un procesador no puede importar módulos remotos" },
};

/**
 * The reason a processor's attempt failed, from what it threw: Deno's
 * permission errors say which flag would grant the access (or that none
 * can); other errors keep their message, with the error's name unless it
 * is a plain `Error`. One line of at most {@linkcode MAX_MOTIVO_CHARS}
 * characters, control characters then escaped.
 *
 * @example
 * ```ts
 * describeFailure(new Error("sin stock de pan")); // "el procesador falló: sin stock de pan"
 * ```
 */
export function describeFailure(error: unknown): string {
  const denied = permissionDenied(error);
  if (denied) return bounded(denied);
  const name = error instanceof Error && error.name !== "Error" ? `${error.name}: ` : "";
  return bounded(`el procesador falló: ${name}${firstLine(error) || "(sin mensaje)"}`);
}

/**
 * Why the processor module could not be loaded, in one line: its first
 * line of error and, for a syntax error, where it is. A module it imports
 * but may not read (Deno checks read permission for every module imported
 * at run time), or a permission its top-level code lacks, says which flag
 * grants it.
 */
export function describeLoadError(error: unknown): string {
  const text = messageOf(error).replace(ANSI_COLOUR, "");
  // Deno reports a module it may not import as a TypeError, and what the
  // module's own top-level code may not do as NotCapable.
  const unreadable = error instanceof TypeError &&
    text.match(/^Requires read access to (.+?), run again/);
  const reason = unreadable
    ? `importa ${unreadable[1]}, que no puede leer (concédalo con --processor-allow-read)`
    : permissionDenied(error) ?? firstLine(text);
  const where = text.match(/\bat (file:\/\/\S+:\d+:\d+)/)?.[1];
  return bounded(
    `no se pudo cargar el procesador: ${reason}${
      where && !reason.includes(where) ? ` (${where})` : ""
    }`,
  );
}

function permissionDenied(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const match = error.message.match(
    /^Requires (\w+) access to (.+?), run again with the --allow-\w+ flag/,
  );
  if (!match) {
    return error.name === "NotCapable" ? `permiso denegado: ${firstLine(error)}` : undefined;
  }
  const [, kind = "", target = ""] = match;
  const permission = PERMISSIONS[kind];
  if (!permission) return `permiso denegado: ${firstLine(error)}`;
  const remedy = permission.flag ? `concédalo con ${permission.flag}` : permission.never;
  return `permiso denegado: ${permission.action} ${target} (${remedy})`;
}

function firstLine(error: unknown): string {
  return messageOf(error).trim().split("\n")[0]!.trim();
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === "object" && error !== null) {
    try {
      return JSON.stringify(error) ?? String(error);
    } catch {
      return String(error);
    }
  }
  return String(error);
}

/** At most MAX_MOTIVO_CHARS characters (cut whole), then escaped. */
function bounded(text: string): string {
  const chars = Array.from(text);
  const cut = chars.length > MAX_MOTIVO_CHARS
    ? `${chars.slice(0, MAX_MOTIVO_CHARS - 1).join("")}…`
    : text;
  return escapeControl(cut);
}
