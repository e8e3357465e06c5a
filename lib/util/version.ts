/**
 * The project's version, from deno.json (embedded in compiled binaries).
 *
 * @module
 */
import denoConfig from "../../deno.json" with { type: "json" };

/** The version in deno.json. */
export const VERSION: string = denoConfig.version;

/** `name version (Deno x.y.z)`, as `--version` prints it. */
export function versionLine(name: string): string {
  return `${name} ${VERSION} (Deno ${Deno.version.deno})`;
}
