/**
 * Command-line plumbing shared by every command: one table of flags feeds
 * `parseArgs`, the `--help` text and the zod validation, so they never drift.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { z } from "zod";

/** One command-line flag. */
export interface FlagSpec {
  name: string;
  type: "string" | "boolean";
  /** May be given several times. */
  multiple?: boolean;
  short?: string;
  /** Shown after the flag in help, e.g. `N` or `RUTA`. */
  placeholder?: string;
  /** The default, as shown in help. */
  default?: string;
  description: string;
}

/** The `-h, --help` flag every command offers. */
export const HELP_FLAG: FlagSpec = {
  name: "help",
  type: "boolean",
  short: "h",
  description: "muestra esta ayuda",
};

/** Raw values as parsed, before validation. */
export type RawFlags = Record<string, string | boolean | string[] | undefined>;

/** A bad command line: the message is one line, shown with the usage hint; exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * Parses `args` against the flag table.
 *
 * @throws {UsageError} on unknown flags, missing values or stray arguments
 */
export function parseFlags(
  args: readonly string[],
  specs: readonly FlagSpec[],
  options: { positionals?: number } = {},
): { values: RawFlags; positionals: string[] } {
  const config: Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }> =
    {};
  for (const spec of specs) {
    config[spec.name] = {
      type: spec.type,
      ...(spec.multiple ? { multiple: true } : {}),
      ...(spec.short ? { short: spec.short } : {}),
    };
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: config,
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(describeParseError(error, args));
  }
  const allowed = options.positionals ?? 0;
  if (parsed.positionals.length > allowed) {
    throw new UsageError(`argumento inesperado: ${parsed.positionals[allowed]}`);
  }
  return { values: parsed.values as RawFlags, positionals: parsed.positionals };
}

/** `parseArgs`'s English errors, in one Spanish line. */
function describeParseError(error: unknown, args: readonly string[]): string {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = message.match(/Unknown option '([^']+)'/);
  if (unknown) return `opción desconocida: ${unknown[1]}`;
  const missing = message.match(/Option '([^']+)' argument missing/);
  if (missing) return `falta el valor de ${missing[1]?.split(",").pop()?.trim().split(" ")[0]}`;
  // `-n -5`: a value that starts with a dash looks like another option.
  const ambiguous = message.match(/Option '([^']+)' argument is ambiguous[^]*use '(--[^=']+)=/);
  if (ambiguous) {
    const [, flag, long] = ambiguous;
    const at = args.indexOf(flag!);
    const next = at === -1 ? undefined : args[at + 1];
    if (next === undefined) return `falta el valor de ${flag}`;
    return /^-\d/.test(next)
      ? `${flag} ${next}: un valor que empieza por '-' se escribe ${long}=${next}`
      : `falta el valor de ${flag} (${next} es otra opción)`;
  }
  const noValue = message.match(/Option '([^']+)' does not take an argument/);
  if (noValue) return `${noValue[1]?.split(",").pop()?.trim()} no admite un valor`;
  return message.split("\n")[0] ?? message;
}

/**
 * Validates raw flags with a zod schema, turning the first problem into a
 * one-line {@linkcode UsageError} that names the flag.
 */
export function validateFlags<T extends z.ZodType>(schema: T, values: RawFlags): z.infer<T> {
  const result = schema.safeParse(values);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const flag = issue.path.length ? `--${String(issue.path[0])}: ` : "";
  throw new UsageError(`${flag}${issue.message}`);
}

/**
 * Parses a command line whose flags are a table plus {@linkcode HELP_FLAG}:
 * `undefined` when `--help` was given (the caller prints its usage), else the
 * other flags as `schema` validates them.
 *
 * @example
 * ```ts
 * const flags = parseCommand(["--port", "0"], [PORT_FLAG, HELP_FLAG], z.object({ port: integerFlag(0, 65535) }));
 * // { port: 0 }
 * ```
 * @throws {UsageError} with a one-line message on any bad flag
 */
export function parseCommand<T extends z.ZodType>(
  args: readonly string[],
  specs: readonly FlagSpec[],
  schema: T,
): z.infer<T> | undefined {
  const { values } = parseFlags(args, specs);
  if (values.help) return undefined;
  const { help: _help, ...rest } = values;
  return validateFlags(schema, rest);
}

/** A flag holding a whole number in [min, max], given as a decimal string. */
export function integerFlag(min: number, max: number) {
  const message = `debe ser un entero entre ${min} y ${max}`;
  return z.string()
    .regex(/^\d+$/, { error: message })
    .transform(Number)
    .pipe(z.number().int().min(min, { error: message }).max(max, { error: message }));
}

/** A flag holding one of a fixed set of words. */
export function choiceFlag<const T extends readonly [string, ...string[]]>(choices: T) {
  return z.enum(choices, { error: `debe ser uno de: ${choices.join(", ")}` });
}

/**
 * The `--help` text: a usage line, a summary, and every flag with its default.
 */
export function usage(
  command: string,
  summary: string,
  specs: readonly FlagSpec[],
  extra = "",
): string {
  const rows = specs.map((spec) => {
    const names = (spec.short ? `-${spec.short}, ` : "    ") + `--${spec.name}` +
      (spec.placeholder ? ` ${spec.placeholder}` : "");
    const notes = [
      spec.multiple ? "repetible" : "",
      spec.default !== undefined ? `por defecto: ${spec.default}` : "",
    ].filter(Boolean).join("; ");
    return [names, spec.description + (notes ? ` (${notes})` : "")] as const;
  });
  const width = Math.max(...rows.map(([names]) => names.length)) + 2;
  const lines = rows.map(([names, text]) => `  ${names.padEnd(width)}${text}`);
  return `Uso: ${command}\n\n${summary}\n\nOpciones:\n${lines.join("\n")}\n${extra}`;
}

/**
 * Runs a command's `main` and exits with its code. Any error becomes one line
 * on stderr, `PROGRAM: error: …`, never a stack trace: exit 2 for a
 * {@linkcode UsageError} (with a pointer to `--help` on the same line), 1
 * otherwise.
 *
 * @example
 * ```ts
 * if (import.meta.main) await runMain("pedidos-server", () => main(Deno.args));
 * ```
 */
export async function runMain(
  program: string,
  main: () => Promise<number | void>,
  helpCommand = program,
): Promise<never> {
  try {
    Deno.exit((await main()) ?? 0);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const hint = error instanceof UsageError ? ` (pruebe '${helpCommand} --help')` : "";
    console.error(`${program}: error: ${message}${hint}`);
    Deno.exit(error instanceof UsageError ? 2 : 1);
  }
}
