/**
 * What the client prints for each result: human text in the server's words,
 * or one JSON object per line for scripts (the protocol's own objects, plus
 * the `linea` and `clave` a script needs to match and resend them). Pure.
 *
 * @module
 */
import { escapeControl } from "../util/log.ts";
import {
  type FinishedEvent,
  isWholeOrder,
  type OrderView,
  type PublicOrderView,
  type Reply,
} from "../wire/protocol.ts";
import { renderReport } from "../stats/report.ts";
import type { StatsReply } from "../stats/snapshot.ts";

/** Tally of a batch, printed after its results. */
export interface BatchSummary {
  pedidos: number;
  /** Includes orders the server already had under the same key. */
  aceptados: number;
  duplicados: number;
  /** By `codigo`. */
  rechazados: Record<string, number>;
  /** Sent but never answered: the connection failed. */
  sin_respuesta: number;
  /** With `--wait` only. */
  listos?: number;
  /** With `--wait` only. */
  fallidos?: number;
}

/** Where an order came from, for its result line. */
export interface OrderContext {
  /** Batch line number; absent for a one-shot order. */
  linea?: number | undefined;
  clave: string;
}

/** Turns results into text; every method returns whole lines. */
export interface Renderer {
  /** The reply to an order: accepted, already registered, or rejected. */
  orderReply(reply: Reply, context: OrderContext): string;
  /** An order that reached `listo` or `fallido` (`--wait`). */
  finished(event: FinishedEvent, linea?: number): string;
  /** The reply to `--status`. */
  status(reply: Reply): string;
  /** The reply to `--stats`. */
  stats(reply: Reply): string;
  summary(summary: BatchSummary): string;
  /**
   * An order sent but never answered, with the command that resends it under
   * its key. People read this on stderr, with the error that ended the run.
   */
  unanswered(context: OrderContext, reintento: string): string;
}

/** What the client says of an order sent but never answered. */
export const UNANSWERED = "sin respuesta: no se sabe si el pedido quedó registrado";

/**
 * One JSON object per line: replies and events as the server sent them.
 *
 * @example
 * ```ts
 * jsonRenderer.orderReply({ ok: true, id: 7, mensaje: "✅ Pedido encolado #7" }, { clave: "k1" });
 * // '{"ok":true,"id":7,"mensaje":"✅ Pedido encolado #7","clave":"k1"}\n'
 * ```
 */
export const jsonRenderer: Renderer = {
  orderReply: (reply, { linea, clave }) => line({ ...lineField(linea), ...reply, clave }),
  finished: (event, linea) => line({ ...lineField(linea), ...event }),
  status: (reply) => line(reply),
  stats: (reply) => line(reply),
  summary: (summary) => line({ resumen: summary }),
  unanswered: ({ linea, clave }, reintento) =>
    line({ ...lineField(linea), sin_respuesta: true, mensaje: UNANSWERED, clave, reintento }),
};

/**
 * Text for people, in the server's words. Text that came from the server is
 * shown with control characters escaped, so it cannot drive the terminal.
 *
 * @example
 * ```ts
 * humanRenderer.orderReply({ ok: true, id: 42, mensaje: "✅ Pedido encolado #42" }, { clave: "k" });
 * // "✅ Pedido encolado #42\n"
 * ```
 */
export const humanRenderer: Renderer = {
  orderReply(reply, { linea }) {
    const lines = [prefix(linea) + safe(reply.mensaje)];
    if (!reply.ok && reply.errores) {
      for (const [field, text] of Object.entries(reply.errores)) {
        lines.push(`   ${safe(field)}: ${safe(text)}`);
      }
    }
    return lines.join("\n") + "\n";
  },
  finished(event, linea) {
    const p = event.pedido;
    return [
      prefix(linea) + safe(event.mensaje),
      ...details([
        ["inicio", p.fecha_inicio ?? "—"],
        ["fin", p.fecha_fin ?? "—"],
        ["duración", seconds(p.duracion)],
        ...resultRow(p),
      ]),
    ].join("\n") + "\n";
  },
  status(reply) {
    if (!reply.ok || !reply.pedido) return safe(reply.mensaje) + "\n";
    return [safe(reply.mensaje), ...details(orderRows(reply.pedido))].join("\n") + "\n";
  },
  stats(reply) {
    if (!reply.ok) return safe(reply.mensaje) + "\n";
    return renderReport(reply.estadisticas as StatsReply) + "\n";
  },
  summary(s) {
    const rechazados = Object.values(s.rechazados).reduce((a, b) => a + b, 0);
    const parts = [
      plural(s.pedidos, "pedido", "pedidos"),
      plural(s.aceptados, "aceptado", "aceptados") +
      (s.duplicados > 0
        ? ` (${s.duplicados} ya ${s.duplicados === 1 ? "registrado" : "registrados"})`
        : ""),
      plural(rechazados, "rechazado", "rechazados") +
      (rechazados > 0
        ? ` (${Object.entries(s.rechazados).map(([c, n]) => `${c} ${n}`).join(", ")})`
        : ""),
    ];
    if (s.sin_respuesta > 0) parts.push(`${s.sin_respuesta} sin respuesta`);
    if (s.listos !== undefined) parts.push(plural(s.listos, "listo", "listos"));
    if (s.fallidos !== undefined) parts.push(plural(s.fallidos, "fallido", "fallidos"));
    return `Resumen: ${parts.join(" · ")}\n`;
  },
  unanswered: () => "",
};

function orderRows(p: OrderView | PublicOrderView): [string, string][] {
  const times: [string, string][] = [
    ["recibido", p.fecha_recibido],
    ["inicio", p.fecha_inicio ?? "—"],
    ["fin", p.fecha_fin ?? "—"],
    ["duración", seconds(p.duracion)],
  ];
  if (!isWholeOrder(p)) {
    return [
      ...times,
      ["intentos", String(p.intentos)],
      ["datos del pedido", "solo con su clave (--clave) o un token de operador"],
    ];
  }
  const rows: [string, string][] = [
    ["cliente", p.cliente],
    ["productos", p.productos.join(", ")],
    ["dirección", p.direccion],
    ...times,
    ["worker", p.worker === null ? "—" : String(p.worker)],
    ["intentos", String(p.intentos)],
  ];
  if (p.motivo_fallo !== null) rows.push(["motivo del fallo", p.motivo_fallo]);
  rows.push(...resultRow(p));
  return rows;
}

/** The processor's result as compact JSON, if there is one (older servers send no field). */
function resultRow(p: OrderView): [string, string][] {
  return p.resultado === null || p.resultado === undefined
    ? []
    : [["resultado", JSON.stringify(p.resultado)]];
}

function details(rows: [string, string][]): string[] {
  const width = Math.max(...rows.map(([label]) => label.length)) + 1;
  return rows.map(([label, value]) => `   ${`${label}:`.padEnd(width)} ${safe(value)}`);
}

function seconds(duracion: number | null): string {
  return duracion === null ? "—" : `${duracion.toFixed(3)} s`;
}

function prefix(linea: number | undefined): string {
  return linea === undefined ? "" : `línea ${linea}: `;
}

function lineField(linea: number | undefined): { linea?: number } {
  return linea === undefined ? {} : { linea };
}

function line(value: unknown): string {
  return JSON.stringify(value) + "\n";
}

function safe(text: string): string {
  return escapeControl(String(text));
}

function plural(n: number, singular: string, pluralForm: string): string {
  return `${n} ${n === 1 ? singular : pluralForm}`;
}
