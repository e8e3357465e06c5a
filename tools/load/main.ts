/**
 * `deno task load`: the load tool's command line. Parses the flags, runs
 * {@linkcode runLoad} (tools/load/run.ts) with progress on stderr, and prints
 * the report (and the verification, with `--verify`) on stdout.
 *
 * ```sh
 * deno task load --mode pipeline -n 100000 -c 8 --depth 64
 * deno task load --mode conexion --rate 2000 --duration 10 --bad 0.05
 * deno task load --mode pipeline -n 50000 --verify pedidos.db --wait-done --json
 * ```
 *
 * @module
 */
import { runMain, usage } from "../../lib/util/cli.ts";
import { readCredentials } from "../../lib/client/credentials.ts";
import { writeAllSync } from "../../lib/util/net.ts";
import { LOAD_FLAGS, type LoadOptions, parseLoadArgs } from "./options.ts";
import { renderProgressBar, renderProgressLine } from "./progress.ts";
import { renderReport } from "./report.ts";
import { type LoadHooks, runLoad } from "./run.ts";
import { renderVerification, verificationPassed } from "./verify.ts";

const encoder = new TextEncoder();

async function main(args: string[]): Promise<number> {
  const command = parseLoadArgs(args);
  if (command.kind === "help") {
    console.log(usage("deno task load [opciones]", SUMMARY, LOAD_FLAGS, HELP_EXTRA));
    return 0;
  }
  const options: LoadOptions = {
    ...command.options,
    ...await readCredentials(command.credentials),
  };
  const terminal = Deno.stderr.isTerminal();
  const hooks: LoadHooks = {};
  if (!options.quiet) {
    hooks.progressIntervalMs = terminal ? 200 : 2000;
    hooks.onProgress = (sample) => {
      if (terminal) writeErr(`\r${renderProgressBar(sample)}\x1b[K`);
      else writeErr(`${renderProgressLine(sample)}\n`);
    };
    hooks.onWait = (unfinished) => {
      const text = `esperando a que terminen: ${unfinished} sin terminar`;
      writeErr(terminal ? `\r${text}\x1b[K` : `${text}\n`);
    };
  }
  const report = await runLoad(options, hooks);
  if (!options.quiet && terminal) writeErr("\n");
  if (options.json) console.log(JSON.stringify(report, null, 2));
  else {
    console.log(renderReport(report));
    if (report.verification) console.log(renderVerification(report.verification));
  }
  const verified = report.verification ? verificationPassed(report.verification) : true;
  return verified && report.errorsTotal === 0 && report.unexpected === 0 && !report.aborted ? 0 : 1;
}

const SUMMARY =
  "Prueba de carga para cualquier servidor que hable el protocolo de pedidos: envía pedidos " +
  "(en lazo cerrado con -n, o abierto con --rate), mide latencias y, con --verify, comprueba " +
  "la base de datos.";

const HELP_EXTRA = `
Lazo cerrado: -n pedidos, tan rápido como llegan las respuestas, con -c conexiones
(y --depth pedidos en vuelo por conexión en modo pipeline).
Lazo abierto: --rate llegadas por segundo durante --duration segundos; la latencia
se mide desde la hora programada de cada pedido, así un servidor detenido no se oculta.
El informe va a stdout (--json para máquinas); el progreso, a stderr.
Códigos de salida: 0 todo respondido como se esperaba (y verificado), 1 errores,
respuestas inesperadas o verificación fallida, 2 uso incorrecto.
`;

function writeErr(text: string) {
  writeAllSync(Deno.stderr, encoder.encode(text));
}

if (import.meta.main) await runMain("carga", () => main(Deno.args), "deno task load");
