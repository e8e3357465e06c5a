/**
 * The dashboard's browser script, as a string so that `deno compile` embeds
 * it with the code that serves it. Plain JavaScript for any current
 * browser, no library: the charts are a few SVG polylines, which is less to
 * ship and to review than a chart library for two line charts and a row of
 * bars per worker.
 *
 * Live, it reads `api/events` (server-sent events: `inicio`, then `tick`
 * every second); in a report written by `stats --html` it reads the JSON
 * embedded in the page instead and never connects anywhere.
 *
 * Every figure is written into an element with `data-campo`, with the raw
 * number in `data-valor`, so that tests can read them without parsing text.
 *
 * @module
 */

/** The script's source. */
export const SCRIPT = `
"use strict";
(() => {
  const SVG = "http://www.w3.org/2000/svg";
  const enteros = new Intl.NumberFormat("es-ES");
  const decimales = new Intl.NumberFormat("es-ES", { maximumFractionDigits: 2 });
  const hora = new Intl.DateTimeFormat("es-ES", { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  const VENTANA_HISTORIA_MS = 5 * 60 * 1000;
  const VENTANA_MIN_MS = 60 * 1000;
  const LINEA_MIN_MS = 10 * 1000;
  const LINEA_MAX_MS = 60 * 1000;
  const estado = { historia: [], pedidos: [], enProceso: [], hasta: 0, capacidad: 500, workers: 0, ahora: 0, estatico: false };

  const $ = (selector) => document.querySelector(selector);

  function escribir(campo, valor, texto) {
    for (const el of document.querySelectorAll('[data-campo="' + campo + '"]')) {
      el.dataset.valor = valor === null || valor === undefined ? "" : String(valor);
      el.textContent = texto !== undefined ? texto : valor === null || valor === undefined ? "–" : enteros.format(valor);
    }
  }

  function segundos(s) {
    if (s === null || s === undefined) return "–";
    const cifras = (v) => new Intl.NumberFormat("es-ES", { maximumFractionDigits: v >= 100 ? 0 : v >= 10 ? 1 : 2 }).format(v);
    return s < 1 ? cifras(s * 1000) + " ms" : cifras(s) + " s";
  }

  function hace(ms) {
    const s = Math.round(ms / 1000);
    return s < 120 ? "hace " + s + " s" : "hace " + Math.round(s / 60) + " min";
  }

  function mostrarEstadisticas(e) {
    for (const campo of ["recibidos", "recuperados", "listos", "fallidos", "enCola", "enProceso", "maxSimultaneos"]) {
      escribir(campo, e[campo]);
    }
    const rechazos = Object.entries(e.rechazos).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
    escribir("rechazos", rechazos.reduce((total, [, n]) => total + n, 0));
    escribir("rendimiento", e.rendimiento, e.rendimiento === null ? "–" : decimales.format(e.rendimiento));
    escribir("p50", e.duracion ? e.duracion.p50 : null, segundos(e.duracion && e.duracion.p50));
    escribir("p95", e.duracion ? e.duracion.p95 : null, segundos(e.duracion && e.duracion.p95));
    const lista = $("#rechazos");
    lista.replaceChildren(...rechazos.map(([codigo, n]) => {
      const li = document.createElement("li");
      li.dataset.codigo = codigo;
      li.dataset.valor = String(n);
      li.textContent = codigo + ": " + enteros.format(n);
      return li;
    }));
    if (rechazos.length === 0) lista.textContent = "ninguno";
    $("#periodo").textContent = hora.format(new Date(e.desde)) + " → " + hora.format(new Date(e.hasta));
  }

  function mostrarOcupacion(o) {
    for (const campo of ["enUso", "max", "conexiones", "workersOcupados", "workers"]) escribir(campo, o[campo]);
    const parte = o.max > 0 ? Math.min(1, o.enUso / o.max) : 0;
    $("#admision > div").style.width = (parte * 100).toFixed(1) + "%";
    $("#admision").classList.toggle("lleno", o.enUso >= o.max);
    estado.workers = o.workers;
  }

  function aplicarLinea(linea, desdeCero) {
    estado.capacidad = linea.capacidad;
    if (desdeCero) {
      estado.pedidos = linea.pedidos.slice();
    } else {
      // A tick may repeat orders this page already has (it joined between ticks).
      const primero = linea.hasta - linea.pedidos.length;
      for (let i = 0; i < linea.pedidos.length; i++) {
        if (primero + i >= estado.hasta) estado.pedidos.push(linea.pedidos[i]);
      }
    }
    estado.hasta = linea.hasta;
    if (estado.pedidos.length > estado.capacidad) {
      estado.pedidos.splice(0, estado.pedidos.length - estado.capacidad);
    }
    estado.enProceso = linea.enProceso;
  }

  function nodo(nombre, atributos) {
    const el = document.createElementNS(SVG, nombre);
    for (const [k, v] of Object.entries(atributos)) el.setAttribute(k, String(v));
    return el;
  }

  /** A round upper bound for a chart: 1, 2 or 5 times a power of ten. */
  function tope(maximo) {
    if (!(maximo > 0)) return 1;
    const potencia = 10 ** Math.floor(Math.log10(maximo));
    for (const paso of [1, 2, 5, 10]) if (paso * potencia >= maximo) return paso * potencia;
    return 10 * potencia;
  }

  function dibujarGrafico(id, series, formato) {
    const figura = document.getElementById(id);
    const svg = figura.querySelector("svg");
    const muestras = estado.historia;
    const fin = muestras.length ? muestras[muestras.length - 1].t : estado.ahora;
    // From the first sample kept (at most five minutes back), but never less than a minute.
    const primera = muestras.length ? muestras[0].t - 1000 : fin;
    const inicio = estado.estatico ? Math.min(primera, fin - 1000) : Math.min(primera, fin - VENTANA_MIN_MS);
    const ancho = Math.max(1, fin - inicio);
    let maximo = 0;
    for (const serie of series) {
      for (const m of muestras) {
        const v = serie.valor(m);
        if (v !== null && v > maximo) maximo = v;
      }
    }
    const y = tope(maximo);
    const trazos = series.map((serie) => {
      let d = "";
      let abierto = false;
      for (const m of muestras) {
        const v = serie.valor(m);
        if (v === null || m.t < inicio) { abierto = false; continue; }
        const px = ((m.t - inicio) / ancho) * 600;
        const py = 160 - (v / y) * 156;
        // A lone point is a tiny segment, which a round cap draws as a dot.
        d += (abierto ? "L" : "M") + px.toFixed(1) + " " + py.toFixed(1) + (abierto ? "" : "l0.01 0");
        abierto = true;
      }
      return nodo("path", { d: d || "M0 160", fill: "none", stroke: serie.color, "stroke-width": 2, "stroke-linecap": "round", "stroke-linejoin": "round", "vector-effect": "non-scaling-stroke" });
    });
    svg.replaceChildren(...trazos);
    figura.querySelector(".tope").textContent = formato(y);
    const eje = figura.querySelectorAll(".eje span");
    eje[0].textContent = estado.estatico ? hora.format(new Date(inicio)) : hace(ancho);
    eje[1].textContent = estado.estatico ? hora.format(new Date(fin)) : "ahora";
  }

  function color(variable) {
    return getComputedStyle(document.documentElement).getPropertyValue(variable).trim();
  }

  function dibujarGraficos() {
    dibujarGrafico("grafico-rendimiento", [
      { color: color("--listo"), valor: (m) => m.terminados },
      { color: color("--acento"), valor: (m) => m.recibidos },
    ], (v) => decimales.format(v) + " /s");
    dibujarGrafico("grafico-latencia", [
      { color: color("--listo"), valor: (m) => m.duracion && m.duracion.media },
      { color: color("--proceso"), valor: (m) => m.duracion && m.duracion.p95 },
      { color: color("--espera"), valor: (m) => m.espera && m.espera.media },
    ], segundos);
  }

  function dibujarLinea() {
    const todos = estado.pedidos.concat(estado.enProceso);
    let workers = estado.workers;
    for (const p of todos) workers = Math.max(workers, p.worker);
    let fin = estado.ahora;
    let masViejo = fin;
    for (const p of todos) {
      const desde = p.inicio === null ? p.fin : p.inicio;
      if (desde < masViejo) masViejo = desde;
      if (estado.estatico && p.fin !== null && p.fin > fin) fin = p.fin;
    }
    const inicio = estado.estatico
      ? Math.min(masViejo, fin - 1)
      : Math.min(fin - LINEA_MIN_MS, Math.max(fin - LINEA_MAX_MS, masViejo));
    const ancho = fin - inicio;
    const filas = [];
    for (let w = 1; w <= workers; w++) {
      const fila = document.createElement("div");
      fila.className = "fila";
      fila.dataset.worker = String(w);
      const etiqueta = document.createElement("span");
      etiqueta.className = "etiqueta";
      etiqueta.textContent = "worker " + w;
      const pista = nodo("svg", { class: "pista", viewBox: "0 0 1000 20", preserveAspectRatio: "none" });
      let cuenta = 0;
      for (const p of todos) {
        if (p.worker !== w) continue;
        if (p.estado !== "en proceso") cuenta++;
        const desde = p.inicio === null ? p.fin : p.inicio;
        const hasta = p.fin === null ? fin : p.fin;
        const x = ((desde - inicio) / ancho) * 1000;
        // One unit short, so that orders run back to back on a worker still show apart.
        const largo = Math.max(3, ((hasta - desde) / ancho) * 1000 - 1);
        const barra = nodo("rect", { class: "barra " + p.estado.replace(" ", "-"), x: x.toFixed(1), y: 2, width: largo.toFixed(1), height: 16, "data-id": p.id });
        const titulo = nodo("title", {});
        titulo.textContent = "#" + p.id + " · " + p.estado + (p.fin !== null && p.inicio !== null ? " · " + segundos((p.fin - p.inicio) / 1000) : "");
        barra.append(titulo);
        pista.append(barra);
      }
      const total = document.createElement("span");
      total.className = "cuenta";
      total.textContent = enteros.format(cuenta);
      fila.append(etiqueta, pista, total);
      filas.push(fila);
    }
    $("#linea").replaceChildren(...filas);
    $("#linea-desde").textContent = estado.estatico ? hora.format(new Date(inicio)) : hace(ancho);
    $("#linea-hasta").textContent = estado.estatico ? hora.format(new Date(fin)) : "ahora";
    escribir("recientes", estado.pedidos.length);
  }

  function mostrar(datos) {
    estado.ahora = datos.t;
    mostrarEstadisticas(datos.estadisticas);
    if (datos.ocupacion) mostrarOcupacion(datos.ocupacion);
    dibujarGraficos();
    dibujarLinea();
    const actualizado = $("#actualizado");
    actualizado.dataset.t = String(datos.t);
    actualizado.textContent = hora.format(new Date(datos.t));
  }

  function alInicio(datos) {
    estado.historia = datos.historia.slice();
    aplicarLinea(datos.linea, true);
    mostrar(datos);
  }

  function alTick(datos) {
    const ultima = estado.historia[estado.historia.length - 1];
    if (datos.muestra && (!ultima || datos.muestra.t > ultima.t)) estado.historia.push(datos.muestra);
    while (estado.historia.length && estado.historia[0].t < datos.t - VENTANA_HISTORIA_MS) estado.historia.shift();
    aplicarLinea(datos.linea, false);
    mostrar(datos);
  }

  function conexion(texto, clase) {
    const el = $("#conexion");
    el.textContent = texto;
    el.className = "estado " + clase;
  }

  const incrustados = document.getElementById("datos");
  if (incrustados) {
    estado.estatico = true;
    for (const el of document.querySelectorAll("[data-solo-en-vivo]")) el.hidden = true;
    conexion("informe de una base de datos (sin actualización en vivo)", "");
    alInicio(JSON.parse(incrustados.textContent));
  } else {
    const fuente = new EventSource("api/events");
    fuente.addEventListener("inicio", (evento) => {
      conexion("en vivo", "vivo");
      alInicio(JSON.parse(evento.data));
    });
    fuente.addEventListener("tick", (evento) => alTick(JSON.parse(evento.data)));
    fuente.addEventListener("error", () => conexion("sin conexión; reintentando…", "caido"));
  }
  addEventListener("resize", () => dibujarLinea());
})();
`;
