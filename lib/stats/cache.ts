/**
 * Statistics shared by every request that asks for them. A client can
 * pipeline thousands of `estadisticas` requests in one read; each must not
 * cost a snapshot and its serialisation. The figures are cheap and always
 * current: they are built again only when something was recorded since (or
 * when their `hasta` is older than `maxAgeMs`). The intervals are what is
 * expensive (up to 112 KB of JSON for 2,000): the most recent `intervalos`
 * of them are built and serialised at most once per `maxAgeMs`, so the
 * timeline may lag the figures by that much. Every value handed out is
 * frozen, since many replies share it, and comes with its JSON.
 *
 * @module
 */
import type { ProcessingStats } from "./live.ts";
import type { StatsFigures, StatsReply } from "./snapshot.ts";
import type { Interval } from "./timeline.ts";

/** A snapshot shared by many replies, and its JSON. */
export interface SharedSnapshot {
  /** Frozen, with everything in it. */
  readonly snapshot: Readonly<StatsReply>;
  /** `JSON.stringify(snapshot)`. */
  readonly json: string;
}

/** Options of {@link SnapshotCache}. */
export interface SnapshotCacheOptions {
  /** Most intervals a snapshot carries (the most recent ones). @default 500 */
  intervalos?: number;
  /** How long a snapshot's parts may be reused. @default 250 */
  maxAgeMs?: number;
  /** Clock in epoch ms. @default Date.now */
  now?: () => number;
}

/** Current counts that come from outside the statistics (the pool's). */
export interface CurrentCounts {
  /** Orders waiting now. */
  enCola: number;
  /** Orders being processed now. */
  enProceso: number;
}

/**
 * About 56 bytes of JSON each: 500 intervals make a reply of about 28 KB
 * and a timeline of the last few hundred orders, plenty for 60 columns.
 */
const DEFAULT_INTERVALS = 500;
const DEFAULT_MAX_AGE_MS = 250;

/** A part of a snapshot, when it was built and from what. */
interface Part<T> {
  value: T;
  json: string;
  /** The statistics' version it was built at. */
  version: number;
  at: number;
}

/**
 * One run's statistics as every request gets them: shared, frozen, with
 * their JSON (see the module's documentation for when they are rebuilt).
 *
 * @example
 * ```ts
 * const stats = new ProcessingStats();
 * const cache = new SnapshotCache(stats);
 * const { snapshot, json } = cache.get({ enCola: 0, enProceso: 0 }, { intervalos: true });
 * ```
 */
export class SnapshotCache {
  readonly #stats: ProcessingStats;
  readonly #limit: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  #figures:
    | Part<Readonly<StatsFigures>> & { counts: CurrentCounts; shared: SharedSnapshot }
    | undefined;
  #intervals: Part<readonly Interval[]> | undefined;
  /** The last snapshot with intervals, and the parts it was made of. */
  #combined: { shared: SharedSnapshot; from: readonly [object, object] } | undefined;

  /**
   * Takes its snapshots from `stats`.
   *
   * @throws {RangeError} if `intervalos` or `maxAgeMs` is not a non-negative integer.
   */
  constructor(stats: ProcessingStats, options: SnapshotCacheOptions = {}) {
    this.#stats = stats;
    this.#limit = checkNonNegative("intervalos", options.intervalos ?? DEFAULT_INTERVALS);
    this.#maxAgeMs = checkNonNegative("maxAgeMs", options.maxAgeMs ?? DEFAULT_MAX_AGE_MS);
    this.#now = options.now ?? Date.now;
  }

  /**
   * The statistics now, with the most recent intervals if `intervalos`.
   * While nothing is recorded and the counts stay the same, calls return
   * the very same object for up to `maxAgeMs`.
   */
  get(current: CurrentCounts, options: { intervalos: boolean }): SharedSnapshot {
    const figures = this.#currentFigures(current);
    if (!options.intervalos) return figures.shared;
    const intervals = this.#recentIntervals();
    const combined = this.#combined;
    if (combined && combined.from[0] === figures && combined.from[1] === intervals) {
      return combined.shared;
    }
    const shared = {
      snapshot: Object.freeze({ ...figures.value, intervalos: intervals.value }),
      // The figures' JSON is an object: open it again to append the intervals.
      json: `${figures.json.slice(0, -1)},"intervalos":${intervals.json}}`,
    };
    this.#combined = { shared, from: [figures, intervals] };
    return shared;
  }

  #currentFigures(current: CurrentCounts) {
    const now = this.#now();
    const version = this.#stats.version;
    const last = this.#figures;
    if (
      last && last.version === version && last.counts.enCola === current.enCola &&
      last.counts.enProceso === current.enProceso && now - last.at < this.#maxAgeMs
    ) {
      return last;
    }
    const value = deepFreeze(this.#stats.figures(current));
    const json = JSON.stringify(value);
    const counts = { enCola: current.enCola, enProceso: current.enProceso };
    this.#figures = { value, json, version, at: now, counts, shared: { snapshot: value, json } };
    return this.#figures;
  }

  #recentIntervals(): Part<readonly Interval[]> {
    const now = this.#now();
    const version = this.#stats.version;
    const last = this.#intervals;
    if (last && (last.version === version || now - last.at < this.#maxAgeMs)) return last;
    const value = deepFreeze(this.#stats.recentIntervals(this.#limit));
    this.#intervals = { value, json: JSON.stringify(value), version, at: now };
    return this.#intervals;
  }
}

function checkNonNegative(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} inválido para las estadísticas compartidas: ${value}`);
  }
  return value;
}

/** Freezes a JSON-like value and everything in it. */
function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
