/**
 * `/metrics` over a real server: after traffic whose every answer is known,
 * the counters equal what was sent and answered, the histograms have their
 * buckets, and the gauges are back at zero once the server is idle.
 */
import assert from "node:assert/strict";
import { PortInUseError } from "../lib/util/net.ts";
import { order, startTestServer, tempDir, TestClient, waitFor } from "./helpers.ts";
import { estadisticas, scrape } from "./http_helpers.ts";
import { waitForFullCapacity } from "./server_helpers.ts";

const HTTP = { hostname: "127.0.0.1", port: 0 };

Deno.test("after known traffic /metrics counts every answer by result, every finished order, and idles at zero", async () => {
  await using t = await startTestServer({
    http: HTTP,
    max: 6,
    workers: 3,
    // Long enough that the scrape right after the burst sees the first three still in process.
    workMs: 700,
    maxBytes: 1024,
  });
  const url = t.server.httpUrl!;
  await using client = await TestClient.open(t.port);

  // One order under a key, then the same key again: accepted, then duplicate.
  const first = await client.request(order({ clave: "clave-1" }));
  assert.equal(first.ok, true);
  const again = await client.request(order({ clave: "clave-1" }));
  assert.equal(again.id, first.id);
  await waitForFullCapacity(t.port);

  // Ten orders in one write with six permits: six accepted, four limite.
  await client.send(Array.from({ length: 10 }, () => JSON.stringify(order()) + "\n").join(""));
  const replies = await client.readJsons(10);
  assert.equal(replies.filter((r) => r.ok).length, 6);
  assert.equal(replies.filter((r) => r.codigo === "limite").length, 4);

  // While they are processed, the gauges show it.
  const busy = await scrape(url);
  assert.equal(busy.value("pedidos_admission_in_use"), 6);
  assert.equal(busy.value("pedidos_admission_limit"), 6);
  assert.equal(busy.value("pedidos_workers_busy"), 3);
  assert.equal(busy.value("pedidos_orders", { state: "en_proceso" }), 3);
  assert.equal(busy.value("pedidos_orders", { state: "en_cola" }), 3);
  assert.equal(busy.value("pedidos_connections"), 1);

  // Bad JSON, an invalid order and an oversized message, each answered with its codigo.
  assert.equal((await client.request({ cliente: "" })).codigo, "pedido_invalido");
  await client.send("{esto no es json}\n");
  assert.equal((await client.readJson()).codigo, "json_invalido");
  await using big = await TestClient.open(t.port);
  await big.send("x".repeat(2000));
  assert.equal((await big.readJson()).codigo, "demasiado_grande");

  await waitForFullCapacity(t.port);
  client.close();
  big.close();
  const idle = await waitFor(async () => {
    const s = await scrape(url);
    const done = s.value("pedidos_orders_finished_total", { outcome: "listo" }) === 7;
    return done && s.value("pedidos_connections") === 0 ? s : undefined;
  }, "the server to go idle");

  const received = (result: string) => idle.value("pedidos_orders_received_total", { result });
  assert.equal(received("accepted"), 7);
  assert.equal(received("duplicate"), 1);
  assert.equal(received("limite"), 4);
  assert.equal(received("pedido_invalido"), 1);
  assert.equal(received("json_invalido"), 1);
  assert.equal(received("demasiado_grande"), 1);
  assert.equal(received("apagando"), 0);
  assert.equal(received("interno"), 0);
  assert.equal(idle.value("pedidos_orders_finished_total", { outcome: "fallido" }), 0);
  assert.equal(idle.value("pedidos_order_retries_total"), 0);
  assert.equal(idle.value("pedidos_orders_recovered_total"), 0);

  // The same figures as the estadisticas request.
  const stats = await estadisticas(t.port);
  assert.equal(stats.recibidos, received("accepted"));
  assert.equal(stats.listos, 7);
  assert.deepEqual(stats.rechazos, {
    limite: 4,
    pedido_invalido: 1,
    json_invalido: 1,
    demasiado_grande: 1,
  });

  // Histograms: seven orders of 0.7 s each, all within (0.5, 1]; waits and commits measured.
  const bucket = (le: string) => idle.value("pedidos_order_duration_seconds_bucket", { le });
  assert.equal(bucket("0.5"), 0);
  assert.equal(bucket("1"), 7);
  assert.equal(bucket("+Inf"), 7);
  assert.equal(idle.value("pedidos_order_duration_seconds_count"), 7);
  const sum = idle.value("pedidos_order_duration_seconds_sum")!;
  assert.ok(sum >= 7 * 0.7 && sum <= 7 * 1, `duration sum ${sum}`);
  assert.equal(idle.value("pedidos_order_queue_wait_seconds_count"), 7);
  assert.equal(idle.value("pedidos_order_queue_wait_seconds_bucket", { le: "+Inf" }), 7);
  assert.ok(idle.value("pedidos_store_commit_seconds_count")! >= 2);
  for (const name of ["order_duration", "order_queue_wait", "store_commit"]) {
    assert.equal(idle.types.get(`pedidos_${name}_seconds`), "histogram");
  }

  // Idle: every gauge back at zero.
  assert.equal(idle.value("pedidos_orders", { state: "en_cola" }), 0);
  assert.equal(idle.value("pedidos_orders", { state: "en_proceso" }), 0);
  assert.equal(idle.value("pedidos_admission_in_use"), 0);
  assert.equal(idle.value("pedidos_workers_busy"), 0);
  assert.equal(idle.value("pedidos_connections"), 0);
  assert.ok(idle.value("process_resident_memory_bytes")! > 0, "default process metrics");
});

Deno.test("the JSON API gives the estadisticas figures and the recent orders per worker", async () => {
  await using t = await startTestServer({ http: HTTP, workers: 2, workMs: 10 });
  await using client = await TestClient.open(t.port);
  for (let i = 0; i < 4; i++) assert.equal((await client.request(order())).ok, true);
  await waitForFullCapacity(t.port);
  const api = await (await fetch(new URL("api/stats", t.server.httpUrl))).json();
  const stats = await estadisticas(t.port);
  for (const key of ["recibidos", "listos", "fallidos", "enCola", "enProceso"] as const) {
    assert.equal(api[key], stats[key], key);
  }
  const timeline = await (await fetch(new URL("api/timeline", t.server.httpUrl))).json();
  assert.equal(timeline.workers, 2);
  assert.equal(timeline.pedidos.length, 4);
  for (const pedido of timeline.pedidos) {
    assert.ok(pedido.worker === 1 || pedido.worker === 2);
    assert.equal(pedido.estado, "listo");
    assert.ok(pedido.fin >= pedido.inicio);
  }
  const health = await fetch(new URL("healthz", t.server.httpUrl));
  assert.equal(health.status, 200);
  assert.equal(await health.text(), "ok\n");
  const missing = await fetch(new URL("nada", t.server.httpUrl));
  assert.equal(missing.status, 404);
  await missing.body?.cancel();
  const post = await fetch(new URL("metrics", t.server.httpUrl), { method: "POST" });
  assert.equal(post.status, 405);
  await post.body?.cancel();
});

Deno.test("without --http nothing listens for HTTP and the server has no dashboard URL", async () => {
  await using t = await startTestServer();
  assert.equal(t.server.httpUrl, undefined);
});

Deno.test("a taken --http port stops start-up with one clear error and leaves the database free", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/pedidos.db`;
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const http = { hostname: "127.0.0.1", port: taken.addr.port };
  await assert.rejects(
    startTestServer({ db, http }),
    (error: Error) =>
      error instanceof PortInUseError &&
      /^--http: el puerto \d+ ya está en uso$/.test(error.message),
  );
  await using t = await startTestServer({ db, http: HTTP });
  assert.ok(t.server.httpUrl);
});
