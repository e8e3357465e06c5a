/**
 * `pedidos-soak`: a bounded soak of the order server. Starts a server child
 * on a temporary database, drives mixed valid and invalid load from several
 * connections with random disconnects and periodic worker faults, samples
 * the child's resident memory and open descriptors, and at the end checks the
 * database against every acknowledgement: `lost: 0, duplicated: 0`.
 *
 * ```sh
 * deno task soak               # 2 minutes
 * deno task soak --minutes 10 --seed 7
 * ```
 *
 * Worker faults need a worker that fails on request, which the server's
 * command line does not offer (rightly). So by default the child is this
 * same file in `servir` mode: the server's own `startServer` with the
 * server's own flag parsing, only the worker module swapped for
 * `tools/soak/worker.ts` (still sandboxed, no permissions). `--sin-fallos`
 * soaks the unmodified `server.ts` instead, without worker faults.
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
  UsageError,
} from "../../lib/util/cli.ts";
import { parseServerArgs } from "../../lib/server/config.ts";
import { createLogger } from "../../lib/util/log.ts";
import { startServer } from "../../lib/server/server.ts";
import { ignoreSigusr1 } from "../../lib/util/sigusr1.ts";
import { memoryTrend, soakFailures, type SoakLedger, verifyLedger } from "./verify.ts";
import { listIds } from "../ledger.ts";
import { permissionSet } from "../permissions.ts";
import { processUsage } from "../proc.ts";
import { renderReport } from "../../lib/stats/report.ts";
import { seededRandom } from "../../lib/util/random.ts";
import { writeAll } from "../../lib/util/net.ts";
import { LineReader } from "../../lib/wire/lines.ts";
import { withReader } from "../../lib/store/open.ts";
import { sqliteIntegrityCheck } from "../../lib/store/sqlite.ts";

const PROGRAM = "pedidos-soak";
const ROOT = new URL("../../", import.meta.url);
const SOAK_WORKER = new URL("./worker.ts", import.meta.url);

const FLAGS: readonly FlagSpec[] = [
  {
    name: "minutes",
    type: "string",
    placeholder: "N",
    default: "2",
    description: "duración de la carga, en minutos (admite decimales)",
  },
  {
    name: "connections",
    type: "string",
    placeholder: "N",
    default: "8",
    description: "clientes simultáneos",
  },
  {
    name: "seed",
    type: "string",
    placeholder: "N",
    default: "aleatoria",
    description: "semilla de la carga, para repetir una ejecución",
  },
  {
    name: "sin-fallos",
    type: "boolean",
    description: "usa server.ts tal cual, sin fallos de worker provocados",
  },
  HELP_FLAG,
];

const flagsSchema = z.object({
  minutes: z.string().regex(/^\d+(\.\d+)?$/, { error: "debe ser un número de minutos" })
    .transform(Number)
    .pipe(z.number().positive({ error: "debe ser mayor que 0" }).max(24 * 60))
    .optional(),
  connections: integerFlag(1, 1000).optional(),
  seed: integerFlag(0, 2 ** 32 - 1).optional(),
  "sin-fallos": z.boolean().optional(),
});

/** What a soak run is asked to do. */
export interface SoakOptions {
  minutes: number;
  connections: number;
  seed: number;
  faults: boolean;
  /** Where progress and the summary go. */
  print: (line: string) => void;
}

/** Flags for the server child: small work, short timeouts, so faults are frequent and cheap. */
function serverFlags(db: string): string[] {
  return [
    "--db",
    db,
    "--port",
    "0",
    "--host",
    "127.0.0.1",
    "--work-ms",
    "2",
    "--workers",
    "3",
    "--max",
    "500",
    "--timeout-ms",
    "500",
    "--retries",
    "1",
    "--idle-ms",
    "5000",
    "--drain-ms",
    "2000",
  ];
}

/**
 * The faults the soak worker provokes, by `cliente` prefix (see tools/soak/worker.ts).
 * Not `cuelga:` (a hang that never ends): Deno's `Worker.terminate()` cannot
 * stop a thread that never yields, so each such hang would keep its thread
 * until the process ends (docs/reliability.md). `tarda:`
 * overruns the timeout and then ends, as a slow real worker would.
 */
const FAULT_PREFIXES = ["lanza:", "lanza-async:", "tarda:", "cierra:", "otro-id:"];

// ---------------------------------------------------------------------------
// Small plumbing

/** The soak reports memory in MiB, as memoryTrend does. */
const MB = 1024 * 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const encoder = new TextEncoder();

/** A line-oriented connection with a read deadline. */
class Line {
  readonly conn: Deno.TcpConn;
  readonly #lines: LineReader;

  constructor(conn: Deno.TcpConn) {
    this.conn = conn;
    this.#lines = new LineReader(conn);
  }

  async write(text: string | Uint8Array): Promise<void> {
    await writeAll(this.conn, typeof text === "string" ? encoder.encode(text) : text);
  }

  /**
   * The next line parsed as JSON (`{ ilegible }` if it is not JSON); null if
   * the server closed or said nothing for `timeoutMs`.
   */
  async read(timeoutMs = 30_000): Promise<Record<string, unknown> | null> {
    const timer = setTimeout(() => this.close(), timeoutMs);
    let line: string | null;
    try {
      line = await this.#lines.readLine();
    } catch {
      return null;
    } finally {
      clearTimeout(timer);
    }
    if (line === null) return null;
    try {
      return JSON.parse(line);
    } catch {
      // Not JSON (or cut by a close): the callers report it as a wrong answer.
      return { ilegible: line };
    }
  }

  close() {
    try {
      this.conn.close();
    } catch {
      // Already closed.
    }
  }
}

// ---------------------------------------------------------------------------
// The load

interface Counters {
  replies: Map<string, number>;
  faultsSent: number;
  disconnects: number;
  /** Wrong answers: a reply that contradicts the protocol (should stay 0). */
  wrong: string[];
  /** Connections the server closed or stopped answering unexpectedly. */
  cut: number;
}

const INVALID_MESSAGES: [string | Uint8Array, string][] = [
  ["hola servidor\n", "json_invalido"],
  ['{"cliente": 1, "productos": ["pan"], "direccion": "x"}\n', "pedido_invalido"],
  ['{"cliente": "Ana", "productos": [], "direccion": "x"}\n', "pedido_invalido"],
  [
    '{"cliente": "Ana", "productos": ["pan"], "direccion": "x", "__proto__": {"a": 1}}\n',
    "pedido_invalido",
  ],
  ['{"cliente": "A\\u001b[2J", "productos": ["pan"], "direccion": "x"}\n', "pedido_invalido"],
  [`{"x": ${"[".repeat(40)}${"]".repeat(40)}}\n`, "json_invalido"],
  ['{"tipo": "estado", "id": 1e400}\n', "pedido_invalido"],
  [
    new Uint8Array([...encoder.encode('{"cliente": "'), 0xff, ...encoder.encode('"}\n')]),
    "json_invalido",
  ],
];

class Load {
  readonly ledger: SoakLedger = { sent: new Set(), acked: new Map(), faulty: new Set() };
  readonly counters: Counters = {
    replies: new Map(),
    faultsSent: 0,
    disconnects: 0,
    wrong: [],
    cut: 0,
  };
  readonly #port: number;
  readonly #faults: boolean;
  readonly #deadline: number;
  #serial = 0;

  constructor(port: number, faults: boolean, deadline: number) {
    this.#port = port;
    this.#faults = faults;
    this.#deadline = deadline;
  }

  #count(reply: Record<string, unknown>) {
    const key = reply.ok ? "ok" : String(reply.codigo);
    this.counters.replies.set(key, (this.counters.replies.get(key) ?? 0) + 1);
  }

  #wrong(what: string) {
    if (this.counters.wrong.length < 20) this.counters.wrong.push(what);
  }

  /** One client: sessions of random actions until the deadline. */
  async client(index: number, random: () => number): Promise<void> {
    const mine: { tag: string; id: number; clave?: string }[] = [];
    while (Date.now() < this.#deadline) {
      let line: Line;
      try {
        line = new Line(await Deno.connect({ hostname: "127.0.0.1", port: this.#port }));
      } catch {
        await sleep(100);
        continue;
      }
      try {
        const greeting = await line.read();
        if (greeting?.tipo !== "bienvenida") {
          if (greeting) this.#count(greeting);
          await sleep(50);
          continue;
        }
        const actions = 1 + Math.floor(random() * 200);
        for (let a = 0; a < actions && Date.now() < this.#deadline; a++) {
          if (!(await this.#act(index, line, random, mine))) break;
        }
      } finally {
        line.close();
      }
    }
  }

  /** One action; false ends the session (disconnect, or the server closed it). */
  async #act(
    index: number,
    line: Line,
    random: () => number,
    mine: { tag: string; id: number; clave?: string }[],
  ): Promise<boolean> {
    const roll = random();
    if (roll < 0.55) return await this.#orders(index, line, random, mine);
    if (roll < 0.67) {
      const [text, codigo] = INVALID_MESSAGES[Math.floor(random() * INVALID_MESSAGES.length)]!;
      await line.write(text);
      const reply = await line.read();
      if (!reply) return this.#cut();
      this.#count(reply);
      if (reply.codigo !== codigo) {
        this.#wrong(`${JSON.stringify(text)} → ${JSON.stringify(reply)}`);
      }
      return true;
    }
    if (roll < 0.75 && mine.length) {
      const { id } = mine[Math.floor(random() * mine.length)]!;
      await line.write(JSON.stringify({ tipo: "estado", id }) + "\n");
      const reply = await line.read();
      if (!reply) return this.#cut();
      this.#count(reply);
      if (!reply.ok || (reply.pedido as { id?: number })?.id !== id) {
        this.#wrong(`estado #${id} → ${JSON.stringify(reply)}`);
      }
      return true;
    }
    if (roll < 0.80) {
      // Resend an idempotent order: the same id must come back, marked duplicado.
      const previous = mine.find((order) => order.clave !== undefined);
      if (!previous) return true;
      await line.write(
        JSON.stringify({
          cliente: previous.tag,
          productos: ["pan"],
          direccion: "Calle Soak 1",
          clave: previous.clave,
        }) + "\n",
      );
      const reply = await line.read();
      if (!reply) return this.#cut();
      this.#count(reply);
      if (reply.ok && (reply.id !== previous.id || reply.duplicado !== true)) {
        this.#wrong(`clave ${previous.clave} (#${previous.id}) → ${JSON.stringify(reply)}`);
      }
      return true;
    }
    if (roll < 0.84) {
      // Vanish right after sending an order, without reading its reply.
      const tag = this.#tag(index);
      this.ledger.sent.add(tag);
      await line.write(
        JSON.stringify({ cliente: tag, productos: ["pan"], direccion: "Calle Soak 1" }) + "\n",
      );
      this.counters.disconnects++;
      return false;
    }
    if (roll < 0.87) {
      // Vanish in the middle of a message.
      const text = JSON.stringify({
        cliente: this.#tag(index),
        productos: ["pan"],
        direccion: "x",
      });
      await line.write(text.slice(0, Math.floor(random() * text.length)));
      this.counters.disconnects++;
      return false;
    }
    if (roll < 0.89) {
      await line.write('{"tipo": "estadisticas"}\n');
      const reply = await line.read();
      if (!reply) return this.#cut();
      this.#count(reply);
      if (!reply.ok) this.#wrong(`estadisticas → ${JSON.stringify(reply)}`);
      return true;
    }
    await sleep(Math.floor(random() * 50));
    return true;
  }

  /** A pipelined burst of orders, some faulty, some idempotent. */
  async #orders(
    index: number,
    line: Line,
    random: () => number,
    mine: { tag: string; id: number; clave?: string }[],
  ): Promise<boolean> {
    const burst = 1 + Math.floor(random() * 8);
    const batch: { tag: string; clave?: string }[] = [];
    let text = "";
    for (let i = 0; i < burst; i++) {
      let tag = this.#tag(index);
      if (this.#faults && random() < 0.004) {
        tag = FAULT_PREFIXES[Math.floor(random() * FAULT_PREFIXES.length)] + tag;
        this.ledger.faulty.add(tag);
        this.counters.faultsSent++;
      }
      const clave = random() < 0.05 ? `clave-${tag}` : undefined;
      batch.push(clave ? { tag, clave } : { tag });
      this.ledger.sent.add(tag);
      text += JSON.stringify({
        cliente: tag,
        productos: ["pan", "leche"],
        direccion: "Calle Soak 1",
        ...(clave ? { clave } : {}),
      }) + "\n";
    }
    await line.write(text);
    for (const order of batch) {
      const reply = await line.read();
      if (!reply) return this.#cut();
      this.#count(reply);
      if (reply.ok && typeof reply.id === "number") {
        this.ledger.acked.set(order.tag, reply.id);
        mine.push({ tag: order.tag, id: reply.id, ...(order.clave ? { clave: order.clave } : {}) });
        if (mine.length > 100) mine.shift();
      } else if (reply.codigo === "limite") {
        await sleep(20);
      } else {
        this.#wrong(`pedido ${order.tag} → ${JSON.stringify(reply)}`);
      }
    }
    return true;
  }

  #tag(index: number): string {
    return `soak ${index}-${++this.#serial}`;
  }

  #cut(): boolean {
    this.counters.cut++;
    return false;
  }
}

// ---------------------------------------------------------------------------
// The run

/** Runs a soak; resolves with the exit code (0 when every check passed). */
export async function runSoak(options: SoakOptions): Promise<number> {
  const { print } = options;
  const dir = await Deno.makeTempDir({ prefix: "pedidos-soak-" });
  const db = `${dir}/soak.db`;
  const entry = options.faults
    ? [new URL("tools/soak/main.ts", ROOT).pathname, "servir"]
    : [new URL("server.ts", ROOT).pathname];
  const child = new Deno.Command(Deno.execPath(), {
    // The server's own permissions, also for `servir` mode: the soak tests what is deployed.
    args: ["run", ...permissionSet("server"), ...entry, ...serverFlags(db)],
    cwd: ROOT.pathname,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stdout = "";
  let stderrTail: string[] = [];
  let port = 0;
  const stdoutDone = child.stdout.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (text) => void (stdout += text) }),
  );
  const stderrDone = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({
      write: (text) => {
        stderrTail = stderrTail.concat(text.split("\n")).slice(-40);
        port ||= Number(text.match(/escuchando en 127\.0\.0\.1:(\d+)/)?.[1] ?? 0);
      },
    }),
  );
  try {
    const startBy = Date.now() + 30_000;
    while (!port && Date.now() < startBy) await sleep(50);
    if (!port) throw new Error(`el servidor no arrancó:\n${stderrTail.join("\n")}`);

    const pid = child.pid;
    const baseline = processUsage(pid);
    const started = Date.now();
    const deadline = started + options.minutes * 60_000;
    print(
      `${PROGRAM}: ${options.minutes} min, ${options.connections} clientes, semilla ${options.seed}, ` +
        `fallos de worker ${
          options.faults ? "sí" : "no"
        }; servidor pid ${pid} en 127.0.0.1:${port}`,
    );
    print(
      `${PROGRAM}: base: RSS ${
        (baseline.rssBytes / MB).toFixed(1)
      } MB, ${baseline.fds} descriptores`,
    );

    const load = new Load(port, options.faults, deadline);
    const master = seededRandom(options.seed);
    const clients = Array.from(
      { length: options.connections },
      (_, i) => load.client(i, seededRandom(Math.floor(master() * 2 ** 32))),
    );
    const rss: number[] = [];
    let peakFds = baseline.fds;
    const progressEvery = Math.max(5_000, Math.min(30_000, options.minutes * 60_000 / 12));
    const sample = () => {
      const usage = processUsage(pid);
      if (Number.isFinite(usage.rssBytes)) rss.push(usage.rssBytes / 1024);
      peakFds = Math.max(peakFds, usage.fds);
      return usage;
    };
    const progress = setInterval(() => {
      const usage = sample();
      const ok = load.counters.replies.get("ok") ?? 0;
      const rejected = [...load.counters.replies].filter(([k]) => k !== "ok")
        .reduce((n, [, v]) => n + v, 0);
      print(
        `[${String(Math.round((Date.now() - started) / 1000)).padStart(5)} s] ` +
          `confirmados ${load.ledger.acked.size} · respuestas ok ${ok} · errores ${rejected} · ` +
          `fallos provocados ${load.counters.faultsSent} · desconexiones ${load.counters.disconnects} · ` +
          `RSS ${(usage.rssBytes / MB).toFixed(1)} MB · fds ${usage.fds}`,
      );
    }, progressEvery);
    await Promise.all(clients);
    clearInterval(progress);
    sample();

    print(`${PROGRAM}: carga terminada; se espera a que se terminen todos los pedidos…`);
    const drainBy = Date.now() + 120_000;
    let unfinished = Infinity;
    while (Date.now() < drainBy) {
      unfinished = await withReader(
        db,
        (reader) => reader.count({ estados: ["en cola", "en proceso"] }),
      );
      if (unfinished === 0) break;
      await sleep(200);
    }
    // Idle connections time out after --idle-ms; give descriptors that long to come back.
    const fdsBy = Date.now() + 15_000;
    let final = processUsage(pid);
    while (final.fds > baseline.fds && Date.now() < fdsBy) {
      await sleep(250);
      final = processUsage(pid);
    }
    if (Number.isFinite(final.rssBytes)) rss.push(final.rssBytes / 1024);

    child.kill("SIGTERM");
    const status = await child.status;
    await Promise.all([stdoutDone, stderrDone]);
    // The soak runs on a SQLite file, and checks the file itself too.
    const integrity = sqliteIntegrityCheck(db);
    const rows = await withReader(db, (reader) => Array.fromAsync(reader.orders()));
    const verdict = verifyLedger(rows, load.ledger);
    const memory = memoryTrend(rss);
    const fdsBack = final.fds <= baseline.fds;
    const faultyStored = rows.filter((row) => load.ledger.faulty.has(row.cliente)).length;
    const codes = [...load.counters.replies].sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k} ${v}`).join(", ");
    const failures = soakFailures({
      ledger: verdict,
      unfinished,
      integrity,
      serverExit: status.code,
      memory,
      descriptorsBack: fdsBack,
      wrongAnswers: load.counters.wrong.length,
    });
    const passed = failures.length === 0;

    print("");
    print(
      `Resumen del soak (${options.minutes} min, ${options.connections} clientes, semilla ${options.seed})`,
    );
    print(
      `  pedidos enviados ${load.ledger.sent.size}, confirmados ${load.ledger.acked.size}, guardados ${verdict.stored}`,
    );
    print(`  respuestas: ${codes}`);
    print(
      `  fallos de worker provocados ${load.counters.faultsSent} (fallidos guardados ${faultyStored}); ` +
        `desconexiones provocadas ${load.counters.disconnects}; cortes del servidor ${load.counters.cut}`,
    );
    print(`  respuestas incorrectas: ${load.counters.wrong.length}`);
    for (const wrong of load.counters.wrong) print(`    ${wrong}`);
    print(
      `  perdidos ${listIds(verdict.lost)}, duplicados ${listIds(verdict.duplicated)}, ` +
        `mal archivados ${listIds(verdict.misfiled)}, inventados ${listIds(verdict.invented)}, ` +
        `en estado incorrecto ${listIds(verdict.wrongState)}, sin terminar ${unfinished}`,
    );
    print(
      `  memoria residente (${memory.samples} muestras): inicio ${memory.startMb} MB, ` +
        `final ${memory.endMb} MB, máximo ${memory.peakMb} MB (${memory.flat ? "plana" : "CRECE"})`,
    );
    print(
      `  descriptores: base ${baseline.fds}, máximo ${peakFds}, final ${final.fds} ` +
        `(${fdsBack ? "vuelven a la base" : "NO vuelven a la base"})`,
    );
    print(`  integridad: ${integrity}; salida del servidor: ${status.code}`);
    print(`lost: ${verdict.lost.count}, duplicated: ${verdict.duplicated.count}`);
    print(passed ? "RESULTADO: correcto" : `RESULTADO: FALLO (${failures.join("; ")})`);
    if (!passed) print(`últimas líneas del servidor:\n${stderrTail.join("\n")}\n${stdout}`);
    return passed ? 0 : 1;
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await child.status;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** `servir` mode: the server, with the fault-injecting worker. */
async function serve(args: string[]): Promise<number> {
  const command = parseServerArgs(args);
  if (command.kind !== "serve") throw new UsageError("servir solo acepta opciones del servidor");
  const sigusr1 = ignoreSigusr1();
  if (sigusr1) createLogger(command.config.logLevel, "pedidos").warn(sigusr1);
  const { promise: signalled, resolve } = Promise.withResolvers<Deno.Signal>();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => resolve(signal));
  }
  const server = await startServer(command.config, { workerUrl: SOAK_WORKER });
  await signalled;
  const summary = await server.shutdown();
  console.log(renderReport(summary.snapshot));
  return 0;
}

async function main(args: string[]): Promise<number> {
  if (args[0] === "servir") return await serve(args.slice(1));
  const flags = parseCommand(args, FLAGS, flagsSchema);
  if (!flags) {
    console.log(usage(
      `${PROGRAM} [opciones]`,
      "Soak acotado del servidor de pedidos: carga mixta válida e inválida con desconexiones y fallos de worker; comprueba que no se pierde ni se duplica ningún pedido confirmado, que la memoria queda plana y que los descriptores vuelven a la base.",
      FLAGS,
      "\nCódigos de salida: 0 todo correcto, 1 alguna comprobación falló, 2 uso incorrecto.\n",
    ));
    return 0;
  }
  return await runSoak({
    minutes: flags.minutes ?? 2,
    connections: flags.connections ?? 8,
    seed: flags.seed ?? Math.floor(Math.random() * 2 ** 32),
    faults: !flags["sin-fallos"],
    print: (line) => console.log(line),
  });
}

if (import.meta.main) await runMain(PROGRAM, () => main(Deno.args));
