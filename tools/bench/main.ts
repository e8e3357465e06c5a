/**
 * `deno task bench`: measures the server end to end on this machine and
 * writes `BENCHMARKS.md`. This module is the command line; the measuring is
 * `measure.ts` (with `children.ts`), the tables `tables.ts` and the words
 * `explain.ts`.
 *
 * ```sh
 * deno task bench            # the full run, a few minutes
 * deno task bench --quick    # smaller counts, for a smoke test
 * ```
 *
 * @module
 */
import { z } from "zod";
import {
  type FlagSpec,
  HELP_FLAG,
  integerFlag,
  parseCommand,
  runMain,
  usage,
} from "../../lib/util/cli.ts";
import type { BenchPlan } from "./figures.ts";
import { runBench, say } from "./measure.ts";
import { renderBenchmarks } from "./tables.ts";

const ROOT = new URL("../../", import.meta.url);

const FLAGS: readonly FlagSpec[] = [
  {
    name: "out",
    type: "string",
    placeholder: "RUTA",
    default: "BENCHMARKS.md",
    description: "archivo en el que escribir los resultados",
  },
  {
    name: "long",
    type: "string",
    placeholder: "N",
    default: "1000000 (100000 con --quick)",
    description: "pedidos de la prueba larga de memoria",
  },
  {
    name: "idle",
    type: "string",
    placeholder: "N",
    default: "5000",
    description: "conexiones inactivas abiertas para medir la memoria",
  },
  {
    name: "quick",
    type: "boolean",
    description: "cantidades reducidas (prueba rápida; las cifras son menos estables)",
  },
  {
    name: "skip-profile",
    type: "boolean",
    description: "no toma perfiles de CPU del servidor",
  },
  HELP_FLAG,
];

const flagsSchema = z.object({
  out: z.string().min(1, { error: "no puede estar vacío" }).optional(),
  long: integerFlag(1000, 10_000_000).optional(),
  idle: integerFlag(1, 15_000).optional(),
  quick: z.boolean().optional(),
  "skip-profile": z.boolean().optional(),
});

function planFrom(args: string[]): BenchPlan | undefined {
  const flags = parseCommand(args, FLAGS, flagsSchema);
  if (!flags) return undefined;
  const quick = flags.quick ?? false;
  return {
    out: flags.out ?? new URL("BENCHMARKS.md", ROOT).pathname,
    quick,
    profile: !(flags["skip-profile"] ?? false),
    pipelineOrders: quick ? 50_000 : 300_000,
    ceilingOrders: quick ? 100_000 : 500_000,
    connectionOrders: quick ? 4000 : 20_000,
    openLoopSeconds: quick ? 2 : 5,
    cpuOrders: quick ? 40 : 120,
    warmOrders: quick ? 10_000 : 30_000,
    longOrders: flags.long ?? (quick ? 100_000 : 1_000_000),
    backlogOrders: quick ? 100_000 : 1_000_000,
    idleConnections: flags.idle ?? 5000,
  };
}

async function main(args: string[]): Promise<number> {
  const plan = planFrom(args);
  if (!plan) {
    console.log(usage(
      "deno task bench [opciones]",
      "Mide el servidor de extremo a extremo en esta máquina y escribe BENCHMARKS.md.",
      FLAGS,
      "\nLa ejecución completa tarda unos minutos; el progreso va a stderr.\n",
    ));
    return 0;
  }
  const document = await runBench(plan);
  await Deno.writeTextFile(plan.out, renderBenchmarks(document));
  // Aligned as `deno fmt` aligns tables, so that `deno task check` stays clean.
  const formatted = await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--quiet", plan.out],
    stdout: "null",
    stderr: "null",
  }).output();
  if (!formatted.success) say(`aviso: deno fmt no pudo formatear ${plan.out}`);
  say(`escrito ${plan.out}`);
  return 0;
}

if (import.meta.main) await runMain("bench", () => main(Deno.args), "deno task bench");
