/**
 * The permission sets declared in deno.json, as `deno run` flags: tests, the
 * soak and the bench start child processes with exactly the permissions the
 * `deno task` of the same program grants, without writing them again.
 * Explicit flags rather than `-P=NAME`, so that a child's stderr carries no
 * warning about the config file's permissions.
 *
 * @module
 */
import denoConfig from "../deno.json" with { type: "json" };

/** One permission in a set: granted, granted for a list, or split into allow and deny. */
export type PermissionValue =
  | boolean
  | string[]
  | { allow?: boolean | string[]; deny?: boolean | string[] };

/**
 * Turns a permission set into `deno run` flags.
 *
 * @example
 * ```ts
 * permissionFlags({ net: true, env: ["PEDIDOS_HOST"] });
 * // ["--allow-net", "--allow-env=PEDIDOS_HOST"]
 * ```
 * @throws {TypeError} on a value that is not a boolean, a list or an allow/deny pair
 */
export function permissionFlags(set: Record<string, PermissionValue>): string[] {
  const flags: string[] = [];
  for (const [name, value] of Object.entries(set)) {
    if (typeof value === "boolean" || Array.isArray(value)) {
      flags.push(...flag("allow", name, value));
    } else if (typeof value === "object" && value !== null) {
      flags.push(...flag("allow", name, value.allow), ...flag("deny", name, value.deny));
    } else {
      throw new TypeError(`permiso ${name} con un valor no admitido: ${JSON.stringify(value)}`);
    }
  }
  return flags;
}

function flag(kind: "allow" | "deny", name: string, value: boolean | string[] | undefined) {
  if (value === undefined || value === false) return [];
  if (value === true) return [`--${kind}-${name}`];
  if (Array.isArray(value) && value.every((item) => typeof item === "string")) {
    return value.length === 0 ? [] : [`--${kind}-${name}=${value.join(",")}`];
  }
  throw new TypeError(`permiso ${name} con un valor no admitido: ${JSON.stringify(value)}`);
}

const SETS = denoConfig.permissions as Record<string, Record<string, PermissionValue>>;

/**
 * The flags for a permission set deno.json declares.
 *
 * @example
 * ```ts
 * permissionSet("client"); // ["--allow-net", "--allow-read", "--allow-env=PEDIDOS_HOST,PEDIDOS_PORT"]
 * ```
 * @throws {RangeError} if deno.json declares no such set
 */
export function permissionSet(name: string): string[] {
  const set = SETS[name];
  if (!set) throw new RangeError(`deno.json no declara el conjunto de permisos ${name}`);
  return permissionFlags(set);
}
