/**
 * The server's TLS: reading the certificate and key files, opening TLS
 * listeners, and rotating certificates without dropping a connection.
 *
 * Deno's TLS listener takes its certificate when it is opened, so a reload
 * opens a new listener per address on the same port (SO_REUSEPORT, as every
 * listener is bound) and only then closes the old one. Connections already
 * accepted are separate sockets and keep their session; new ones get the new
 * certificate. If anything about the new files is wrong, nothing is replaced.
 *
 * @module
 */
import { X509Certificate } from "node:crypto";
import type { ListenerSlot } from "./accept.ts";

/** Where the PEM files are (`--tls-cert`, `--tls-key`). */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/** A certificate chain and its private key, as PEM text. */
export interface CertifiedKey {
  cert: string;
  key: string;
}

/** A certificate or key that cannot be used; one line naming the file. */
export class TlsConfigError extends Error {
  override name = "TlsConfigError";
}

/**
 * Reads both PEM files.
 *
 * @throws {TlsConfigError} if either cannot be read
 */
export function readCertifiedKey(files: TlsFiles): CertifiedKey {
  return {
    cert: readPem(files.certFile, "el certificado"),
    key: readPem(files.keyFile, "la clave"),
  };
}

function readPem(path: string, what: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    throw new TlsConfigError(
      `no se puede leer ${what} TLS ${path}: ${(error as Error).message}`,
    );
  }
}

/**
 * Opens a TLS listener, turning Deno's complaints about the PEM data into
 * one line naming the files.
 *
 * @throws {TlsConfigError} if the certificate or key is unusable
 */
export function listenTls(
  options: Deno.TcpListenOptions,
  pair: CertifiedKey,
  files: TlsFiles,
): Deno.TlsListener {
  try {
    return Deno.listenTls({ ...options, ...pair });
  } catch (error) {
    const problem = describePemError(error, files);
    if (problem === undefined) throw error;
    throw new TlsConfigError(problem);
  }
}

/**
 * Deno's error for unusable PEM data, in one Spanish line; `undefined` for
 * any other error (a port in use is not a certificate problem).
 *
 * @example
 * ```ts
 * describePemError(new Error("keys may not be consistent: KeyMismatch"), files);
 * // "la clave TLS key.pem no corresponde al certificado cert.pem"
 * ```
 */
export function describePemError(error: unknown, files: TlsFiles): string | undefined {
  const message = error instanceof Error ? error.message : String(error);
  if (/no certificates found/i.test(message)) {
    return `el certificado TLS ${files.certFile} no contiene ningún certificado PEM`;
  }
  if (/no keys found/i.test(message)) {
    return `la clave TLS ${files.keyFile} no contiene ninguna clave privada PEM`;
  }
  if (/KeyMismatch|key.*consistent/i.test(message)) {
    return `la clave TLS ${files.keyFile} no corresponde al certificado ${files.certFile}`;
  }
  if (/certificate|private key|pem/i.test(message)) {
    return `certificado ${files.certFile} o clave ${files.keyFile} TLS no válidos: ${message}`;
  }
  return undefined;
}

/**
 * What the log says about a certificate: its subject and end of validity,
 * and whether it has already expired. `undefined` if it cannot be parsed.
 *
 * @example
 * ```ts
 * describeCertificate(pem, new Date());
 * // { line: "certificado TLS CN=localhost, válido hasta 2027-01-01T00:00:00.000Z", expired: false }
 * ```
 */
export function describeCertificate(
  pem: string,
  now: Date,
): { line: string; expired: boolean } | undefined {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch {
    return undefined;
  }
  const until = certificate.validToDate;
  const subject = certificate.subject.replaceAll("\n", ", ");
  return {
    line: `certificado TLS ${subject}, válido hasta ${until.toISOString()}`,
    expired: until.getTime() < now.getTime(),
  };
}

/**
 * Re-reads the files and moves every slot to a new TLS listener on the same
 * address. All or nothing: if a file is bad or a bind fails, the new
 * listeners are closed and the old ones keep serving.
 *
 * @returns the new certificate and key
 * @throws {TlsConfigError} or a bind error, with nothing changed
 */
export function reloadCertificates(slots: readonly ListenerSlot[], files: TlsFiles): CertifiedKey {
  const pair = readCertifiedKey(files);
  const fresh: Deno.TlsListener[] = [];
  try {
    for (const slot of slots) {
      const { hostname, port } = slot.current.addr;
      fresh.push(listenTls({ hostname, port, reusePort: true }, pair, files));
    }
  } catch (error) {
    for (const listener of fresh) listener.close();
    throw error;
  }
  for (const [index, slot] of slots.entries()) slot.replace(fresh[index]!);
  return pair;
}
