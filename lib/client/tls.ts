/**
 * TLS on the client side, shared by the client and the load tool: the
 * handshake over an open TCP connection, verified against the name the user
 * gave, and one Spanish line for each way it fails.
 *
 * The certificate is always verified: against Deno's root certificates
 * (Mozilla's; `DENO_TLS_CA_STORE=system` for the system's), plus the CA of
 * `--ca` if given. There is deliberately no way to skip verification.
 *
 * @module
 */
import { ConnectionError } from "./errors.ts";

/** How to speak TLS to the server. */
export interface ClientTls {
  /** Extra trusted CA certificates, PEM (from `--ca`). */
  caCerts?: string[];
}

/** Options of {@linkcode startClientTls}. */
export interface StartTlsOptions {
  /** The name to verify the certificate against: `--host` as given (a name or an IP). */
  hostname: string;
  tls: ClientTls;
  /** How errors name the server, e.g. `localhost:8888`. */
  target: string;
  /** Bound on the handshake. */
  timeoutMs: number;
}

/**
 * Performs the TLS handshake over `conn` and verifies the server's
 * certificate. Takes ownership of `conn`: it is closed on failure.
 *
 * @throws {ConnectionError} `tls` if the certificate is not trusted or not
 *   for `hostname`, or the server does not speak TLS; `tiempo` on timeout
 */
export async function startClientTls(
  conn: Deno.TcpConn,
  options: StartTlsOptions,
): Promise<Deno.TlsConn> {
  const { hostname, tls, target, timeoutMs } = options;
  let secure: Deno.TlsConn | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    secure = await Deno.startTls(conn, {
      hostname,
      ...(tls.caCerts ? { caCerts: tls.caCerts } : {}),
    });
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new ConnectionError("tiempo", `${target} no completó TLS en ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
    });
    await Promise.race([secure.handshake(), timeout]);
    return secure;
  } catch (error) {
    try {
      (secure ?? conn).close();
    } catch {
      // Already closed.
    }
    if (error instanceof ConnectionError) throw error;
    throw new ConnectionError("tls", describeTlsFailure(error, target, hostname), {
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One line for a failed handshake, with a hint at the usual cause.
 *
 * @example
 * ```ts
 * describeTlsFailure(new Error("invalid peer certificate: UnknownIssuer"), "::1:8888", "::1");
 * // "no se pudo verificar el certificado de ::1:8888: emisor desconocido (¿falta --ca?)"
 * ```
 */
export function describeTlsFailure(error: unknown, target: string, hostname: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const certificate = `no se pudo verificar el certificado de ${target}`;
  if (/UnknownIssuer/i.test(message)) return `${certificate}: emisor desconocido (¿falta --ca?)`;
  if (/NotValidForName/i.test(message)) {
    return `${certificate}: no es válido para ${hostname} (¿otro --host?)`;
  }
  if (/Expired/i.test(message)) return `${certificate}: ha caducado`;
  if (/NotValidYet/i.test(message)) return `${certificate}: aún no es válido`;
  if (/corrupt message|InvalidContentType|wrong version|record overflow/i.test(message)) {
    return `${target} no habla TLS (¿el servidor no tiene --tls-cert?)`;
  }
  return `falló TLS con ${target}: ${message}`;
}
