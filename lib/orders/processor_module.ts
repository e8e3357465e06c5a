/**
 * Getting the shop's processor ready at start-up: where its module is, the
 * permissions its workers get, and one trial load in such a worker, so that
 * a module that cannot run (a syntax error, no default export, a throw at
 * import, a permission the server itself lacks) stops the server before it
 * listens, with one line saying why.
 *
 * @module
 */
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type WorkerFactory, workerWith } from "./pool.ts";
import {
  describeGrants,
  type ProcessorGrants,
  workerPermissions,
} from "./processor_permissions.ts";
import type { LoadReply, LoadRequest } from "./run_processor.ts";

/** The processor module, as a path (for the read permission) and as the URL to import. */
export interface ProcessorModule {
  path: string;
  url: string;
}

/** Where the program runs from. */
export interface ProgramPlace {
  /** Whether this is a `deno compile` executable (`Deno.build.standalone`). */
  standalone: boolean;
  /** The working directory. */
  cwd: string;
  /** The project's root folder, as the running code sees it. */
  codeRoot: URL;
}

/** The project root, from this module. */
export const CODE_ROOT = new URL("../../", import.meta.url);

/**
 * Finds the `--processor` module. From source, a relative path is relative
 * to the working directory. A compiled executable can only import modules
 * embedded in it, and `deno task compile --processor FILE` embeds the
 * module and passes its path relative to the project, so there a relative
 * path is relative to the embedded project root.
 *
 * @example
 * ```ts
 * locateProcessor("procesar.ts", { standalone: false, cwd: "/srv", codeRoot });
 * // { path: "/srv/procesar.ts", url: "file:///srv/procesar.ts" }
 * ```
 */
export function locateProcessor(file: string, place: ProgramPlace): ProcessorModule {
  const base = place.standalone ? fileURLToPath(place.codeRoot) : place.cwd;
  const path = resolve(base, file);
  return { path, url: pathToFileURL(path).href };
}

/** A processor ready for the pool. */
export interface PreparedProcessor {
  /** The module's URL, for the workers to import. */
  url: string;
  /** The `deno.permissions` of its workers. */
  permissions: Deno.PermissionOptionsObject;
  /** What it is and may do, for the start-up log. */
  summary: string;
}

/** What {@linkcode prepareProcessor} needs besides the flags. */
export interface PrepareOptions {
  place: ProgramPlace;
  /** The worker module the pool runs. */
  workerUrl: URL;
  /** How long the trial load may take. */
  timeoutMs: number;
  /** Creates the trial worker from the permissions; by default, as the pool would. */
  createWorker?: (permissions: Deno.PermissionOptionsObject) => WorkerFactory;
}

/**
 * Locates the module, works out its workers' permissions, and loads it
 * once in such a worker.
 *
 * @throws {Error} with a one-line message if the module cannot be loaded and run
 */
export async function prepareProcessor(
  file: string,
  grants: ProcessorGrants,
  options: PrepareOptions,
): Promise<PreparedProcessor> {
  const module = locateProcessor(file, options.place);
  const absolute = { ...grants, read: grants.read.map((path) => resolve(options.place.cwd, path)) };
  const permissions = workerPermissions(module.path, absolute);
  try {
    await loadOnce(module.url, (options.createWorker ?? workerWith)(permissions), options);
  } catch (error) {
    if (options.place.standalone && /Module not found/.test(String(error))) {
      throw new Error(
        `${(error as Error).message} (un ejecutable compilado solo carga el procesador ` +
          "incluido al compilarlo: deno task compile --processor ARCHIVO)",
      );
    }
    throw error;
  }
  return {
    url: module.url,
    permissions,
    summary: `procesador ${module.path}: ${describeGrants(module.path, absolute)}`,
  };
}

async function loadOnce(url: string, createWorker: WorkerFactory, options: PrepareOptions) {
  let worker: Worker;
  try {
    worker = createWorker(options.workerUrl);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(
      /escalate/i.test(message)
        ? "el procesador no puede recibir un permiso que el propio servidor no tiene (p. ej. --allow-env para --processor-allow-env)"
        : `no se pudo crear el worker del procesador: ${message}`,
    );
  }
  const { promise, resolve, reject } = Promise.withResolvers<LoadReply>();
  const timer = setTimeout(
    () => reject(new Error(`el procesador no terminó de cargarse en ${options.timeoutMs} ms`)),
    options.timeoutMs,
  );
  worker.onmessage = (event: MessageEvent<LoadReply>) => resolve(event.data);
  worker.onerror = (event) => {
    event.preventDefault();
    reject(new Error(`el worker del procesador falló: ${event.message}`));
  };
  try {
    worker.postMessage({ cargarProcesador: url } satisfies LoadRequest);
    const reply = await promise;
    if ("errorDeCarga" in reply) throw new Error(reply.errorDeCarga);
  } finally {
    clearTimeout(timer);
    worker.terminate();
  }
}
