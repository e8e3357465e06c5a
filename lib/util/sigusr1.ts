/**
 * Keeps SIGUSR1 from opening a debugger inside the server.
 *
 * Since Deno 2.9.2 a process started with `deno run` answers SIGUSR1 by
 * opening a V8 inspector on 127.0.0.1:9229 (denoland/deno#35738). It asks for
 * no credentials, so any local user who connects runs code inside the process
 * with its permissions. Deno has no flag or environment variable to turn this
 * off, and a listener added with `Deno.addSignalListener` runs beside Deno's own
 * rather than instead of it. What does stop it is asking the kernel to discard
 * the signal (`SIG_IGN`), which only libc can do: hence FFI, used once at
 * start-up and then revoked.
 *
 * @module
 */

/** `SIG_IGN` in `<signal.h>` on Linux and macOS: the handler value 1. */
const SIG_IGN = 1n;
/** What `signal()` returns on failure (`SIG_ERR`, that is -1). */
const SIG_ERR = -1n;

/** Where libc's `signal()` lives and SIGUSR1's number, for one operating system. */
export interface LibcSignal {
  library: string;
  sigusr1: number;
}

/**
 * How to reach `signal()` on `os`: `null` where there is no SIGUSR1 (Windows),
 * `undefined` where this module does not know.
 *
 * @example
 * ```ts
 * libcSignal("linux"); // { library: "libc.so.6", sigusr1: 10 }
 * ```
 */
export function libcSignal(os: typeof Deno.build.os): LibcSignal | null | undefined {
  switch (os) {
    case "linux":
      return { library: "libc.so.6", sigusr1: 10 };
    case "darwin":
      return { library: "/usr/lib/libSystem.B.dylib", sigusr1: 30 };
    case "windows":
      return null;
    default:
      return undefined;
  }
}

/** The first call's result: the disposition and the revocation last for the life of the process. */
let outcome: { warning: string | undefined } | undefined;

/**
 * Makes this process ignore SIGUSR1, then revokes the FFI permission that
 * takes, as nothing else needs it. Only the first call does anything; later
 * ones return its result.
 *
 * @returns `undefined` when SIGUSR1 can no longer open the inspector (or the
 * platform has no SIGUSR1); otherwise one line saying why not, for the log.
 */
export function ignoreSigusr1(): string | undefined {
  outcome ??= { warning: ignoreOnce() };
  return outcome.warning;
}

function ignoreOnce(): string | undefined {
  const target = libcSignal(Deno.build.os);
  if (target === null) return undefined;
  const exposed = "SIGUSR1 abriría un depurador sin autenticación en 127.0.0.1:9229";
  if (target === undefined) return `${exposed}: no se sabe ignorarla en ${Deno.build.os}`;
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
    return `${exposed}: falta el permiso --allow-ffi para ignorarla (véase docs/security.md, «SIGUSR1 and Deno's debugger»)`;
  }
  // Deno installs its process-wide handler for a signal when the first
  // listener for it comes, and never again. Listening once now makes that
  // happen before SIG_IGN is set, so the listener Deno adds for the inspector
  // (half a second after start) cannot put a handler back.
  const listener = () => {};
  Deno.addSignalListener("SIGUSR1", listener);
  Deno.removeSignalListener("SIGUSR1", listener);
  try {
    const libc = Deno.dlopen(target.library, {
      signal: { parameters: ["i32", "usize"], result: "isize" },
    });
    try {
      const previous = libc.symbols.signal(target.sigusr1, SIG_IGN);
      return BigInt(previous) === SIG_ERR ? `${exposed}: signal() falló` : undefined;
    } finally {
      libc.close();
    }
  } catch (error) {
    return `${exposed}: ${error instanceof Error ? error.message.split("\n")[0] : error}`;
  } finally {
    Deno.permissions.revokeSync({ name: "ffi" });
  }
}
