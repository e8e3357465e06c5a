/**
 * What a processor may do, from the operator's `--processor-allow-*` flags
 * to the `deno.permissions` of the workers that run it. Pure.
 *
 * The workers get exactly the grants and one more thing: read access to
 * the processor's own module file, because Deno checks a worker's read
 * permission when it imports a local file at run time (its static imports
 * too, so a processor split over several files must be granted the others,
 * or be one file). Write, run, FFI and sys stay denied whatever the flags:
 * write would reach the server's own database, a subprocess or native code
 * runs outside Deno's sandbox altogether, and sys tells the host's name,
 * interfaces and memory, which no order needs. Remote imports (`import`)
 * are denied as well.
 *
 * @module
 */

/** The operator's grants, each list as given on the command line (split at commas). */
export interface ProcessorGrants {
  /** `host[:port]` the processor may connect to (IPv6 in brackets); without port, any port. */
  net: readonly string[];
  /** Files or folders (with everything under them) it may read. */
  read: readonly string[];
  /** Environment variables it may read. */
  env: readonly string[];
}

/** No grants at all. */
export const NO_GRANTS: ProcessorGrants = { net: [], read: [], env: [] };

/**
 * The items of a repeatable, comma-separated flag, blanks dropped.
 *
 * @example
 * ```ts
 * splitList(["a.local:80,b.local", " c.local "]); // ["a.local:80", "b.local", "c.local"]
 * ```
 */
export function splitList(values: readonly string[]): string[] {
  return values.flatMap((value) => value.split(",")).map((item) => item.trim()).filter(Boolean);
}

const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::(\d{1,5}))?$/;

/**
 * Why `value` is not a `host[:port]` Deno can grant, or `undefined` if it is.
 *
 * @example
 * ```ts
 * netGrantProblem("api.local:8080"); // undefined
 * netGrantProblem("http://api.local"); // "http://api.local: se espera HOST o HOST:PUERTO ..."
 * ```
 */
export function netGrantProblem(value: string): string | undefined {
  const match = value.match(HOST);
  if (!match) {
    return `${value}: se espera HOST o HOST:PUERTO (IPv6 entre corchetes, sin esquema ni ruta)`;
  }
  const port = match[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) {
    return `${value}: el puerto debe estar entre 1 y 65535`;
  }
  return undefined;
}

/** Why `name` is not an environment variable name, or `undefined` if it is. */
export function envGrantProblem(name: string): string | undefined {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name)
    ? undefined
    : `${name}: no es un nombre de variable de entorno (letras, cifras y _)`;
}

/**
 * The `deno.permissions` of a processor's workers: the grants, read access
 * to the module itself, and nothing else. Every kind is listed, so none is
 * inherited from the server.
 *
 * @param moduleFile absolute path of the processor module
 * @param grants read paths already absolute
 */
export function workerPermissions(
  moduleFile: string,
  grants: ProcessorGrants,
): Deno.PermissionOptionsObject {
  return {
    net: grants.net.length > 0 ? [...grants.net] : false,
    read: [moduleFile, ...grants.read],
    env: grants.env.length > 0 ? [...grants.env] : false,
    write: false,
    run: false,
    ffi: false,
    sys: false,
    import: false,
  };
}

/**
 * What the processor may do, in one line for the start-up log.
 *
 * @example
 * ```ts
 * describeGrants("/srv/procesar.ts", { net: ["api.local:8080"], read: [], env: [] });
 * // "puede conectar con api.local:8080 y leer su propio módulo (/srv/procesar.ts); nada más
 * //  (ni otros hosts, ni otros archivos, ni variables de entorno, ni escribir, ...)"
 * ```
 */
export function describeGrants(moduleFile: string, grants: ProcessorGrants): string {
  const can = [
    grants.net.length > 0 ? `conectar con ${grants.net.join(", ")}` : "",
    grants.read.length > 0 ? `leer ${grants.read.join(", ")}` : "",
    grants.env.length > 0 ? `leer las variables de entorno ${grants.env.join(", ")}` : "",
    `leer su propio módulo (${moduleFile})`,
  ].filter(Boolean);
  const last = can.pop()!;
  const cannot = [
    grants.net.length > 0 ? "otros hosts" : "red",
    "otros archivos",
    grants.env.length > 0 ? "otras variables de entorno" : "variables de entorno",
    "escribir",
    "ejecutar programas",
    "FFI",
    "datos del sistema",
  ];
  return `puede ${can.length > 0 ? `${can.join(", ")} y ${last}` : last}; nada más (ni ${
    cannot.join(", ni ")
  })`;
}
