/**
 * The dashboard in a real browser: Debian's Chromium, headless, driven by
 * puppeteer-core. The page loads with no console error and no request
 * outside the server, shows the same figures as `estadisticas` after a
 * burst of orders, draws one row per worker and a bar per recent order,
 * keeps updating, and reads on a phone-sized screen. The report that
 * `stats --html` writes shows the same figures from the database, offline.
 *
 * Set `PEDIDOS_SCREENSHOT=docs/dashboard.png` to refresh README's picture.
 */
import assert from "node:assert/strict";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import {
  LOOPBACKS,
  order,
  runScript,
  startTestServer,
  tempDir,
  TestClient,
  waitFor,
} from "./helpers.ts";
import { estadisticas } from "./http_helpers.ts";
import type { StatsReply } from "../lib/stats/snapshot.ts";
import { waitForFullCapacity } from "./server_helpers.ts";

const CHROMIUM = "/usr/bin/chromium";
const reason = await Deno.stat(CHROMIUM).then(
  () => undefined,
  () => `${CHROMIUM} is missing; .ci/run installs it with apt-get install -y chromium`,
);
const FIGURES = ["recibidos", "listos", "fallidos", "enCola", "enProceso", "rechazos"] as const;

async function launch(): Promise<Browser & AsyncDisposable> {
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    // Root in a container: Chromium's sandbox needs user namespaces it does not get.
    args: ["--no-sandbox", "--headless=new", "--disable-gpu"],
  });
  return Object.assign(browser, { [Symbol.asyncDispose]: () => browser.close() });
}

/** Everything that went wrong on a page: console errors, script errors, requests elsewhere. */
function watch(page: Page, origin: string): string[] {
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`script: ${error}`));
  page.on("request", (request) => {
    if (!request.url().startsWith(origin)) problems.push(`request outside: ${request.url()}`);
  });
  return problems;
}

/** Every `data-campo` on the page with its raw `data-valor`. */
function figures(page: Page): Promise<Record<string, string>> {
  return page.evaluate(`Object.fromEntries([...document.querySelectorAll("[data-campo]")]
    .map((el) => [el.dataset.campo, el.dataset.valor]))`) as Promise<Record<string, string>>;
}

function expected(stats: StatsReply): Record<string, string> {
  const rechazos = Object.values(stats.rechazos).reduce((a, b) => a + b, 0);
  return {
    recibidos: String(stats.recibidos),
    listos: String(stats.listos),
    fallidos: String(stats.fallidos),
    enCola: String(stats.enCola),
    enProceso: String(stats.enProceso),
    rechazos: String(rechazos),
  };
}

function pick(all: Record<string, string>): Record<string, string> {
  return Object.fromEntries(FIGURES.map((key) => [key, all[key] ?? ""]));
}

/** Rows of the timeline by worker number, each with its bars' order ids. */
function timeline(page: Page): Promise<{ worker: string; bars: string[] }[]> {
  return page.evaluate(`[...document.querySelectorAll("#linea .fila")].map((row) => ({
    worker: row.dataset.worker,
    bars: [...row.querySelectorAll("rect.barra")].map((bar) => bar.dataset.id),
  }))`) as Promise<{ worker: string; bars: string[] }[]>;
}

/** Ten clients at once, each one order: with six free permits, six accepted and four limite. */
async function burst(port: number): Promise<void> {
  const clients = await Promise.all(
    Array.from({ length: 10 }, (_, i) => TestClient.open(port, LOOPBACKS[i % 2])),
  );
  try {
    await Promise.all(clients.map((c, i) => c.sendLine(order({ cliente: `Cliente ${i}` }))));
    const replies = await Promise.all(clients.map((c) => c.readJson()));
    assert.equal(replies.filter((r) => r.ok).length, 6, JSON.stringify(replies));
  } finally {
    for (const client of clients) client.close();
  }
}

Deno.test({
  name:
    `the dashboard in Chromium shows the estadisticas figures, a row per worker and a bar per order, and keeps updating${
      reason ? ` (skipped: ${reason})` : ""
    }`,
  ignore: reason !== undefined,
  async fn() {
    const screenshot = Deno.env.get("PEDIDOS_SCREENSHOT");
    await using t = await startTestServer({
      http: { hostname: "127.0.0.1", port: 0 },
      max: 6,
      workers: 3,
      // For the screenshot, long enough that a once-a-second update finds orders in process.
      workMs: screenshot ? 1500 : 400,
    });
    const url = t.server.httpUrl!;
    await using browser = await launch();
    const page = await browser.newPage();
    const problems = watch(page, new URL(url).origin);
    await page.setViewport({ width: 1100, height: 900 });
    await page.goto(url, { waitUntil: "domcontentloaded" });
    await page.waitForSelector("#conexion.vivo");

    await burst(t.port);
    await using client = await TestClient.open(t.port);
    assert.equal((await client.request({ cliente: "" })).codigo, "pedido_invalido");
    await waitForFullCapacity(t.port);

    const stats = await estadisticas(t.port);
    assert.equal(stats.listos, 6);
    await waitFor(
      async () => JSON.stringify(pick(await figures(page))) === JSON.stringify(expected(stats)),
      "the page to show the estadisticas figures",
    );
    const shown = await figures(page);
    assert.equal(shown.max, "6");
    assert.equal(shown.enUso, "0");
    assert.equal(shown.workers, "3");
    const limite = await page.$eval('#rechazos [data-codigo="limite"]', (el) => el.textContent);
    assert.equal(limite, "limite: 4");

    const rows = await timeline(page);
    assert.deepEqual(rows.map((row) => row.worker), ["1", "2", "3"], "one row per worker");
    const api = await (await fetch(new URL("api/timeline", url))).json();
    const ids = api.pedidos.map((p: { id: number }) => String(p.id)).sort();
    assert.equal(ids.length, 6);
    assert.deepEqual(rows.flatMap((row) => row.bars).sort(), ids, "a bar per recent order");
    for (const pedido of api.pedidos) {
      const row = rows.find((r) => r.worker === String(pedido.worker));
      assert.ok(row?.bars.includes(String(pedido.id)), `order ${pedido.id} on its worker's row`);
    }

    // It keeps updating: the clock moves on, and a second burst shows up without a reload.
    const before = await page.$eval("#actualizado", (el) => Number(el.getAttribute("data-t")));
    await burst(t.port);
    if (screenshot) {
      // README's picture: mid-burst, every worker busy and admission full.
      await waitFor(async () => (await figures(page)).enProceso === "3", "three in process");
      await new Promise((resolve) => setTimeout(resolve, 400)); // the admission bar's transition
      await page.screenshot({ path: screenshot as `${string}.png`, fullPage: true });
    }
    await waitForFullCapacity(t.port);
    const after = await estadisticas(t.port);
    assert.equal(after.listos, 12);
    await waitFor(
      async () => JSON.stringify(pick(await figures(page))) === JSON.stringify(expected(after)),
      "the page to show the second burst",
    );
    const later = await page.$eval("#actualizado", (el) => Number(el.getAttribute("data-t")));
    assert.ok(later > before, "the update time moved on");
    assert.equal((await timeline(page)).flatMap((row) => row.bars).length, 12);

    // A phone-sized screen: nothing wider than the screen, every row still there.
    // Switching to a mobile viewport reloads the page: wait until it is drawn again.
    await page.setViewport({ width: 390, height: 844, isMobile: true });
    await page.waitForSelector("#conexion.vivo");
    await waitFor(async () => (await timeline(page)).length === 3, "the timeline on a phone");
    const overflow = await page.evaluate(
      "document.documentElement.scrollWidth - document.documentElement.clientWidth",
    );
    assert.equal(overflow, 0, "no horizontal scrolling on a phone");

    assert.deepEqual(problems, []);
    client.close();
  },
});

Deno.test({
  name: `stats --html writes a report that shows the database's figures with no request at all${
    reason ? ` (skipped: ${reason})` : ""
  }`,
  ignore: reason !== undefined,
  async fn() {
    await using dir = await tempDir();
    const db = `${dir.path}/pedidos.db`;
    {
      await using t = await startTestServer({ db, workers: 2, workMs: 30 });
      await using client = await TestClient.open(t.port);
      for (let i = 0; i < 5; i++) assert.equal((await client.request(order())).ok, true);
      await waitForFullCapacity(t.port);
    }
    const html = `${dir.path}/informe.html`;
    const result = await runScript("server.ts", ["stats", "--db", db, "--html", html], [
      "--allow-read",
      "--allow-write",
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Pedidos: 5 recibidos · 5 listos/);

    await using browser = await launch();
    const page = await browser.newPage();
    const requests: string[] = [];
    const problems = watch(page, "file://");
    page.on("request", (request) => requests.push(request.url()));
    await page.goto(`file://${html}`, { waitUntil: "load" });
    const shown = await figures(page);
    assert.deepEqual(pick(shown), {
      recibidos: "5",
      listos: "5",
      fallidos: "0",
      enCola: "0",
      enProceso: "0",
      rechazos: "0",
    });
    const rows = await timeline(page);
    assert.deepEqual(rows.map((row) => row.worker), ["1", "2"]);
    assert.equal(rows.flatMap((row) => row.bars).length, 5);
    assert.deepEqual(requests, [`file://${html}`], "the page itself and nothing else");
    assert.deepEqual(problems, []);
  },
});
