/**
 * What the server process gives up once its configuration is known.
 *
 * @module
 */

/**
 * Revokes the environment permission unless a processor is to pass some
 * variables on to its workers (`--processor-allow-env`): the permission set
 * carries it only because a worker can be given nothing its parent lacks, and
 * the server itself reads no variable.
 *
 * @example
 * ```ts ignore
 * dropUnusedEnv([]); // Deno.env.get("HOME") now throws NotCapable
 * ```
 */
export function dropUnusedEnv(envGrants: readonly string[]): void {
  if (envGrants.length === 0) Deno.permissions.revokeSync({ name: "env" });
}
