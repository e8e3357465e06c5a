/**
 * `deno task compile`: builds the single-file executables `dist/pedidos-server`
 * and `dist/pedidos-client` with `deno compile`, each with the permission set
 * deno.json declares for it (the same one the `server` and `client` tasks run
 * with) and the unstable features deno.json lists.
 *
 * `deno compile` needs Deno's slim runtime ("denort"): downloaded on first use
 * from Deno's release host, or taken from `DENORT_BIN`. Where neither works,
 * this says so in one line.
 *
 * A compiled program can import only the modules embedded in it, so a shop's
 * processor is embedded at build time: `--processor FILE` includes the
 * module in `pedidos-server` and makes `--processor` (relative to the
 * embedded project) one of the executable's own arguments.
 *
 * @module
 */
import { relative, resolve } from "node:path";
import { z } from "zod";
import { HELP_FLAG, parseCommand, runMain, usage } from "../../lib/util/cli.ts";
import { denortCachePath, TARGETS } from "./runtime.ts";

/** One executable to build. */
export interface Executable {
  name: string;
  entry: string;
  permissionSet: string;
  include: string[];
  /** Whether `--processor` embeds a processor in it. */
  takesProcessor: boolean;
}

/** What gets built: the server embeds its worker module so workers start from the binary. */
export const EXECUTABLES: readonly Executable[] = [
  {
    name: "pedidos-server",
    entry: "server.ts",
    permissionSet: "server",
    include: ["worker.ts"],
    takesProcessor: true,
  },
  {
    name: "pedidos-client",
    entry: "client.ts",
    permissionSet: "client",
    include: [],
    takesProcessor: false,
  },
];

const FLAGS = [
  {
    name: "target",
    type: "string",
    placeholder: "TRIPLE",
    default: "la plataforma actual",
    description: `plataforma de destino: ${TARGETS.join(", ")}`,
  },
  {
    name: "out",
    type: "string",
    placeholder: "DIR",
    default: "dist",
    description: "carpeta de salida",
  },
  {
    name: "processor",
    type: "string",
    placeholder: "ARCHIVO",
    description:
      "incluye este procesador en pedidos-server, que lo usará siempre (véase --processor)",
  },
  HELP_FLAG,
] as const;

const flagsSchema = z.object({
  target: z.enum(TARGETS, { error: `debe ser uno de: ${TARGETS.join(", ")}` }).optional(),
  out: z.string().min(1).optional(),
  processor: z.string().min(1, { error: "no puede estar vacío" }).optional(),
});

/** A processor to embed: the file to include, and `--processor` as the executable will see it. */
export interface EmbeddedProcessor {
  /** Absolute path of the module. */
  include: string;
  /** Its path relative to the project root, which is where the executable looks. */
  argument: string;
}

/**
 * Where a processor given to the compile task is, for `--include`, and for
 * the server inside the executable.
 *
 * @example
 * ```ts
 * embeddedProcessor("tienda/procesar.ts", { cwd: "/srv", root: "/srv/pedidos" });
 * // { include: "/srv/tienda/procesar.ts", argument: "../tienda/procesar.ts" }
 * ```
 */
export function embeddedProcessor(
  file: string,
  where: { cwd: string; root: string },
): EmbeddedProcessor {
  const include = resolve(where.cwd, file);
  return { include, argument: relative(where.root, include) };
}

/**
 * The `deno compile` command line for one executable and the file it writes.
 * A processor goes only into an executable that takes one.
 */
export function compileArgs(
  executable: Executable,
  options: {
    out: string;
    target?: string | undefined;
    processor?: EmbeddedProcessor | undefined;
    /** Folders not to embed (see `unembeddable`). */
    exclude?: readonly string[];
  },
): { args: string[]; output: string } {
  const { out, target } = options;
  const processor = executable.takesProcessor ? options.processor : undefined;
  const suffix = target?.includes("windows") ? ".exe" : "";
  const output = `${out}/${executable.name}${suffix}`;
  const include = [...executable.include, ...(processor ? [processor.include] : [])];
  const args = [
    "compile",
    // -q: errors only, without the warning that deno.json permission sets are
    // experimental, so a failure's stderr holds just what went wrong.
    "-q",
    `--permission-set=${executable.permissionSet}`,
    ...include.flatMap((file) => ["--include", file]),
    ...(options.exclude ?? []).flatMap((folder) => ["--exclude", folder]),
    ...(target ? ["--target", target] : []),
    "--output",
    output,
    executable.entry,
    // Arguments after the entry are embedded: the executable always gets them first.
    ...(processor ? ["--processor", processor.argument] : []),
  ];
  return { args, output };
}

class CompileError extends Error {
  override name = "CompileError";
}

const ROOT = new URL("../../", import.meta.url);

/**
 * Folders under node_modules that `deno compile` must not embed. bintrees
 * (which prom-client uses) ships test data without an extension that Deno
 * 2.9.6's compile parses as JavaScript: one 100,000-line chain of
 * subtractions, on which its parser overflows the stack. The folder's name
 * carries the installed version, so it is looked up once node_modules is set
 * up (`deno install`, from the cache when it can).
 */
async function unembeddable(): Promise<string[]> {
  const install = await new Deno.Command(Deno.execPath(), {
    args: ["install", "--quiet"],
    cwd: ROOT.pathname,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!install.success) throw new CompileError(explain(new TextDecoder().decode(install.stderr)));
  const folders: string[] = [];
  for await (const entry of Deno.readDir(new URL("node_modules/.deno/", ROOT))) {
    if (entry.name.startsWith("bintrees@")) {
      folders.push(`node_modules/.deno/${entry.name}/node_modules/bintrees/test`);
    }
  }
  return folders;
}

async function compile(
  executable: Executable,
  options: {
    out: string;
    target: string | undefined;
    processor: EmbeddedProcessor | undefined;
    exclude: readonly string[];
  },
) {
  const { target } = options;
  const { args, output } = compileArgs(executable, options);
  const result = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT.pathname,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  if (!result.success) {
    throw new CompileError(explain(new TextDecoder().decode(result.stderr), target));
  }
  const { size } = await Deno.stat(new URL(output, ROOT));
  return { output, size };
}

/** Turns deno compile's multi-line failure into one line that says what to do. */
function explain(stderr: string, target?: string): string {
  const denort = Deno.env.get("DENORT_BIN");
  if (denort && /No such file or directory|not found/i.test(stderr)) {
    return `DENORT_BIN=${denort} no existe o no se puede leer`;
  }
  if (/denort|dl\.deno\.land|error sending request|dns error/i.test(stderr)) {
    return `no se pudo obtener el runtime de Deno (denort) para ${
      target ?? "esta plataforma"
    }: sin acceso a su servidor de descargas; descargue denort y defina DENORT_BIN=/ruta/a/denort (véase docs/install.md)`;
  }
  const firstError = stderr.split("\n").find((line) => /error/i.test(line))?.trim();
  return firstError ?? "deno compile falló";
}

async function main(args: string[]) {
  const flags = parseCommand(args, FLAGS, flagsSchema);
  if (!flags) {
    console.log(usage(
      "deno task compile [--target TRIPLE] [--out DIR] [--processor ARCHIVO]",
      "Compila dist/pedidos-server y dist/pedidos-client. Sin acceso a internet, defina DENORT_BIN.",
      FLAGS,
    ));
    return;
  }
  const { target, out = "dist" } = flags;
  // `deno task` runs this from the project root; a relative path is the caller's.
  const processor = flags.processor === undefined ? undefined : embeddedProcessor(flags.processor, {
    cwd: Deno.env.get("INIT_CWD") ?? Deno.cwd(),
    root: ROOT.pathname,
  });
  if (processor && !(await isFile(processor.include))) {
    throw new CompileError(`--processor: ${processor.include} no existe o no es un archivo`);
  }
  const cached = await denortCachePath(target);
  if (!Deno.env.get("DENORT_BIN") && cached) console.error(`usando el runtime en caché ${cached}`);
  const exclude = await unembeddable();
  for (const executable of EXECUTABLES) {
    console.error(`compilando ${executable.name}${target ? ` para ${target}` : ""}…`);
    const { output, size } = await compile(executable, { out, target, processor, exclude });
    console.log(`✓ ${output} (${(size / 1024 / 1024).toFixed(1)} MiB)`);
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

if (import.meta.main) await runMain("compile", () => main(Deno.args), "deno task compile");
