/**
 * Who may read the HTTP side when the server has `--tokens`: an operator,
 * with its token as `Authorization: Bearer TOKEN` (Prometheus, curl) or as
 * the password of HTTP Basic (a browser asks for it once, then sends it with
 * the dashboard's own requests, event stream included). Health and
 * readiness stay open, for load balancers that cannot send credentials;
 * they say nothing but "up" and "ready". Pure.
 *
 * @module
 */
import type { TokenTable } from "../auth/tokens.ts";

/** Routes anyone may ask, tokens or not. */
export const OPEN_ROUTES: ReadonlySet<string> = new Set(["/healthz", "/readyz"]);

/** The verdict on one request. */
export type HttpAccess = "permitido" | "sin_credenciales" | "prohibido";

/**
 * The token an `Authorization` header carries: `Bearer TOKEN`, or `Basic`
 * with the token as the password (the user name is ignored).
 *
 * @example
 * ```ts
 * tokenFromAuthorization("Bearer abc"); // "abc"
 * tokenFromAuthorization("Basic " + btoa("operador:abc")); // "abc"
 * tokenFromAuthorization(null); // undefined
 * ```
 */
export function tokenFromAuthorization(header: string | null): string | undefined {
  if (header === null) return undefined;
  const [scheme, value] = header.trim().split(/\s+/, 2);
  if (value === undefined) return undefined;
  if (/^bearer$/i.test(scheme!)) return value;
  if (!/^basic$/i.test(scheme!)) return undefined;
  let decoded: string;
  try {
    decoded = new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(atob(value), (c) => c.charCodeAt(0)),
    );
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(":");
  return colon === -1 ? undefined : decoded.slice(colon + 1);
}

/**
 * Whether a request for `path` with this `Authorization` header may be
 * answered. Without tokens everything is open, as before `--tokens`.
 *
 * @example
 * ```ts
 * httpAccess("/metrics", null, tokens); // "sin_credenciales": answer 401
 * httpAccess("/healthz", null, tokens); // "permitido"
 * ```
 */
export function httpAccess(
  path: string,
  authorization: string | null,
  tokens: TokenTable | undefined,
): HttpAccess {
  if (!tokens || OPEN_ROUTES.has(path)) return "permitido";
  const token = tokenFromAuthorization(authorization);
  if (token === undefined) return "sin_credenciales";
  const role = tokens.verify(token);
  if (role === undefined) return "sin_credenciales";
  return role === "operador" ? "permitido" : "prohibido";
}
