/**
 * Where `deno compile` finds Deno's slim runtime ("denort"), so that the
 * compile task and its test can tell in advance whether a build can work.
 *
 * @module
 */

/** The targets `deno compile --target` accepts. */
export const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
  "aarch64-pc-windows-msvc",
] as const;

/** The triple of the running platform. */
export function currentTarget(): string {
  return Deno.build.target;
}

/**
 * The runtime archive Deno keeps after downloading it once, if present.
 * Deno caches it under its directory as `dl/release/v<version>/denort-<target>.zip`.
 */
export async function denortCachePath(target?: string): Promise<string | undefined> {
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  if (!info.success) return undefined;
  const { denoDir } = JSON.parse(new TextDecoder().decode(info.stdout)) as { denoDir: string };
  const path = `${denoDir}/dl/release/v${Deno.version.deno}/denort-${
    target ?? currentTarget()
  }.zip`;
  try {
    await Deno.stat(path);
    return path;
  } catch {
    return undefined;
  }
}

/**
 * Why no compile can work here, or `undefined` if a runtime is at hand
 * (`DENORT_BIN` pointing at a file, or a cached download).
 */
export async function missingRuntimeReason(): Promise<string | undefined> {
  const denort = Deno.env.get("DENORT_BIN");
  if (denort) {
    try {
      await Deno.stat(denort);
      return undefined;
    } catch {
      return `DENORT_BIN=${denort} does not exist`;
    }
  }
  if (await denortCachePath()) return undefined;
  return "no Deno slim runtime (denort): DENORT_BIN is unset and none is cached (set DENORT_BIN to build offline)";
}
