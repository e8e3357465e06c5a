/**
 * A throwaway PostgreSQL for tests, the cluster demo and the bench: `initdb` into a temporary
 * folder, a free port on 127.0.0.1, trust authentication, removed when disposed.
 *
 * Uses Debian's `postgresql` package (`/usr/lib/postgresql/<version>/bin`). `initdb` refuses to
 * run as root, so as root every server command runs as the `postgres` user through `runuser`.
 *
 * @example
 * ```ts ignore
 * import { startThrowawayPostgres } from "./throwaway.ts";
 *
 * await using pg = await startThrowawayPostgres();
 * console.log(pg.url); // postgres://postgres@127.0.0.1:41234/postgres
 * ```
 *
 * @module
 */

const BIN_ROOT = "/usr/lib/postgresql";

/** A running throwaway PostgreSQL; disposing it stops the server and deletes its folder. */
export interface ThrowawayPostgres extends AsyncDisposable {
  /** Connection URL for the `postgres` superuser, e.g. `postgres://postgres@127.0.0.1:5433/postgres`. */
  readonly url: string;
  /** The TCP port on 127.0.0.1. */
  readonly port: number;
  /** Stops the server: `immediate` is a crash (no checkpoint), `fast` a clean shutdown. */
  stop(mode?: "fast" | "immediate"): Promise<void>;
  /** Starts the server again on the same port and data folder. */
  start(): Promise<void>;
  /**
   * Stops the server at once and deletes its folder, synchronously: for an
   * `unload` handler, where nothing asynchronous runs any more.
   */
  disposeSync(): void;
}

/**
 * Why a throwaway PostgreSQL cannot be started here, or `undefined` when it can.
 *
 * @example
 * ```ts ignore
 * Deno.test({ name: "…", ignore: postgresUnavailable() !== undefined, fn: async () => {} });
 * ```
 */
export function postgresUnavailable(): string | undefined {
  return findBinDir() === undefined
    ? `PostgreSQL no está instalado (no hay ${BIN_ROOT}/<versión>/bin/initdb; apt-get install -y postgresql)`
    : undefined;
}

function findBinDir(): string | undefined {
  try {
    const versions = [...Deno.readDirSync(BIN_ROOT)]
      .map((entry) => entry.name)
      .filter((name) => /^\d+$/.test(name))
      .sort((a, b) => Number(b) - Number(a));
    for (const version of versions) {
      const bin = `${BIN_ROOT}/${version}/bin`;
      try {
        Deno.statSync(`${bin}/initdb`);
        return bin;
      } catch {
        // this version lacks the server binaries; try the next
      }
    }
  } catch {
    // no PostgreSQL at all
  }
  return undefined;
}

/** Options of {@linkcode startThrowawayPostgres}. */
export interface ThrowawayOptions {
  /**
   * Extra server settings (`-c name=value`), e.g. `{ max_connections: "200" }`.
   * @default {}
   */
  settings?: Record<string, string>;
}

/**
 * Creates, starts and returns a throwaway PostgreSQL on a free port of 127.0.0.1.
 *
 * @throws {Error} when PostgreSQL is not installed or does not start (the message carries its log).
 */
export async function startThrowawayPostgres(
  options: ThrowawayOptions = {},
): Promise<ThrowawayPostgres> {
  const bin = findBinDir();
  if (bin === undefined) throw new Error(postgresUnavailable());
  const asRoot = Deno.uid() === 0;
  const folder = await Deno.makeTempDir({ prefix: "pedidos-pg-" });
  await Deno.chmod(folder, 0o755);
  const data = `${folder}/data`;
  await Deno.mkdir(data, { mode: 0o700 });
  if (asRoot) await chownToPostgres(data);
  const port = freePort();
  const settings = {
    listen_addresses: "127.0.0.1",
    unix_socket_directories: data,
    max_connections: "100",
    ...options.settings,
  };
  const serverOptions = [`-p ${port}`, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`)]
    .join(" ");

  const command = (tool: string, args: string[]) =>
    asRoot
      ? new Deno.Command("runuser", { args: ["-u", "postgres", "--", `${bin}/${tool}`, ...args] })
      : new Deno.Command(`${bin}/${tool}`, { args });
  const run = async (tool: string, args: string[]) => {
    const output = await command(tool, args).output();
    if (!output.success) {
      const log = await Deno.readTextFile(`${data}/server.log`).catch(() => "");
      const stderr = new TextDecoder().decode(output.stderr).trim();
      throw new Error(`${tool} falló: ${stderr}${log ? `\n${log.trim()}` : ""}`);
    }
  };
  const start = () =>
    run("pg_ctl", ["-D", data, "-o", serverOptions, "-l", `${data}/server.log`, "-w", "start"]);
  const stop = (mode: "fast" | "immediate" = "fast") =>
    run("pg_ctl", ["-D", data, "-m", mode, "-w", "stop"]);

  try {
    await run("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
    await start();
  } catch (error) {
    await Deno.remove(folder, { recursive: true }).catch(() => {});
    throw error;
  }
  let running = true;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async stop(mode) {
      await stop(mode);
      running = false;
    },
    async start() {
      await start();
      running = true;
    },
    async [Symbol.asyncDispose]() {
      if (running) await stop("immediate").catch(() => {});
      await Deno.remove(folder, { recursive: true });
    },
    disposeSync() {
      if (running) {
        command("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]).outputSync();
        running = false;
      }
      Deno.removeSync(folder, { recursive: true });
    },
  };
}

async function chownToPostgres(path: string): Promise<void> {
  const output = await new Deno.Command("chown", { args: ["postgres", path] }).output();
  if (!output.success) {
    throw new Error(
      `no se pudo dar ${path} al usuario postgres: ${new TextDecoder().decode(output.stderr)}`,
    );
  }
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}
