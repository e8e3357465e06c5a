/**
 * Client tokens: the `--tokens` file and the check of a presented token.
 *
 * The file has one token per line, `ROLE TOKEN`, with `#` starting a comment
 * line. A presented token is compared with every configured one through
 * their SHA-256 digests and `timingSafeEqual`, without stopping at a match:
 * how long the check takes says nothing about how much of a token was right,
 * nor how long the tokens are, nor which line matched.
 *
 * Tokens are kept only as digests and never reach a log line or an error.
 *
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";

/** What a token allows: `cliente` sends orders and sees its own; `operador` sees everything. */
export type Role = "cliente" | "operador";

/** The roles a tokens file may name. */
export const ROLES: readonly Role[] = ["cliente", "operador"];

/**
 * Shortest accepted token. Sixteen random characters from a base64 or hex
 * alphabet carry 64 to 96 bits; `openssl rand -hex 32` gives 64 characters.
 */
export const MIN_TOKEN_LENGTH = 16;

/** A tokens file that cannot be used; the message names the line, never the token. */
export class TokenFileError extends Error {
  override name = "TokenFileError";
}

interface Entry {
  digest: Uint8Array;
  role: Role;
}

/**
 * The configured tokens, kept as digests.
 *
 * @example
 * ```ts
 * const tokens = parseTokens("operador 6f1c0a5e3b9d4e7f8a2b\n");
 * tokens.verify("6f1c0a5e3b9d4e7f8a2b"); // "operador"
 * tokens.verify("adivinanza"); // undefined
 * ```
 */
export class TokenTable {
  readonly #entries: readonly Entry[];

  constructor(entries: readonly { token: string; role: Role }[]) {
    this.#entries = entries.map(({ token, role }) => ({ digest: digest(token), role }));
  }

  /** How many tokens are configured. */
  get size(): number {
    return this.#entries.length;
  }

  /** The role of `token`, or `undefined` if it is not configured. Constant time in the token. */
  verify(token: string): Role | undefined {
    const presented = digest(token);
    let role: Role | undefined;
    for (const entry of this.#entries) {
      // No early exit: every entry is compared whatever matched before.
      if (timingSafeEqual(presented, entry.digest)) role = entry.role;
    }
    return role;
  }
}

function digest(token: string): Uint8Array {
  return createHash("sha256").update(token, "utf8").digest();
}

/**
 * Parses the text of a tokens file.
 *
 * @throws {TokenFileError} naming the first bad line: an unknown role, a
 *   missing or extra field, a token shorter than {@linkcode MIN_TOKEN_LENGTH},
 *   a token given twice, or no token at all
 */
export function parseTokens(text: string): TokenTable {
  const entries: { token: string; role: Role }[] = [];
  const seen = new Set<string>();
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const where = `línea ${index + 1}`;
    const fields = line.split(/\s+/);
    const [role, token] = fields;
    if (!ROLES.includes(role as Role)) {
      throw new TokenFileError(`${where}: el rol debe ser ${ROLES.join(" u ")} (ROL TOKEN)`);
    }
    if (token === undefined || fields.length > 2) {
      throw new TokenFileError(`${where}: se espera ROL TOKEN, con el token sin espacios`);
    }
    if ([...token].length < MIN_TOKEN_LENGTH) {
      throw new TokenFileError(
        `${where}: el token es demasiado corto (mínimo ${MIN_TOKEN_LENGTH} caracteres; pruebe openssl rand -hex 32)`,
      );
    }
    if (seen.has(token)) throw new TokenFileError(`${where}: token repetido`);
    seen.add(token);
    entries.push({ role: role as Role, token });
  }
  if (entries.length === 0) throw new TokenFileError("no contiene ningún token");
  return new TokenTable(entries);
}

/** The tokens of a file, and a warning if others may read or change it. */
export interface LoadedTokens {
  tokens: TokenTable;
  /** Set when the file is readable or writable by every user. */
  warning?: string;
}

/**
 * Reads and parses the tokens file at `path`.
 *
 * @throws {TokenFileError} if it cannot be read or parsed; the message starts with the path
 */
export function loadTokens(path: string): LoadedTokens {
  let text: string;
  let mode: number | null;
  try {
    text = Deno.readTextFileSync(path);
    mode = Deno.statSync(path).mode;
  } catch (error) {
    throw new TokenFileError(
      `no se puede leer el archivo de tokens ${path}: ${(error as Error).message}`,
    );
  }
  let tokens: TokenTable;
  try {
    tokens = parseTokens(text);
  } catch (error) {
    throw new TokenFileError(`archivo de tokens ${path}: ${(error as Error).message}`);
  }
  const warning = worldAccessWarning(path, mode);
  return warning ? { tokens, warning } : { tokens };
}

/**
 * The start-up warning for a tokens file any user may read or write, or
 * `undefined`. `mode` is `null` where the system has no Unix permissions.
 *
 * @example
 * ```ts
 * worldAccessWarning("tokens.txt", 0o100644);
 * // "el archivo de tokens tokens.txt lo pueden leer todos los usuarios (permisos 644): use chmod 600"
 * ```
 */
export function worldAccessWarning(path: string, mode: number | null): string | undefined {
  if (mode === null || (mode & 0o006) === 0) return undefined;
  const what = (mode & 0o004) && (mode & 0o002)
    ? "leer y modificar"
    : mode & 0o004
    ? "leer"
    : "modificar";
  const octal = (mode & 0o777).toString(8).padStart(3, "0");
  return `el archivo de tokens ${path} lo pueden ${what} todos los usuarios (permisos ${octal}): use chmod 600`;
}
