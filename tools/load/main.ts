/**
 * `deno task load`: drives any server speaking the pedidos protocol and
 * reports what it got back.
 *
 * ```sh
 * deno task load --mode pipeline -n 100000 -c 8 --depth 64
 * deno task load --mode conexion --rate 2000 --duration 10 --bad 0.05
 * deno task load --mode pipeline -n 50000 --verify pedidos.db --wait-done --json
 * ```
 *
 * Two ways to send (`--mode`): `conexion` opens one TCP connection per order
 * (read the greeting, send, read the reply, close), as the seed's clients do;
 * `pipeline` keeps `-c` connections open with `--depth` orders in flight on
 * each. Two ways to pace: a closed loop sends `-n` orders as fast as replies
 * come back; an open loop (`--rate`) sends on a fixed schedule for
 * `--duration` seconds and measures each latency from the order's scheduled
 * time, so a stalled server shows as latency rather than as fewer arrivals.
 *
 * @module
 */
import { runMain, usage } from "../../lib/util/cli.ts";
import { writeAll, writeAllSync } from "../../lib/util/net.ts";
import { newRunTag, OrderGenerator } from "./orders.ts";
import { LOAD_FLAGS, type LoadOptions, parseLoadArgs } from "./options.ts";
import {
  type ProgressSample,
  RateMeter,
  renderProgressBar,
  renderProgressLine,
} from "./progress.ts";
import { ReplyReader, type ServerLine } from "./replies.ts";
import { buildReport, type LoadReport, renderReport, Tally } from "./report.ts";
import { OpenLoopSchedule } from "./schedule.ts";
import { Ledger, renderVerification, verificationPassed, verifyDatabase } from "./verify.ts";

export type { LoadOptions } from "./options.ts";
export type { LoadReport } from "./report.ts";

/** Optional observers of a run. */
export interface LoadHooks {
  /** Called every `progressIntervalMs` while orders are being sent. */
  onProgress?: (sample: ProgressSample) => void;
  /** @default 1000 */
  progressIntervalMs?: number;
  /** Called while `--wait-done` waits, with how many orders are still unfinished. */
  onWait?: (unfinished: number) => void;
  /** Called once every order has its outcome, before any verification starts. */
  onRunEnd?: () => void;
}

const PIPELINE_READ_BYTES = 64 * 1024;
const CONNECTION_READ_BYTES = 4096;
const WATCHDOG_MS = 100;
const RECONNECT_MIN_MS = 50;
const RECONNECT_MAX_MS = 1000;
const encoder = new TextEncoder();

/**
 * Runs one load test and returns its report (with the verification, if
 * `options.verify` names a database).
 *
 * @example
 * ```ts
 * const report = await runLoad({ ...LOAD_DEFAULTS, port: 8888, mode: "pipeline", orders: 1000 });
 * report.sent === report.accepted + report.rejectedTotal + report.errorsTotal; // true
 * ```
 */
export async function runLoad(options: LoadOptions, hooks: LoadHooks = {}): Promise<LoadReport> {
  const run = new LoadRun(options, new OrderGenerator(newRunTag(), options.bad));
  const report = await run.execute(hooks);
  hooks.onRunEnd?.();
  if (options.verify === undefined) return report;
  const verification = await verifyDatabase(options.verify, run.ledger, run.orders, {
    waitDone: options.waitDone,
    waitMs: options.waitMs,
    ...(hooks.onWait ? { onWait: hooks.onWait } : {}),
  });
  return { ...report, verification };
}

/** Where the next orders come from: a fixed count (closed loop) or a schedule (open loop). */
class OrderSource {
  readonly total: number;
  readonly #schedule: OpenLoopSchedule | undefined;
  #next = 0;
  #limit: number;

  constructor(options: LoadOptions, startMs: number) {
    if (options.rate === undefined) {
      this.#schedule = undefined;
      this.total = options.orders;
      this.#limit = options.orders;
    } else {
      this.#schedule = new OpenLoopSchedule({
        rate: options.rate,
        durationMs: options.durationMs,
        startMs,
      });
      this.total = this.#schedule.total;
      this.#limit = 0;
    }
  }

  /** Makes the orders due by `now` available (open loop). */
  refresh(now: number): void {
    if (this.#schedule) this.#limit = this.#schedule.take(now).to;
  }

  get available(): number {
    return this.#limit - this.#next;
  }

  /** Orders handed out so far. */
  get taken(): number {
    return this.#next;
  }

  get exhausted(): boolean {
    return this.#next >= this.total;
  }

  /** Takes the next available order's index. */
  take(): number {
    return this.#next++;
  }

  /** The time latency is measured from: its due time (open loop), or now. */
  startOf(index: number, now: number): number {
    return this.#schedule ? this.#schedule.dueAt(index) : now;
  }

  /** When the next order not yet due becomes due (open loop). */
  get nextDueAt(): number | undefined {
    return this.#schedule?.nextDueAt;
  }

  /** The due time of the oldest order waiting for a connection, if any. */
  oldestWaiting(): number | undefined {
    return this.#schedule && this.available > 0 ? this.#schedule.dueAt(this.#next) : undefined;
  }
}

/** One place orders go to: a persistent connection, or a slot of one-shot connections. */
interface Lane {
  /** Whether it can take one more order now. */
  readonly hasRoom: boolean;
  /** Accepts one order; `start` is the time its latency counts from. */
  assign(index: number, start: number): void;
  /** Sends what `assign` queued. */
  flush(): void;
  /** The start time of its oldest order without a reply, if any. */
  oldestStart(): number | undefined;
  /** Gives up on what is in flight (counted as errors for `reason`) and closes. */
  fail(reason: string): void;
  /** Closes for good at the end of the run. */
  close(): void;
}

class LoadRun {
  readonly options: LoadOptions;
  readonly orders: OrderGenerator;
  readonly tally: Tally = new Tally();
  readonly ledger: Ledger = new Ledger();
  #lanes: Lane[] = [];
  /** Lanes with room, in round-robin order; `#queued` mirrors membership. */
  #ready: Lane[] = [];
  #readyHead = 0;
  #queued = new Set<Lane>();
  #source!: OrderSource;
  #startedAt = 0;
  #startedAtEpoch = 0;
  #lastOutcomeAt = 0;
  #lastConnectedAt = 0;
  #openConnections = 0;
  #lastConnectError: string | undefined;
  #ticker: ReturnType<typeof setTimeout> | undefined;
  #finished = false;
  #aborted: string | undefined;
  #done = Promise.withResolvers<void>();

  constructor(options: LoadOptions, orders: OrderGenerator) {
    this.options = options;
    this.orders = orders;
  }

  get finished(): boolean {
    return this.#finished;
  }

  async execute(hooks: LoadHooks): Promise<LoadReport> {
    const { options } = this;
    if (options.mode === "pipeline") {
      this.#lanes = Array.from({ length: options.concurrency }, () => new PipelineLane(this));
      // Connect first, so that an open loop's schedule does not start with a backlog.
      await Promise.all(this.#lanes.map((lane) => (lane as PipelineLane).connect()));
    } else {
      this.#lanes = Array.from({ length: options.concurrency }, () => new ConnectionLane(this));
    }
    this.#startedAt = performance.now();
    this.#startedAtEpoch = Date.now();
    this.#lastConnectedAt = this.#startedAt;
    this.#lastOutcomeAt = this.#startedAt;
    this.#source = new OrderSource(options, this.#startedAt);
    for (const lane of this.#lanes) if (lane.hasRoom) this.markReady(lane);

    const watchdog = setInterval(() => this.#watch(), WATCHDOG_MS);
    const progress = hooks.onProgress ? this.#startProgress(hooks) : undefined;
    try {
      this.pump();
      await this.#done.promise;
    } finally {
      clearInterval(watchdog);
      clearInterval(progress);
      clearTimeout(this.#ticker);
      for (const lane of this.#lanes) lane.close();
    }
    const elapsed = performance.now() - this.#startedAt;
    hooks.onProgress?.(this.#sample(elapsed > 0 ? this.tally.completed * 1000 / elapsed : 0));
    return buildReport(this.tally, {
      target: `${options.host}:${options.port}`,
      mode: options.mode,
      loop: options.rate === undefined ? "cerrado" : "abierto",
      concurrency: options.concurrency,
      depth: options.mode === "pipeline" ? options.depth : 1,
      ...(options.rate !== undefined ? { rate: options.rate } : {}),
      startedAt: this.#startedAtEpoch,
      elapsedMs: this.#lastOutcomeAt - this.#startedAt,
      ...(this.#aborted ? { aborted: this.#aborted } : {}),
    });
  }

  /** Puts a lane with room at the back of the round-robin. */
  markReady(lane: Lane): void {
    if (this.#finished || this.#queued.has(lane)) return;
    this.#queued.add(lane);
    this.#ready.push(lane);
  }

  /** A lane's connection is up and greeted. */
  connected(): void {
    this.#openConnections++;
  }

  /** A connection could not be opened or was not greeted. */
  connectFailed(reason: string): void {
    this.tally.failedConnections++;
    this.#lastConnectError = reason;
  }

  /** A lane's connection went down. */
  disconnected(): void {
    this.#openConnections--;
    this.#lastConnectedAt = performance.now();
  }

  /** Records the reply to message `index`, sent or due at `start`. */
  replied(index: number, start: number, line: ServerLine, now: number): void {
    this.tally.reply(this.orders.kind(index), line, now - start);
    if (line.tipo === "ok" && line.id !== undefined) this.ledger.add(line.id, index);
    this.#lastOutcomeAt = now;
  }

  /** Records that `count` orders got no reply. */
  failed(reason: string, count = 1): void {
    if (count <= 0) return;
    this.tally.error(reason, count);
    this.#lastOutcomeAt = performance.now();
  }

  /** Takes the next order from the source and counts it as sent. */
  #take(): number {
    const index = this.#source.take();
    this.tally.sent(this.orders.kind(index));
    this.ledger.markSent(index);
    return index;
  }

  /** Hands available orders to lanes with room, then sends them. */
  pump(): void {
    if (this.#finished) return;
    const now = performance.now();
    const source = this.#source;
    source.refresh(now);
    const touched = new Set<Lane>();
    while (source.available > 0 && this.#readyHead < this.#ready.length) {
      const lane = this.#ready[this.#readyHead++]!;
      this.#queued.delete(lane);
      if (!lane.hasRoom) continue;
      const index = this.#take();
      lane.assign(index, source.startOf(index, now));
      touched.add(lane);
      if (lane.hasRoom) this.markReady(lane);
    }
    if (this.#readyHead > 1024 && this.#readyHead * 2 > this.#ready.length) {
      this.#ready = this.#ready.slice(this.#readyHead);
      this.#readyHead = 0;
    }
    for (const lane of touched) lane.flush();
    this.#armTicker(now);
    this.#checkFinished();
  }

  #armTicker(now: number) {
    const due = this.#source.nextDueAt;
    if (due === undefined || this.#ticker !== undefined) return;
    this.#ticker = setTimeout(() => {
      this.#ticker = undefined;
      this.pump();
    }, Math.max(0, due - now));
  }

  #checkFinished() {
    if (this.#finished || !this.#source.exhausted || this.tally.outstanding > 0) return;
    this.#finished = true;
    this.#done.resolve();
  }

  #abort(reason: string) {
    this.#aborted = reason;
    // Open loop: orders already due but never handed to a connection count
    // as sent and failed. A closed loop simply never sends the rest.
    const waiting = this.options.rate === undefined ? 0 : this.#source.available;
    for (let i = 0; i < waiting; i++) this.#take();
    this.failed("sin conexión", waiting);
    for (const lane of this.#lanes) lane.fail("sin conexión");
    this.#finished = true;
    this.#done.resolve();
  }

  #watch() {
    if (this.#finished) return;
    const now = performance.now();
    const { timeoutMs } = this.options;
    for (const lane of this.#lanes) {
      const oldest = lane.oldestStart();
      if (oldest !== undefined && now - oldest > timeoutMs) lane.fail("tiempo agotado");
    }
    const waitingSince = this.#source.oldestWaiting();
    if (
      this.options.mode === "pipeline" && this.#openConnections === 0 &&
      now - this.#lastConnectedAt > timeoutMs
    ) {
      const cause = this.#lastConnectError ? ` (último error: ${this.#lastConnectError})` : "";
      this.#abort(`ninguna conexión con el servidor durante ${timeoutMs} ms${cause}`);
      return;
    }
    if (waitingSince !== undefined && now - waitingSince > timeoutMs) {
      // Open loop, more arrivals than connections can carry: too late to send.
      let expired = 0;
      while (
        this.#source.available > 0 &&
        now - this.#source.startOf(this.#source.taken, now) > timeoutMs
      ) {
        this.#take();
        expired++;
      }
      this.failed("sin enviar a tiempo", expired);
    }
    this.pump();
  }

  #startProgress(hooks: LoadHooks) {
    const meter = new RateMeter(0, performance.now());
    return setInterval(() => {
      hooks.onProgress!(this.#sample(meter.update(this.tally.completed, performance.now())));
    }, hooks.progressIntervalMs ?? 1000);
  }

  #sample(rate: number): ProgressSample {
    return {
      done: this.tally.completed,
      total: this.#source.total,
      errors: this.tally.errorsTotal,
      elapsedMs: performance.now() - this.#startedAt,
      rate,
    };
  }
}

function describe(error: unknown): string {
  if (error instanceof Deno.errors.ConnectionRefused) return "conexión rechazada";
  if (error instanceof Deno.errors.ConnectionReset) return "conexión reiniciada";
  if (error instanceof Deno.errors.BrokenPipe) return "conexión rota";
  if (error instanceof Error) return error.name === "Error" ? error.message : error.name;
  return String(error);
}

/**
 * A persistent connection with up to `depth` orders in flight. Replies come
 * back in request order, so the oldest order in flight owns the next reply.
 */
class PipelineLane implements Lane {
  readonly #run: LoadRun;
  readonly #depth: number;
  #conn: Deno.TcpConn | undefined;
  #greeted = false;
  #indices: Float64Array;
  #starts: Float64Array;
  #head = 0;
  #count = 0;
  #out = "";
  #writing = false;
  #retryMs = RECONNECT_MIN_MS;
  #reconnect: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(run: LoadRun) {
    this.#run = run;
    this.#depth = run.options.depth;
    this.#indices = new Float64Array(this.#depth);
    this.#starts = new Float64Array(this.#depth);
  }

  get hasRoom(): boolean {
    return this.#greeted && this.#count < this.#depth;
  }

  /** Connects and waits for the greeting; on failure, schedules a retry. */
  async connect(): Promise<void> {
    const { host, port } = this.#run.options;
    let conn: Deno.TcpConn;
    try {
      conn = await Deno.connect({ hostname: host, port });
    } catch (error) {
      this.#connectFailed(describe(error));
      return;
    }
    if (this.#closed) {
      conn.close();
      return;
    }
    conn.setNoDelay(true);
    this.#conn = conn;
    const greeting = Promise.withResolvers<void>();
    this.#readLoop(conn, greeting.resolve);
    await greeting.promise;
  }

  assign(index: number, start: number): void {
    const slot = (this.#head + this.#count) % this.#depth;
    this.#indices[slot] = index;
    this.#starts[slot] = start;
    this.#count++;
    this.#out += this.#run.orders.line(index);
  }

  flush(): void {
    if (this.#writing || this.#out === "" || !this.#conn) return;
    const conn = this.#conn;
    const bytes = encoder.encode(this.#out);
    this.#out = "";
    this.#writing = true;
    writeAll(conn, bytes).then(
      () => {
        this.#writing = false;
        if (this.#conn === conn) this.flush();
      },
      (error) => {
        this.#writing = false;
        if (this.#conn === conn) this.fail(describe(error));
      },
    );
  }

  oldestStart(): number | undefined {
    return this.#count > 0 ? this.#starts[this.#head] : undefined;
  }

  fail(reason: string): void {
    const conn = this.#conn;
    if (!conn) return;
    this.#conn = undefined;
    if (this.#greeted) this.#run.disconnected();
    this.#greeted = false;
    this.#run.failed(reason, this.#count);
    this.#head = 0;
    this.#count = 0;
    this.#out = "";
    try {
      conn.close();
    } catch {
      // Already closed.
    }
    if (!this.#closed && !this.#run.finished) this.#scheduleReconnect();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#reconnect);
    const conn = this.#conn;
    this.#conn = undefined;
    try {
      conn?.close();
    } catch {
      // Already closed.
    }
  }

  #connectFailed(reason: string) {
    this.#run.connectFailed(reason);
    if (!this.#closed && !this.#run.finished) this.#scheduleReconnect();
  }

  #scheduleReconnect() {
    const delay = this.#retryMs;
    this.#retryMs = Math.min(this.#retryMs * 2, RECONNECT_MAX_MS);
    this.#reconnect = setTimeout(() => {
      this.#reconnect = undefined;
      this.connect();
    }, delay);
  }

  async #readLoop(conn: Deno.TcpConn, onGreeting: () => void) {
    const reader = new ReplyReader();
    const buffer = new Uint8Array(PIPELINE_READ_BYTES);
    try {
      while (this.#conn === conn) {
        const count = await conn.read(buffer);
        if (count === null) throw new Error("el servidor cerró la conexión");
        if (this.#conn !== conn) return;
        const now = performance.now();
        for (const line of reader.push(buffer.subarray(0, count))) {
          if (!this.#greeted) {
            if (line.tipo !== "saludo") {
              throw new Error(
                line.tipo === "error" ? `saludo rechazado: ${line.codigo}` : "saludo ilegible",
              );
            }
            this.#greeted = true;
            this.#retryMs = RECONNECT_MIN_MS;
            this.#run.connected();
            this.#run.markReady(this);
            onGreeting();
          } else if (line.tipo === "evento" || line.tipo === "saludo") {
            continue;
          } else if (this.#count === 0) {
            throw new Error("respuesta sin pedido");
          } else if (line.tipo === "ilegible") {
            throw new Error("respuesta ilegible");
          } else {
            this.#run.replied(this.#indices[this.#head]!, this.#starts[this.#head]!, line, now);
            this.#head = (this.#head + 1) % this.#depth;
            this.#count--;
          }
        }
        if (this.#count < this.#depth) this.#run.markReady(this);
        this.#run.pump();
      }
    } catch (error) {
      if (this.#conn !== conn) return;
      if (!this.#greeted) {
        this.#conn = undefined;
        try {
          conn.close();
        } catch {
          // Already closed.
        }
        this.#connectFailed(describe(error));
      } else {
        this.fail(describe(error));
      }
    } finally {
      onGreeting();
    }
  }
}

/**
 * One order at a time, each on a new connection: connect, read the greeting,
 * send, read the reply, close.
 */
class ConnectionLane implements Lane {
  readonly #run: LoadRun;
  readonly #buffer = new Uint8Array(CONNECTION_READ_BYTES);
  #busy = false;
  #start = 0;
  #conn: Deno.TcpConn | undefined;
  /** Lines read past the one returned, within the current attempt. */
  #pendingLines: ServerLine[] = [];
  /** Why the current attempt was cut short by `fail`, if it was. */
  #failure: string | undefined;
  #closed = false;

  constructor(run: LoadRun) {
    this.#run = run;
  }

  get hasRoom(): boolean {
    return !this.#busy && !this.#closed;
  }

  assign(index: number, start: number): void {
    this.#busy = true;
    this.#start = start;
    this.#failure = undefined;
    this.#attempt(index).then((outcome) => {
      this.#busy = false;
      this.#conn = undefined;
      if (outcome.tipo === "fallo") this.#run.failed(this.#failure ?? outcome.reason);
      else this.#run.replied(index, start, outcome.line, performance.now());
      this.#run.markReady(this);
      this.#run.pump();
    });
  }

  flush(): void {
    // Each attempt writes its own order.
  }

  oldestStart(): number | undefined {
    return this.#busy ? this.#start : undefined;
  }

  fail(reason: string): void {
    if (!this.#busy || this.#failure !== undefined) return;
    this.#failure = reason;
    try {
      this.#conn?.close();
    } catch {
      // Already closed.
    }
  }

  close(): void {
    this.#closed = true;
    this.fail("fin de la carga");
  }

  async #attempt(
    index: number,
  ): Promise<{ tipo: "respuesta"; line: ServerLine } | { tipo: "fallo"; reason: string }> {
    const { host, port } = this.#run.options;
    let conn: Deno.TcpConn;
    try {
      conn = await Deno.connect({ hostname: host, port });
    } catch (error) {
      return { tipo: "fallo", reason: describe(error) };
    }
    this.#conn = conn;
    this.#pendingLines = [];
    if (this.#failure !== undefined) {
      conn.close();
      return { tipo: "fallo", reason: this.#failure };
    }
    try {
      const reader = new ReplyReader();
      const greeting = await this.#readLine(conn, reader);
      // A server at its connection limit answers the greeting with the reason and closes:
      // that is this order's rejection.
      if (greeting.tipo === "error") return { tipo: "respuesta", line: greeting };
      if (greeting.tipo !== "saludo") return { tipo: "fallo", reason: "saludo ilegible" };
      await writeAll(conn, encoder.encode(this.#run.orders.line(index)));
      while (true) {
        const line = await this.#readLine(conn, reader);
        if (line.tipo === "evento") continue;
        if (line.tipo === "ilegible" || line.tipo === "saludo") {
          return { tipo: "fallo", reason: "respuesta ilegible" };
        }
        return { tipo: "respuesta", line };
      }
    } catch (error) {
      return { tipo: "fallo", reason: describe(error) };
    } finally {
      try {
        conn.close();
      } catch {
        // Closed by fail().
      }
    }
  }

  async #readLine(conn: Deno.TcpConn, reader: ReplyReader): Promise<ServerLine> {
    const pending = this.#pendingLines;
    if (pending.length > 0) return pending.shift()!;
    while (true) {
      const count = await conn.read(this.#buffer);
      if (count === null) throw new Error("el servidor cerró la conexión");
      const lines = reader.push(this.#buffer.subarray(0, count));
      if (lines.length > 0) {
        this.#pendingLines = lines.slice(1);
        return lines[0]!;
      }
    }
  }
}

async function main(args: string[]): Promise<number> {
  const command = parseLoadArgs(args);
  if (command.kind === "help") {
    console.log(usage("deno task load [opciones]", SUMMARY, LOAD_FLAGS, HELP_EXTRA));
    return 0;
  }
  const { options } = command;
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
