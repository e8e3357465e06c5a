/**
 * One thread's share of a load run: its lanes (persistent connections or
 * one-order slots), the orders it takes from the run's
 * {@linkcode OrderSource}, the watchdog that fails overdue orders, and the
 * counts of what came back. On one thread the run is a single driver on the
 * main thread; with `--threads N` each worker runs one (`tools/load/thread.ts`).
 *
 * @module
 */
import type { OrderGenerator } from "./orders.ts";
import type { LoadOptions } from "./options.ts";
import { ConnectionLane, type Lane, type LaneHost, PipelineLane } from "./lanes.ts";
import type { ServerLine } from "./replies.ts";
import type { Tally } from "./report.ts";
import type { OrderSource } from "./source.ts";
import { LagProbe } from "./tool_cpu.ts";
import type { Ledger } from "./verify.ts";

/** How often the watchdog looks for overdue orders (and measures the loop's lag). */
const WATCHDOG_MS = 100;

/** How a driver's share of the run ended. */
export interface DriverResult {
  /** When its last order got its outcome (its thread's `performance.now()`). */
  lastOutcomeAt: number;
  /** Why it stopped early, if it did. */
  aborted?: string;
  /** How late each watchdog tick fired, ms. */
  lagSamplesMs: number[];
}

/**
 * Drives `lanes` lanes with the orders it takes from a source, counting the
 * outcomes into a tally and (for verification) a ledger.
 */
export class Driver implements LaneHost {
  readonly options: LoadOptions;
  readonly orders: OrderGenerator;
  readonly #tally: Tally;
  readonly #ledger: Ledger | undefined;
  readonly #lanes: Lane[];
  /** Lanes with room, in round-robin order; `#queued` mirrors membership, by slot. */
  #ready: Lane[] = [];
  #readyHead = 0;
  /** By slot; a flag rather than a Set, which costs more per order than the rest of a pump. */
  readonly #queued: Uint8Array;
  /** Lanes given orders during the current pump, to flush at its end. */
  #touched: Lane[] = [];
  #source!: OrderSource;
  /** Whether `drive` has started: a lane greeted before then has nothing to send yet. */
  #driving = false;
  #lastOutcomeAt = 0;
  #lastConnectedAt = 0;
  #openConnections = 0;
  #lastConnectError: string | undefined;
  #ticker: ReturnType<typeof setTimeout> | undefined;
  #finished = false;
  #aborted: string | undefined;
  #done = Promise.withResolvers<void>();
  #lag: LagProbe | undefined;

  constructor(
    options: LoadOptions,
    orders: OrderGenerator,
    lanes: number,
    tally: Tally,
    ledger?: Ledger,
  ) {
    this.options = options;
    this.orders = orders;
    this.#tally = tally;
    this.#ledger = ledger;
    this.#lanes = Array.from(
      { length: lanes },
      (_, slot) =>
        options.mode === "pipeline" ? new PipelineLane(this, slot) : new ConnectionLane(this, slot),
    );
    this.#queued = new Uint8Array(lanes);
  }

  get finished(): boolean {
    return this.#finished;
  }

  /**
   * Opens the persistent connections (pipeline mode) and waits for their
   * greetings, so that an open loop's schedule does not start with a backlog.
   */
  async open(): Promise<void> {
    await Promise.all(this.#lanes.map((lane) => lane instanceof PipelineLane && lane.connect()));
  }

  /**
   * Sends the source's orders until every one this driver took has its
   * outcome and the source has no more (or the run is aborted).
   *
   * @param onTick called on every watchdog tick, e.g. to publish progress
   */
  async drive(source: OrderSource, onTick?: () => void): Promise<DriverResult> {
    const now = performance.now();
    this.#source = source;
    this.#driving = true;
    this.#lastConnectedAt = now;
    this.#lastOutcomeAt = now;
    this.#lag = new LagProbe(WATCHDOG_MS, now);
    for (const lane of this.#lanes) if (lane.hasRoom) this.markReady(lane);
    const watchdog = setInterval(() => {
      this.#watch();
      onTick?.();
    }, WATCHDOG_MS);
    try {
      this.pump();
      await this.#done.promise;
    } finally {
      clearInterval(watchdog);
      clearTimeout(this.#ticker);
      for (const lane of this.#lanes) lane.close();
    }
    return {
      lastOutcomeAt: this.#lastOutcomeAt,
      ...(this.#aborted ? { aborted: this.#aborted } : {}),
      lagSamplesMs: this.#lag.samples,
    };
  }

  /** Puts a lane with room at the back of the round-robin. */
  markReady(lane: Lane): void {
    if (this.#finished || this.#queued[lane.slot] === 1) return;
    this.#queued[lane.slot] = 1;
    this.#ready.push(lane);
  }

  /** A lane's connection is up and greeted. */
  connected(): void {
    this.#openConnections++;
  }

  /** A connection could not be opened or was not greeted. */
  connectFailed(reason: string): void {
    this.#tally.failedConnections++;
    this.#lastConnectError = reason;
  }

  /** A lane's connection went down. */
  disconnected(): void {
    this.#openConnections--;
    this.#lastConnectedAt = performance.now();
  }

  /** Records the reply to message `index`, sent or due at `start`. */
  replied(index: number, start: number, line: ServerLine, now: number): void {
    this.#tally.reply(this.orders.kind(index), line, now - start);
    if (line.tipo === "ok" && line.id !== undefined) this.#ledger?.add(line.id, index);
    this.#lastOutcomeAt = now;
  }

  /** Records that `count` orders got no reply. */
  failed(reason: string, count = 1): void {
    if (count <= 0) return;
    this.#tally.error(reason, count);
    this.#lastOutcomeAt = performance.now();
  }

  /** Takes the next order from the source and counts it as sent; -1 if another thread took it. */
  #take(): number {
    const index = this.#source.take();
    if (index < 0) return index;
    this.#tally.sent(this.orders.kind(index));
    this.#ledger?.markSent(index);
    return index;
  }

  /** Hands available orders to lanes with room, then sends them. */
  pump(): void {
    if (this.#finished || !this.#driving) return;
    const now = performance.now();
    const source = this.#source;
    source.refresh(now);
    const touched = this.#touched;
    while (source.available > 0 && this.#readyHead < this.#ready.length) {
      const lane = this.#ready[this.#readyHead]!;
      if (lane.hasRoom) {
        const index = this.#take();
        if (index < 0) break;
        lane.assign(index, source.startOf(index, now));
        touched.push(lane);
      }
      this.#readyHead++;
      this.#queued[lane.slot] = 0;
      if (lane.hasRoom) this.markReady(lane);
    }
    if (this.#readyHead > 1024 && this.#readyHead * 2 > this.#ready.length) {
      this.#ready = this.#ready.slice(this.#readyHead);
      this.#readyHead = 0;
    }
    for (let i = 0; i < touched.length; i++) {
      // A lane given several orders appears once per order; flushing twice costs nothing.
      touched[i]!.flush();
    }
    touched.length = 0;
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
    if (this.#finished || !this.#source.exhausted || this.#tally.outstanding > 0) return;
    this.#finished = true;
    this.#done.resolve();
  }

  #abort(reason: string) {
    this.#aborted = reason;
    // Open loop: orders already due but never handed to a connection count
    // as sent and failed. A closed loop simply never sends the rest.
    let waiting = 0;
    if (this.options.rate !== undefined) {
      while (this.#take() >= 0) waiting++;
    }
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
    if (
      this.options.mode === "pipeline" && this.#openConnections === 0 &&
      now - this.#lastConnectedAt > timeoutMs
    ) {
      const cause = this.#lastConnectError ? ` (último error: ${this.#lastConnectError})` : "";
      this.#abort(`ninguna conexión con el servidor durante ${timeoutMs} ms${cause}`);
      return;
    }
    const source = this.#source;
    source.refresh(now);
    const waitingSince = source.oldestWaiting();
    if (waitingSince !== undefined && now - waitingSince > timeoutMs) {
      // Open loop, more arrivals than connections can carry: too late to send.
      let expired = 0;
      while (source.available > 0 && now - source.startOf(source.next, now) > timeoutMs) {
        if (this.#take() >= 0) expired++;
      }
      this.failed("sin enviar a tiempo", expired);
    }
    this.pump();
  }
}
