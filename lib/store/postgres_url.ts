/**
 * PostgreSQL URLs as `--db` gives them: telling one from a SQLite path, and
 * printing one without its password. Pure, and free of the PostgreSQL
 * client, so a SQLite server never loads it.
 *
 * @module
 */

const POSTGRES_URL = /^postgres(ql)?:\/\//i;

/**
 * Whether `--db` names a PostgreSQL database rather than a SQLite file.
 *
 * @example
 * ```ts
 * isPostgresUrl("postgresql://pedidos@db/pedidos"); // true
 * isPostgresUrl("pedidos.db"); // false
 * ```
 */
export function isPostgresUrl(target: string): boolean {
  return POSTGRES_URL.test(target);
}

/**
 * The database a URL names, for logs: the password, if the URL has one, is
 * never printed.
 *
 * @example
 * ```ts
 * redactUrl("postgres://ana:secreto@db:5432/pedidos"); // "postgres://ana:***@db:5432/pedidos"
 * ```
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.href;
  } catch {
    return url.replace(/:[^:@/]*@/, ":***@");
  }
}
