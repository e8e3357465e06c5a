/**
 * Three servers on one PostgreSQL database, as separate processes: the
 * cluster-wide `--max`, and every kind of client (the seed's one-shot raw
 * client, the pedidos client, `--wait` notices) working unchanged against
 * any of them, whichever server ends up processing the order.
 */
import assert from "node:assert/strict";
import {
  order,
  readOrders,
  runScript,
  SERVER_PERMISSIONS,
  TestClient,
  waitFor,
} from "./helpers.ts";
import { freshDatabase, postgresUnavailable, startCluster } from "./cluster_helpers.ts";
import { permissionSet } from "../tools/permissions.ts";

const unavailable = postgresUnavailable();
if (unavailable) console.log(`pruebas del clúster omitidas: ${unavailable}`);

function test(name: string, fn: () => Promise<void>) {
  Deno.test({ name, ignore: unavailable !== undefined, fn });
}

test("--max 10 is the cluster's: of 30 simultaneous orders spread over three servers, exactly 10 are accepted", async () => {
  await using db = await freshDatabase();
  // Orders that take long: none finishes, so none frees its place meanwhile.
  await using cluster = await startCluster(db.url, 3, ["--max", "10", "--work-ms", "60000"]);
  const replies = await Promise.all(
    Array.from({ length: 30 }, async (_, i) => {
      await using client = await TestClient.open(cluster.servers[i % 3]!.port);
      return await client.request(order({ cliente: `simultaneo-${i}` }));
    }),
  );
  const accepted = replies.filter((reply) => reply.ok);
  const refused = replies.filter((reply) => !reply.ok);
  assert.equal(accepted.length, 10);
  assert.equal(refused.length, 20);
  for (const reply of refused) {
    assert.equal(reply.codigo, "limite");
    assert.equal(reply.mensaje, "❌ Límite de pedidos alcanzado. Intente más tarde.");
  }
  assert.equal(new Set(accepted.map((reply) => reply.id)).size, 10);
  assert.equal((await readOrders(db.url)).length, 10);
  const [row] = await db.admin((sql) => sql`SELECT limite, en_uso FROM pedidos_capacidad`);
  assert.deepEqual({ ...row }, { limite: 10, en_uso: 10 });
  // Every server's greeting comes to show the cluster full (cached: a heartbeat later at most).
  for (const server of cluster.servers) {
    await waitFor(async () => {
      await using client = await TestClient.open(server.port);
      const capacidad = client.bienvenida.capacidad as { max: number; libres: number };
      return capacidad.max === 10 && capacidad.libres === 0;
    }, "the greeting to show the cluster full");
  }
});

test("the seed's raw client and the pedidos client work unchanged against any of the three servers", async () => {
  await using db = await freshDatabase();
  await using cluster = await startCluster(db.url, 3, ["--work-ms", "100", "--max", "50"]);
  const encoder = new TextEncoder();
  for (const [i, server] of cluster.servers.entries()) {
    // As the seed's client: one read for the greeting, one JSON without a newline, one read.
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    try {
      const buffer = new Uint8Array(1024);
      const greeting = JSON.parse(
        new TextDecoder().decode(buffer.subarray(0, await conn.read(buffer) ?? 0)),
      );
      assert.equal(greeting.tipo, "bienvenida");
      await conn.write(encoder.encode(JSON.stringify(order({ cliente: `semilla-${i}` }))));
      const reply = JSON.parse(
        new TextDecoder().decode(buffer.subarray(0, await conn.read(buffer) ?? 0)),
      );
      assert.equal(reply.ok, true);
      assert.match(reply.mensaje, /^✅ Pedido encolado #\d+$/);
    } finally {
      conn.close();
    }
    const { code, stdout, stderr } = await runScript("client.ts", [
      "--host",
      "127.0.0.1",
      "--port",
      String(server.port),
      "--cliente",
      `cliente-${i}`,
      "--productos",
      "pan,leche",
      "--direccion",
      "Calle 1",
      "--wait",
    ], permissionSet("client"));
    assert.equal(code, 0, stderr);
    assert.match(stdout, /listo/);
    const status = await runScript("client.ts", [
      "--host",
      "127.0.0.1",
      "--port",
      String(server.port),
      "--status",
      "1",
    ], permissionSet("client"));
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /#1/);
  }
  await waitFor(
    async () => (await readOrders(db.url)).every((row) => row.estado === "listo"),
    "every order listo",
  );
  assert.equal((await readOrders(db.url)).length, 6);
  // And the report of the whole cluster, read-only, as for a SQLite file.
  const stats = await runScript("server.ts", ["stats", "--db", db.url], SERVER_PERMISSIONS);
  assert.equal(stats.code, 0, stats.stderr);
  assert.match(
    stats.stdout,
    /Pedidos: 6 recibidos · 6 listos · 0 fallidos · 0 en cola · 0 en proceso/,
  );
});

test("an order processed by another server is still announced to the connection that sent it", async () => {
  await using db = await freshDatabase();
  // The first server has one worker, the others three: most orders sent to
  // the first are processed elsewhere.
  await using cluster = await startCluster(
    db.url,
    3,
    ["--work-ms", "300", "--max", "50"],
    (i) => ["--workers", i === 0 ? "1" : "3"],
  );
  const [first] = cluster.servers;
  await using client = await TestClient.open(first!.port);
  const count = 12;
  let text = "";
  for (let i = 0; i < count; i++) {
    text += JSON.stringify(order({ cliente: `aviso-${i}`, avisar: true })) + "\n";
  }
  await client.send(text);
  const ids = new Set<number>();
  const finished = new Map<number, Record<string, unknown>>();
  while (ids.size < count || finished.size < count) {
    const line = await client.readJson(20_000);
    if (line.evento === "terminado") finished.set(line.id as number, line);
    else ids.add(line.id as number);
  }
  assert.deepEqual([...finished.keys()].sort(), [...ids].sort());
  const byServer = await db.admin((sql) =>
    sql`SELECT instancia, count(*)::int AS n FROM pedidos GROUP BY instancia ORDER BY instancia`
  );
  const processedElsewhere = byServer.filter((row) => row.instancia !== "s1")
    .reduce((sum, row) => sum + row.n, 0);
  assert.ok(processedElsewhere > 0, `processed by: ${JSON.stringify(byServer)}`);
  for (const event of finished.values()) assert.equal(event.estado, "listo");
});
