/**
 * How stored values are derived, the same for every backend: dates as
 * ISO-8601 text, durations in seconds. Kept in code rather than in SQL so
 * that no backend's date functions decide what a duration is.
 *
 * @module
 */

// Orders received in the same millisecond share one ISO string: at high rates
// most of them do, and formatting a date costs more than storing it.
let lastIsoMs = NaN;
let lastIso = "";

/**
 * A stored date: ISO-8601 UTC with milliseconds.
 *
 * @example
 * ```ts
 * isoDate(Date.UTC(2026, 10, 28, 10)); // "2026-11-28T10:00:00.000Z"
 * ```
 */
export function isoDate(ms: number): string {
  if (ms !== lastIsoMs) {
    lastIso = new Date(ms).toISOString();
    lastIsoMs = ms;
  }
  return lastIso;
}

/**
 * `duracion` of an order: seconds from its start to its end, to the millisecond.
 *
 * @example
 * ```ts
 * durationSeconds(1000, 3001.4); // 2.001
 * ```
 */
export function durationSeconds(inicioMs: number, finMs: number): number {
  return Math.round(finMs - inicioMs) / 1000;
}

/**
 * `duracion` of a failed order: from its last stored start (`fecha_inicio`)
 * to its end; `null` if it never started or the start is unreadable.
 *
 * @example
 * ```ts
 * failureDuration("2026-11-28T10:00:00.000Z", Date.UTC(2026, 10, 28, 10, 0, 1, 500)); // 1.5
 * failureDuration(null, Date.now()); // null
 * ```
 */
export function failureDuration(fechaInicio: string | null, finMs: number): number | null {
  if (fechaInicio === null) return null;
  const inicio = Date.parse(fechaInicio);
  return Number.isNaN(inicio) ? null : durationSeconds(inicio, finMs);
}
