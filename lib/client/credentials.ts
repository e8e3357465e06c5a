/**
 * What the client reads to prove who it is and to know whom to trust: its
 * token (`--token-file` or `$PEDIDOS_TOKEN`) and the CA of `--ca`. Read once,
 * before the client gives up reading files and the environment.
 *
 * A token is never taken from the command line, where `ps` would show it.
 *
 * @module
 */
import { InputError } from "./errors.ts";
import type { ClientTls } from "./tls.ts";
import type { FlagSpec } from "../util/cli.ts";
import { isLoopback } from "../util/net.ts";

/** Where the token comes from. */
export type TokenSource = { file: string } | { env: string; value: string };

/** What `--tls`, `--ca`, `--token-file` and `$PEDIDOS_TOKEN` ask for. */
export interface CredentialSettings {
  /** Present with `--tls` or `--ca`. */
  tls?: { caFile?: string } | undefined;
  token?: TokenSource | undefined;
}

/** `--tls` and `--ca`, as every command that connects to a server takes them. */
export const TLS_FLAGS: readonly FlagSpec[] = [
  {
    name: "tls",
    type: "boolean",
    description: "habla TLS y verifica el certificado del servidor (raíces de Deno, y --ca)",
  },
  {
    name: "ca",
    type: "string",
    placeholder: "ARCHIVO",
    description: "certificado PEM de una CA en la que confiar además; implica --tls",
  },
];

/**
 * What `--tls` and `--ca` ask for: nothing without either, and `--ca`
 * implies `--tls`.
 *
 * @example
 * ```ts
 * tlsSettings(undefined, "ca.pem"); // { caFile: "ca.pem" }
 * tlsSettings(true, undefined); // {}
 * tlsSettings(undefined, undefined); // undefined
 * ```
 */
export function tlsSettings(
  tls: boolean | undefined,
  ca: string | undefined,
): CredentialSettings["tls"] {
  if (ca !== undefined) return { caFile: ca };
  return tls ? {} : undefined;
}

/** Credentials read and checked, ready for the session. */
export interface Credentials {
  tls?: ClientTls;
  token?: string;
}

/**
 * The token in a token file: its one line that is neither blank nor a `#`
 * comment, trimmed.
 *
 * @example
 * ```ts
 * parseTokenFile("# pedidos\n6f1c0a5e3b9d4e7f8a2b\n"); // "6f1c0a5e3b9d4e7f8a2b"
 * ```
 * @throws {InputError} if there is no token, more than one line, or a space inside
 */
export function parseTokenFile(text: string, name: string): string {
  const lines = text.split(/\r?\n/).map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  if (lines.length === 0) throw new InputError(`${name} no contiene ningún token`);
  if (lines.length > 1 || /\s/.test(lines[0]!)) {
    throw new InputError(`${name} debe contener solo el token, en una línea`);
  }
  return lines[0]!;
}

/**
 * Reads the token and the CA the settings name.
 *
 * @throws {InputError} naming the file or variable that cannot be used
 */
export async function readCredentials(settings: CredentialSettings): Promise<Credentials> {
  const credentials: Credentials = {};
  if (settings.tls) {
    const { caFile } = settings.tls;
    credentials.tls = caFile === undefined ? {} : { caCerts: [await readCa(caFile)] };
  }
  const source = settings.token;
  if (source && "file" in source) {
    credentials.token = parseTokenFile(
      await readText(source.file, "el archivo de token"),
      `el archivo de token ${source.file}`,
    );
  } else if (source) {
    const token = source.value.trim();
    if (/\s/.test(token)) throw new InputError(`${source.env} no puede contener espacios`);
    credentials.token = token;
  }
  return credentials;
}

async function readCa(path: string): Promise<string> {
  const pem = await readText(path, "el certificado de --ca");
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
    throw new InputError(`--ca ${path} no contiene ningún certificado PEM`);
  }
  return pem;
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new InputError(`no se puede leer ${what} ${path}: ${(error as Error).message}`);
  }
}

/**
 * The warning for a token about to cross a network unencrypted, or
 * `undefined` (TLS, no token, or a loopback host).
 *
 * @example
 * ```ts
 * plainTokenWarning("tienda.example", { token: "…" });
 * // "el token viaja sin cifrar hasta tienda.example: use --tls"
 * ```
 */
export function plainTokenWarning(host: string, credentials: Credentials): string | undefined {
  if (credentials.token === undefined || credentials.tls) return undefined;
  if (isLoopback(host) || /^localhost\.?$/i.test(host)) return undefined;
  return `el token viaja sin cifrar hasta ${host}: use --tls`;
}
