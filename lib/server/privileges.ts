/**
 * What the server process gives up once its configuration is known.
 *
 * @module
 */

/**
 * Revokes the environment permission unless something needs it: a processor
 * that is to pass variables on to its workers (`--processor-allow-env`: a
 * worker can be given nothing its parent lacks), or a PostgreSQL store, whose
 * client reads libpq's `PG*` variables. The server itself reads no variable.
 *
 * @example
 * ```ts ignore
 * dropUnusedEnv({ envGrants: [], postgres: false }); // Deno.env.get("HOME") now throws NotCapable
 * ```
 */
export function dropUnusedEnv(needs: { envGrants: readonly string[]; postgres: boolean }): void {
  if (needs.envGrants.length === 0 && !needs.postgres) {
    Deno.permissions.revokeSync({ name: "env" });
  }
}
