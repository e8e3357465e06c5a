/**
 * `pedidos-server`: the order server's command line.
 *
 * ```sh
 * deno task server --max 6
 * deno task server stats --db pedidos.db
 * ```
 *
 * @module
 */
import { runMain, usage } from "./lib/util/cli.ts";
import { parseServerArgs, SERVER_FLAGS } from "./lib/server/config.ts";
import { type RunningServer, startServer } from "./lib/server/server.ts";
import {
  DESCRIPTOR_RESERVE,
  descriptorWarning,
  probeFreeDescriptors,
} from "./lib/server/warnings.ts";
import { snapshotFromRows } from "./lib/stats/replay.ts";
import { renderReport } from "./lib/stats/report.ts";
import { isPostgresUrl, openStore } from "./lib/store/open.ts";
import { reportData, reportPage } from "./lib/http/report.ts";
import { versionLine } from "./lib/util/version.ts";
import { createLogger } from "./lib/util/log.ts";
import { ignoreSigusr1 } from "./lib/util/sigusr1.ts";
import { dropUnusedEnv } from "./lib/server/privileges.ts";

export { type RunningServer, startServer } from "./lib/server/server.ts";

const PROGRAM = "pedidos-server";

const HELP_EXTRA = `
Subcomandos:
  stats --db RUTA [--html ARCHIVO]
                    muestra las estadísticas de una base de datos (solo lectura);
                    con --html las escribe además como página autónoma con la línea de tiempo

Señales: SIGINT o SIGTERM apagan el servidor de forma ordenada e imprimen las estadísticas.
SIGHUP, con --tls-cert, vuelve a leer el certificado y la clave sin cortar ninguna conexión;
sin TLS, apaga como SIGTERM.
SIGUSR1 se ignora (Deno abriría con ella un depurador sin autenticación en 127.0.0.1:9229).
Códigos de salida: 0 apagado normal, 1 error al arrancar, 2 uso incorrecto.
`;

async function main(args: string[]): Promise<number> {
  const command = parseServerArgs(args);
  switch (command.kind) {
    case "help":
      console.log(
        usage(
          `${PROGRAM} [stats] [opciones]`,
          "Servidor de pedidos: recibe pedidos JSON por TCP (IPv4 e IPv6), los guarda en SQLite y los procesa en paralelo.",
          SERVER_FLAGS,
          HELP_EXTRA,
        ),
      );
      return 0;
    case "version":
      console.log(versionLine(PROGRAM));
      return 0;
    case "stats": {
      const reader = await openStore(command.db, { readOnly: true });
      try {
        const snapshot = await snapshotFromRows(reader.statsRows());
        console.log(renderReport(snapshot));
        if (command.html !== undefined) {
          const page = reportPage(await reportData(snapshot, reader.statsRows()), command.db);
          await Deno.writeTextFile(command.html, page);
          console.error(`${PROGRAM}: informe HTML escrito en ${command.html}`);
        }
      } finally {
        await reader.close();
      }
      return 0;
    }
    case "serve": {
      const sigusr1 = ignoreSigusr1();
      if (sigusr1) createLogger(command.config.logLevel, "pedidos").warn(sigusr1);
      dropUnusedEnv({
        envGrants: command.config.processor?.grants.env ?? [],
        postgres: isPostgresUrl(command.config.db),
      });
      // Listen for signals before start-up, so that one arriving while the
      // server starts still ends in an orderly shutdown.
      const { promise: signalled, resolve } = Promise.withResolvers<Deno.Signal>();
      // With TLS, SIGHUP is the usual "reload": the certificates are read
      // again. Without, it must not kill the server without drain or report.
      const started = Promise.withResolvers<RunningServer>();
      const reloads = command.config.tls !== undefined;
      const signals: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];
      const handlers = signals.map((signal) => {
        const handler = signal === "SIGHUP" && reloads
          ? () => void started.promise.then((server) => server.reloadTls())
          : () => resolve(signal);
        Deno.addSignalListener(signal, handler);
        return [signal, handler] as const;
      });
      // Measured here rather than in startServer: in-process servers (tests) skip its cost.
      const { maxConnections, logLevel } = command.config;
      const descriptors = descriptorWarning(
        maxConnections,
        probeFreeDescriptors(maxConnections + DESCRIPTOR_RESERVE),
      );
      if (descriptors) createLogger(logLevel, "pedidos").warn(descriptors);
      const server = await startServer(command.config);
      started.resolve(server);
      const signal = await signalled;
      console.error(`${PROGRAM}: ${signal} recibida, apagando…`);
      // Further signals land in the same resolved promise: the drain is
      // already bounded by --drain-ms, so a second signal does not cut it short.
      const summary = await server.shutdown();
      for (const [name, handler] of handlers) Deno.removeSignalListener(name, handler);
      console.log(renderReport(summary.snapshot));
      return 0;
    }
  }
}

if (import.meta.main) await runMain(PROGRAM, () => main(Deno.args));
