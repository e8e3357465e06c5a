/**
 * The dashboard's stylesheet, as a string so that `deno compile` embeds it
 * with the code that serves it.
 *
 * @module
 */

/** CSS for {@link dashboardPage}: light and dark, from a phone's width up. */
export const STYLE = `
:root {
  --fondo: #f6f7f9; --panel: #fff; --texto: #1d2330; --suave: #5b6475; --borde: #dde1e8;
  --listo: #2f7d5b; --fallido: #c4314b; --proceso: #d98e04; --acento: #2d5fb8; --espera: #8a56c2;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --fondo: #14171c; --panel: #1d2128; --texto: #e6e9ef; --suave: #9aa3b2; --borde: #323844;
    --listo: #4fb38a; --fallido: #ef6f84; --proceso: #f0b43c; --acento: #7aa2f0; --espera: #b78ae6;
  }
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--fondo); color: var(--texto);
  font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
header {
  display: flex; flex-wrap: wrap; align-items: baseline; gap: .25rem 1rem;
  padding: .8rem 1rem; border-bottom: 1px solid var(--borde); background: var(--panel);
}
h1 { font-size: 1.15rem; margin: 0; }
h2 { font-size: .95rem; margin: 0 0 .5rem; color: var(--suave); font-weight: 600; }
.estado::before { content: "●"; margin-right: .3rem; color: var(--suave); }
.estado.vivo::before { color: var(--listo); }
.estado.caido::before { color: var(--fallido); }
.suave { color: var(--suave); font-size: .85rem; }
.aparte { margin-top: .8rem; }
p.aparte { margin-bottom: 0; }
main { padding: 1rem; display: grid; gap: 1rem; max-width: 80rem; margin: 0 auto; }
section { background: var(--panel); border: 1px solid var(--borde); border-radius: .5rem; padding: .8rem 1rem; }
.tarjetas { display: grid; grid-template-columns: repeat(auto-fit, minmax(8rem, 1fr)); gap: .6rem; }
.tarjeta { display: flex; flex-direction: column; }
.tarjeta .valor { font-size: 1.5rem; font-weight: 650; font-variant-numeric: tabular-nums; }
.tarjeta .nombre { color: var(--suave); font-size: .8rem; }
.valor.listos { color: var(--listo); }
.valor.fallidos { color: var(--fallido); }
.valor.en-proceso { color: var(--proceso); }
.medidor { height: .9rem; background: var(--fondo); border: 1px solid var(--borde); border-radius: .45rem; overflow: hidden; }
.medidor > div { height: 100%; width: 0; background: var(--acento); transition: width .3s; }
.medidor.lleno > div { background: var(--fallido); }
ul.rechazos { list-style: none; margin: .4rem 0 0; padding: 0; display: flex; flex-wrap: wrap; gap: .3rem .8rem; }
.graficos { display: grid; grid-template-columns: repeat(auto-fit, minmax(17rem, 1fr)); gap: 1rem; background: none; border: none; padding: 0; }
.graficos figure { margin: 0; background: var(--panel); border: 1px solid var(--borde); border-radius: .5rem; padding: .8rem 1rem; }
figcaption { font-weight: 600; font-size: .95rem; color: var(--suave); margin-bottom: .3rem; }
.grafico { position: relative; }
.grafico svg { display: block; width: 100%; height: 9rem; border-left: 1px solid var(--borde); border-bottom: 1px solid var(--borde); }
.grafico .tope { position: absolute; top: 0; left: .3rem; font-size: .75rem; color: var(--suave); }
.eje { display: flex; justify-content: space-between; font-size: .75rem; color: var(--suave); }
.leyenda { display: flex; flex-wrap: wrap; gap: .2rem .8rem; font-size: .8rem; margin-top: .2rem; }
.leyenda span::before { content: ""; display: inline-block; width: .8rem; height: .2rem; margin-right: .3rem; vertical-align: middle; background: var(--color); }
.fila { display: grid; grid-template-columns: 4.6rem 1fr 3.2rem; align-items: center; gap: .4rem; margin: .2rem 0; }
.fila .etiqueta, .fila .cuenta { font-size: .8rem; color: var(--suave); font-variant-numeric: tabular-nums; white-space: nowrap; }
.fila .cuenta { text-align: right; }
.pista { display: block; width: 100%; height: 1.3rem; background: var(--fondo); border-radius: .2rem; }
.barra.listo { fill: var(--listo); }
.barra.fallido { fill: var(--fallido); }
.barra.en-proceso { fill: var(--proceso); }
.linea-eje { margin-left: 5rem; margin-right: 3.6rem; }
@media (max-width: 30rem) {
  main { padding: .5rem; gap: .6rem; }
  section, .graficos figure { padding: .6rem; }
  .tarjeta .valor { font-size: 1.2rem; }
  .fila { grid-template-columns: 4.2rem 1fr 2.4rem; }
  .linea-eje { margin-left: 4.6rem; margin-right: 2.8rem; }
}
`;
