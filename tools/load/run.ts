/**
 * The load tool as a library: {@linkcode runLoad} drives any server speaking
 * the pedidos protocol and returns what it got back (and, with `verify`, how
 * the database compares with the acknowledgements). The bench runs it
 * in-process; `tools/load/main.ts` is its command line.
 *
 * Two ways to send (`mode`): `conexion` opens one TCP connection per order
 * (read the greeting, send, read the reply, close), as the seed's clients do;
 * `pipeline` keeps `concurrency` connections open with `depth` orders in
 * flight on each. Two ways to pace: a closed loop sends `orders` as fast as
 * replies come back; an open loop (`rate`) sends on a fixed schedule for
 * `durationMs` and measures each latency from the order's scheduled time, so
 * a stalled server shows as latency rather than as fewer arrivals.
 *
 * @module
 */
import { newRunTag, OrderGenerator } from "./orders.ts";
import type { LoadOptions } from "./options.ts";
import { type ProgressSample, RateMeter } from "./progress.ts";
import { ConnectionLane, type Lane, type LaneHost, PipelineLane } from "./lanes.ts";
import type { ServerLine } from "./replies.ts";
import { buildReport, type LoadReport, Tally } from "./report.ts";
import { OpenLoopSchedule } from "./schedule.ts";
import { cpuMark, LagProbe, machineCpus, toolCpu } from "./tool_cpu.ts";
import { Ledger, verifyDatabase } from "./verify.ts";

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

const WATCHDOG_MS = 100;

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

class LoadRun implements LaneHost {
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
  #lag: LagProbe | undefined;

  constructor(options: LoadOptions, orders: OrderGenerator) {
    this.options = options;
    this.orders = orders;
  }

  get finished(): boolean {
    return this.#finished;
  }

  async execute(hooks: LoadHooks): Promise<LoadReport> {
    const { options } = this;
    const cpuFrom = cpuMark();
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

    this.#lag = new LagProbe(WATCHDOG_MS, this.#startedAt);
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
    const cpuTo = cpuMark();
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
      toolCpu: toolCpu({
        from: cpuFrom,
        to: cpuTo,
        orders: this.tally.sentCount,
        threads: 1,
        cpus: machineCpus(),
        lagSamplesMs: this.#lag.samples,
      }),
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
    this.#lag?.tick(now);
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
