/**
 * The dashboard's live feed: once a second, one snapshot of the server
 * (statistics, occupancy, a throughput and latency sample, the orders
 * finished since the last one) is built and encoded once, and the same bytes
 * go to every open page as a server-sent event. Ten pages cost what one
 * does, plus the writes. Pages that stop reading are dropped, so a stalled
 * browser cannot make the server hold ever more snapshots; their
 * `EventSource` reconnects on its own and starts afresh.
 *
 * @module
 */
import type { StatsFigures, StatsReply } from "../stats/snapshot.ts";
import { History, type Sample } from "./history.ts";
import type { MetricsSource, Occupancy } from "./metrics.ts";
import type { Timeline } from "./recorder.ts";

/** What the feed reads. */
export interface LiveSource extends MetricsSource {
  /** The same figures as the `estadisticas` request. */
  stats(): Readonly<StatsReply>;
}

/** The statistics as the page gets them: without the intervals it does not draw. */
export type PageStats = StatsFigures;

/** One second's event (`tick`). */
export interface Tick {
  /** Epoch ms when it was built. */
  t: number;
  estadisticas: PageStats;
  ocupacion: Occupancy;
  /** The second that just ended; `null` on the first. */
  muestra: Sample | null;
  /** Orders finished since the previous tick, and those in process now. */
  linea: Timeline;
}

/** The first event a page gets (`inicio`): a tick with the whole timeline, and the history. */
export interface Start extends Tick {
  historia: Sample[];
}

/** Options of {@link LiveFeed}. */
export interface LiveFeedOptions {
  /** @default 1000 */
  intervalMs?: number;
  /** Samples kept for the charts. @default 300 (five minutes at one a second) */
  historyLength?: number;
  /** Ticks a page may fall behind before it is dropped. @default 8 */
  maxBehind?: number;
  /** Clock in epoch ms. @default Date.now */
  now?: () => number;
}

const encoder = new TextEncoder();

/** One server-sent event. JSON has no raw newlines, so one `data:` line suffices. */
export function sseEvent(name: string, value: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(value)}\n\n`;
}

function pageStats(snapshot: Readonly<StatsReply>): PageStats {
  const { intervalos: _intervalos, ...rest } = snapshot;
  return rest;
}

/**
 * @example
 * ```ts
 * const feed = new LiveFeed(source);
 * const response = new Response(feed.subscribe(), { headers: { "content-type": "text/event-stream" } });
 * feed.close(); // at shutdown: ends every stream
 * ```
 */
export class LiveFeed {
  readonly #source: LiveSource;
  readonly #history: History;
  readonly #now: () => number;
  readonly #maxBehind: number;
  readonly #pages = new Set<ReadableStreamDefaultController<Uint8Array>>();
  readonly #timer: ReturnType<typeof setInterval>;
  /** The timeline position the last tick went up to. */
  #sent = 0;
  #lastSample: Sample | null = null;

  constructor(source: LiveSource, options: LiveFeedOptions = {}) {
    this.#source = source;
    this.#history = new History(options.historyLength ?? 300);
    this.#now = options.now ?? Date.now;
    this.#maxBehind = options.maxBehind ?? 8;
    this.#sample();
    this.#timer = setInterval(() => this.tick(), options.intervalMs ?? 1000);
  }

  /** Pages connected now. */
  get pages(): number {
    return this.#pages.size;
  }

  /** The samples kept for the charts, oldest first. */
  history(): Sample[] {
    return this.#history.samples();
  }

  /** A stream of server-sent events for one page: `inicio`, then a `tick` every interval. */
  subscribe(): ReadableStream<Uint8Array> {
    let page: ReadableStreamDefaultController<Uint8Array>;
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        page = controller;
        const start: Start = { ...this.#build(0), historia: this.#history.samples() };
        controller.enqueue(encoder.encode(`retry: 2000\n\n${sseEvent("inicio", start)}`));
        this.#pages.add(controller);
      },
      cancel: () => {
        this.#pages.delete(page);
      },
    });
  }

  /** Takes this interval's sample and sends one shared event to every page (the timer calls it). */
  tick(): void {
    this.#sample();
    if (this.#pages.size === 0) {
      this.#sent = this.#source.recorder.finishedCount;
      return;
    }
    const tick = this.#build(this.#sent);
    this.#sent = tick.linea.hasta;
    const bytes = encoder.encode(sseEvent("tick", tick));
    for (const page of this.#pages) {
      if ((page.desiredSize ?? 0) <= -this.#maxBehind) {
        this.#pages.delete(page);
        page.error(new Error("la página no lee sus eventos"));
        continue;
      }
      page.enqueue(bytes);
    }
  }

  /** Stops the timer and ends every page's stream. */
  close(): void {
    clearInterval(this.#timer);
    for (const page of this.#pages) page.close();
    this.#pages.clear();
  }

  #sample() {
    const { recorder } = this.#source;
    const sample = this.#history.record(this.#now(), {
      terminados: recorder.finishedCount,
      recibidos: recorder.counts().received.accepted ?? 0,
      duracion: recorder.duration.totals(),
      espera: recorder.queueWait.totals(),
    });
    if (sample) this.#lastSample = sample;
  }

  #build(since: number): Tick {
    return {
      t: this.#now(),
      estadisticas: pageStats(this.#source.stats()),
      ocupacion: this.#source.occupancy(),
      muestra: this.#lastSample,
      linea: this.#source.recorder.timeline(since),
    };
  }
}
