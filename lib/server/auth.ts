/**
 * One connection's authentication: who it is, what it may ask before and
 * after `{"tipo":"auth","token":"…"}`, and whether a wrong token means it
 * must be closed. No I/O: the connection acts on `hangUp`.
 *
 * @module
 */
import { mayReadStatistics } from "../auth/access.ts";
import { authenticated, type ErrorReply, failure, type Reply, type Rol } from "../wire/protocol.ts";
import type { TokenTable } from "../auth/tokens.ts";

/**
 * How long a connection that presented a wrong token stays open, unread,
 * before it is closed: each guess costs a connection slot for this long, so
 * guessing is slow even within the per-address connection limit.
 */
export const WRONG_TOKEN_CLOSE_MS = 1000;

/**
 * @example
 * ```ts
 * const auth = new ConnectionAuth(tokens);
 * auth.gate("pedido"); // no_autorizado: identify first
 * auth.authenticate(token); // { ok: true, rol: "cliente", … }
 * auth.gate("pedido"); // undefined: go ahead
 * ```
 */
export class ConnectionAuth {
  readonly #tokens: TokenTable | undefined;
  #who: Rol | undefined;
  #hangUp = false;

  /** Without tokens every connection is `anonimo` from the start. */
  constructor(tokens: TokenTable | undefined) {
    this.#tokens = tokens;
    this.#who = tokens ? undefined : "anonimo";
  }

  /** Who the connection is; `undefined` until it authenticates. */
  get who(): Rol | undefined {
    return this.#who;
  }

  /** True once a wrong token was presented: close after {@linkcode WRONG_TOKEN_CLOSE_MS}. */
  get hangUp(): boolean {
    return this.#hangUp;
  }

  /**
   * The refusal for a request of `tipo` this connection may not make, or
   * `undefined`. `auth` itself is always allowed.
   */
  gate(tipo: unknown): ErrorReply | undefined {
    if (this.#hangUp) return failure("no_autorizado", "token incorrecto");
    if (tipo === "auth") return undefined;
    if (this.#who === undefined) {
      return failure("no_autorizado", 'identifíquese primero con {"tipo":"auth","token":"…"}');
    }
    if (tipo === "estadisticas" && !mayReadStatistics(this.#who)) {
      return failure("no_autorizado", "las estadísticas son solo para operadores");
    }
    return undefined;
  }

  /** Answers `auth`. A wrong token sets `hangUp`; a server without tokens accepts any. */
  authenticate(token: string): Reply {
    if (!this.#tokens) return authenticated("anonimo");
    const role = this.#tokens.verify(token);
    if (role === undefined) {
      this.#hangUp = true;
      this.#who = undefined;
      return failure("no_autorizado", "token incorrecto; se cierra la conexión");
    }
    this.#who = role;
    return authenticated(role);
  }
}
