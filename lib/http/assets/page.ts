/**
 * The dashboard: one self-contained HTML page (style and script inline, no
 * font, image or library from anywhere), served live by the HTTP side and
 * written to a file by `stats --html`. Built from TypeScript string modules
 * so that `deno compile` embeds it like any other code.
 *
 * @module
 */
import { SCRIPT } from "./script.ts";
import { STYLE } from "./style.ts";

/**
 * JSON that is safe inside a `<script>` element: no `</script>` or `<!--`
 * can close or change it, whatever strings the data holds.
 */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value)
    .replaceAll("<", "\\u003c")
    .replaceAll("\u2028", "\\u2028")
    .replaceAll("\u2029", "\\u2029");
}

function card(campo: string, nombre: string, clase = ""): string {
  return `<div class="tarjeta"><span class="valor ${clase}" data-campo="${campo}">–</span>` +
    `<span class="nombre">${nombre}</span></div>`;
}

/**
 * The page. Without `data` it is the live dashboard, which connects to
 * `api/events` on the server that served it; with `data` (what an `inicio`
 * event carries) it is a static report that never connects.
 *
 * @example
 * ```ts
 * new Response(dashboardPage(), { headers: { "content-type": "text/html; charset=utf-8" } });
 * ```
 */
export function dashboardPage(data?: unknown, title = "pedidos · panel en vivo"): string {
  const embedded = data === undefined
    ? ""
    : `<script type="application/json" id="datos">${scriptSafeJson(data)}</script>\n`;
  const escapedTitle = title.replaceAll("&", "&amp;").replaceAll("<", "&lt;");
  return `<!doctype html>
<html lang="es">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapedTitle}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>${escapedTitle}</h1>
  <span id="conexion" class="estado">conectando…</span>
  <span class="suave">periodo <span id="periodo">–</span> · actualizado <span id="actualizado">–</span></span>
</header>
<main>
  <section aria-label="Pedidos">
    <div class="tarjetas">
      ${card("recibidos", "recibidos")}
      ${card("listos", "listos", "listos")}
      ${card("fallidos", "fallidos", "fallidos")}
      ${card("enCola", "en cola")}
      ${card("enProceso", "en proceso", "en-proceso")}
      ${card("rechazos", "rechazados")}
      ${card("recuperados", "recuperados")}
      ${card("rendimiento", "pedidos/s (promedio)")}
      ${card("p50", "duración p50")}
      ${card("p95", "duración p95")}
      ${card("maxSimultaneos", "máximo en paralelo")}
    </div>
    <h2 class="aparte">Rechazos por código</h2>
    <ul id="rechazos" class="rechazos"></ul>
  </section>
  <section data-solo-en-vivo aria-label="Admisión">
    <h2>Admisión: <span data-campo="enUso">–</span> de <span data-campo="max">–</span> permisos en uso</h2>
    <div id="admision" class="medidor"><div></div></div>
    <p class="suave aparte">
      <span data-campo="workersOcupados">–</span> de <span data-campo="workers">–</span> workers ocupados ·
      <span data-campo="conexiones">–</span> conexiones abiertas
    </p>
  </section>
  <section class="graficos">
    <figure id="grafico-rendimiento">
      <figcaption>Pedidos por segundo</figcaption>
      <div class="grafico"><svg viewBox="0 0 600 160" preserveAspectRatio="none" role="img" aria-label="pedidos por segundo"></svg><span class="tope"></span></div>
      <div class="eje"><span></span><span></span></div>
      <div class="leyenda"><span style="--color:var(--listo)">terminados</span><span data-solo-en-vivo style="--color:var(--acento)">admitidos</span></div>
    </figure>
    <figure id="grafico-latencia">
      <figcaption>Latencia</figcaption>
      <div class="grafico"><svg viewBox="0 0 600 160" preserveAspectRatio="none" role="img" aria-label="latencia"></svg><span class="tope"></span></div>
      <div class="eje"><span></span><span></span></div>
      <div class="leyenda"><span style="--color:var(--listo)">procesamiento (media)</span><span style="--color:var(--proceso)">procesamiento p95 (aprox.)</span><span data-solo-en-vivo style="--color:var(--espera)">espera en cola (media)</span></div>
    </figure>
  </section>
  <section aria-label="Línea de tiempo">
    <h2>Línea de tiempo por worker · últimos <span data-campo="recientes">–</span> pedidos terminados</h2>
    <div id="linea"></div>
    <div class="eje linea-eje"><span id="linea-desde"></span><span id="linea-hasta"></span></div>
  </section>
</main>
${embedded}<script>${SCRIPT}</script>
</body>
</html>
`;
}
