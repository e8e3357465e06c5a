/**
 * The statistics snapshot: the JSON-safe shape that both the live counters
 * (`ProcessingStats` in `live.ts`) and the replay of stored rows
 * (`replay.ts`) produce and the report (`report.ts`) renders, and the
 * figures both compute the same way. Pure.
 *
 * @module
 */
import type { Histogram } from "./histogram.ts";
import type { Interval } from "./timeline.ts";

/** The figures of a run or a database: a snapshot without its intervals. */
export interface StatsFigures {
  /** ISO-8601 UTC start of the report's window. */
  desde: string;
  /** ISO-8601 UTC end of the report's window. */
  hasta: string;
  /** Orders admitted. */
  recibidos: number;
  /** Orders a previous run left unfinished, taken up again by this one. */
  recuperados: number;
  listos: number;
  fallidos: number;
  /** Orders waiting now (supplied by the caller). */
  enCola: number;
  /** Orders being processed now (supplied by the caller). */
  enProceso: number;
  /** Rejections by `codigo` (`limite`, `pedido_invalido`, `json_invalido`…). */
  rechazos: Record<string, number>;
  /** Durations in seconds of the `listo` orders; `null` if there are none. */
  duracion: { min: number; media: number; p50: number; p95: number; max: number } | null;
  /** Finished orders per second between the first `inicio` and the last `fin`; `null` if none or a span of 0. */
  rendimiento: number | null;
  /** Most orders in process at one instant. */
  maxSimultaneos: number;
  /** Finished orders per worker number. */
  porWorker: Record<string, number>;
}

/** Statistics of a run or a database, safe to send as JSON. */
export interface StatsSnapshot extends StatsFigures {
  /** The most recent finished intervals (bounded), oldest first, for the timeline. */
  intervalos: Interval[];
}

/**
 * Statistics as an `estadisticas` reply carries them: the intervals only
 * when the request asked for them.
 */
export type StatsReply = StatsFigures & { intervalos?: readonly Interval[] };

/** How many recent intervals a snapshot keeps for its timeline unless told otherwise. */
export const DEFAULT_TIMELINE_CAPACITY = 2000;

/**
 * Checks a timeline capacity.
 *
 * @throws {RangeError} if it is not a non-negative integer.
 */
export function checkCapacity(capacity: number): number {
  if (!Number.isSafeInteger(capacity) || capacity < 0) {
    throw new RangeError(`Capacidad inválida para la línea de tiempo: ${capacity}`);
  }
  return capacity;
}

/** Seconds rounded to the microsecond, so JSON stays short. */
function seconds(ms: number): number {
  return Math.round(ms * 1000) / 1e6;
}

/** The `duracion` figures of a histogram of milliseconds; `null` if it is empty. */
export function durationOf(h: Histogram): StatsSnapshot["duracion"] {
  if (h.count === 0) return null;
  return {
    min: seconds(h.min),
    media: seconds(h.mean),
    p50: seconds(h.percentile(0.5)),
    p95: seconds(h.percentile(0.95)),
    max: seconds(h.max),
  };
}

/** Finished orders per second over `[firstInicio, lastFin]`; `null` if none or a span of 0. */
export function throughput(finished: number, firstInicio: number, lastFin: number): number | null {
  const span = lastFin - firstInicio;
  if (finished < 1 || !Number.isFinite(span) || span <= 0) return null;
  return finished / (span / 1000);
}

/** Finished orders per worker as a JSON object, workers in ascending order. */
export function perWorker(counts: ReadonlyMap<number, number>): Record<string, number> {
  return Object.fromEntries([...counts].sort(([a], [b]) => a - b).map(([k, v]) => [String(k), v]));
}
