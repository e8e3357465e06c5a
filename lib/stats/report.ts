/**
 * The Spanish report of a snapshot ({@link StatsReply}), as the server prints it at
 * shutdown, `stats --db` prints it for a database and the client prints it
 * for `--stats`. Pure: returns a string.
 *
 * @module
 */
import type { StatsReply } from "./snapshot.ts";
import { renderTimeline } from "./timeline.ts";

/** Options of {@link renderReport}. */
export interface ReportOptions {
  /** Columns of the timeline's bars. @default 60 */
  width?: number;
}

function plural(n: number, singular: string, pluralForm: string): string {
  return `${n} ${n === 1 ? singular : pluralForm}`;
}

/**
 * The Spanish report of a snapshot, as the server's clients and
 * `stats --db` print it: one line per figure, durations in seconds with 3
 * decimals, then the timeline of the snapshot's intervals (none if the
 * snapshot came without them). Lines are joined by `\n`, without a final
 * newline.
 *
 * @example
 * ```ts
 * const stats = new ProcessingStats();
 * console.log(renderReport(stats.snapshot({ enCola: 0, enProceso: 0 }), { width: 40 }));
 * // 📊 Estadísticas de procesamiento (2026-11-28T10:00:00.000Z → 2026-11-28T10:00:09.412Z)
 * //   Pedidos: 6 recibidos · 6 listos · 0 fallidos · 0 en cola · 0 en proceso
 * //   Rechazos: limite 4 · pedido_invalido 1
 * //   Duración (s): mín 2.001 · media 2.003 · p50 2.002 · p95 2.006 · máx 2.006
 * //   Rendimiento: 1.47 pedidos/s
 * //   Máximo en paralelo: 3 pedidos a la vez
 * //   Por worker: #1 2 · #2 2 · #3 2
 * //   Línea de tiempo:
 * //     worker 1 │████…│ 2 pedidos
 * //     …
 * ```
 */
export function renderReport(snapshot: StatsReply, options: ReportOptions = {}): string {
  const s = snapshot;
  const lines = [`📊 Estadísticas de procesamiento (${s.desde} → ${s.hasta})`];
  lines.push(
    "  Pedidos: " + [
      plural(s.recibidos, "recibido", "recibidos"),
      ...(s.recuperados > 0 ? [plural(s.recuperados, "recuperado", "recuperados")] : []),
      plural(s.listos, "listo", "listos"),
      plural(s.fallidos, "fallido", "fallidos"),
      `${s.enCola} en cola`,
      `${s.enProceso} en proceso`,
    ].join(" · "),
  );

  const rechazos = Object.entries(s.rechazos)
    .filter(([, n]) => n > 0)
    .sort(([a, n], [b, m]) => m - n || (a < b ? -1 : a > b ? 1 : 0));
  lines.push(
    "  Rechazos: " +
      (rechazos.length === 0 ? "ninguno" : rechazos.map(([c, n]) => `${c} ${n}`).join(" · ")),
  );

  const d = s.duracion;
  lines.push(
    "  Duración (s): " +
      (d === null ? "sin pedidos listos" : [
        `mín ${d.min.toFixed(3)}`,
        `media ${d.media.toFixed(3)}`,
        `p50 ${d.p50.toFixed(3)}`,
        `p95 ${d.p95.toFixed(3)}`,
        `máx ${d.max.toFixed(3)}`,
      ].join(" · ")),
  );
  lines.push(
    "  Rendimiento: " +
      (s.rendimiento === null ? "sin datos" : `${s.rendimiento.toFixed(2)} pedidos/s`),
  );
  lines.push(
    `  Máximo en paralelo: ${plural(s.maxSimultaneos, "pedido", "pedidos")} a la vez`,
  );

  const workers = Object.entries(s.porWorker).sort(([a], [b]) => Number(a) - Number(b));
  lines.push(
    "  Por worker: " +
      (workers.length === 0 ? "ninguno" : workers.map(([w, n]) => `#${w} ${n}`).join(" · ")),
  );

  if (s.intervalos !== undefined) {
    lines.push("  Línea de tiempo:");
    const timelineOptions = options.width === undefined ? {} : { width: options.width };
    for (const line of renderTimeline(s.intervalos, timelineOptions).split("\n")) {
      lines.push(`    ${line}`);
    }
  }
  return lines.join("\n");
}
