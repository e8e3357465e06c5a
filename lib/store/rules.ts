/**
 * How stored values are derived, the same for every backend: dates as
 * ISO-8601 text, durations in seconds. Kept in code rather than in SQL so
 * that no backend's date functions decide what a duration is.
 *
 * @module
 */

import type { OrderUpdate, OrderView } from "./types.ts";

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

/** An update as applied: an `inicio` and its `fin` in one batch become one `completo`. */
export type Change =
  | OrderUpdate
  | (Omit<Extract<OrderUpdate, { tipo: "fin" }>, "tipo"> & { tipo: "completo" });

/**
 * A batch's updates grouped by order, in order, with each `inicio` directly
 * followed by its `fin` merged into one `completo` (the usual case for short
 * work), so each backend writes it as one change.
 *
 * @example
 * ```ts
 * const byOrder = changesByOrder([
 *   { tipo: "inicio", id: 7, worker: 1, inicio: 0 },
 *   { tipo: "fin", id: 7, worker: 1, inicio: 0, fin: 5 },
 * ]);
 * byOrder.get(7)![0]!.tipo; // "completo"
 * ```
 */
export function changesByOrder(updates: readonly OrderUpdate[]): Map<number, Change[]> {
  const byOrder = new Map<number, Change[]>();
  for (const update of updates) {
    const changes = byOrder.get(update.id);
    if (!changes) {
      byOrder.set(update.id, [update]);
      continue;
    }
    const last = changes[changes.length - 1]!;
    if (update.tipo === "fin" && last.tipo === "inicio") {
      changes[changes.length - 1] = { ...update, tipo: "completo" };
    } else {
      changes.push(update);
    }
  }
  return byOrder;
}

/** An order's row as a database returns it: `productos` and `resultado` still JSON text. */
export type Raw<T extends OrderView> = Omit<T, "productos" | "resultado"> & {
  productos: string;
  resultado: string | null;
};

/** A stored row with its JSON columns read, the same for every backend. */
export function parsed<T extends OrderView>(row: Raw<T>): T {
  return {
    ...row,
    productos: JSON.parse(row.productos),
    resultado: row.resultado === null ? null : JSON.parse(row.resultado),
  } as T;
}
