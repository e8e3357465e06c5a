/**
 * Tokens end to end, over both loopbacks: nothing but `auth` before
 * authenticating, a wrong token refused and its connection closed, a cliente
 * kept from the statistics, tokens kept out of the log, the client's
 * `--token-file` and `PEDIDOS_TOKEN`, and legacy clients on a server without
 * tokens.
 *
 * @module
 */
import assert from "node:assert/strict";
import { EXIT } from "../lib/client/errors.ts";
import { WRONG_TOKEN_CLOSE_MS } from "../lib/server/auth.ts";
import {
  countOrders,
  LOOPBACKS,
  order,
  runClientInProcess as client,
  spawnServer,
  startTestServer,
  tempDir,
  TestClient,
} from "./helpers.ts";
import { TOKENS, writeTokens } from "./security_helpers.ts";

for (const host of LOOPBACKS) {
  Deno.test(`with --tokens over ${host}, every request before auth is no_autorizado; after it, served`, async () => {
    await using dir = await tempDir();
    await using t = await startTestServer({ tokensFile: await writeTokens(dir.path) });
    await using conn = await TestClient.open(t.port, host);
    for (const request of [order(), { tipo: "estado", id: 1 }, { tipo: "estadisticas" }, {}]) {
      const reply = await conn.request(request);
      assert.equal(reply.codigo, "no_autorizado", JSON.stringify(request));
      assert.match(reply.mensaje as string, /identifíquese primero con \{"tipo":"auth"/);
    }
    assert.equal(await countOrders(t.db), 0, "nothing was stored before auth");
    const auth = await conn.request({ tipo: "auth", token: TOKENS.cliente });
    assert.deepEqual(auth, { ok: true, mensaje: "🔑 Autenticado como cliente", rol: "cliente" });
    const sent = await conn.request(order());
    assert.equal(sent.ok, true);
    assert.equal(await countOrders(t.db), 1);
    const stats = await conn.request({ tipo: "estadisticas" });
    assert.equal(stats.codigo, "no_autorizado", "statistics are for operators");
    assert.match(stats.mensaje as string, /solo para operadores/);
    assert.equal((await conn.request({ tipo: "auth", token: TOKENS.operador })).rol, "operador");
    const operatorStats = await conn.request({ tipo: "estadisticas" });
    assert.equal(operatorStats.ok, true, "an operator reads them");
    const { rechazos } = operatorStats.estadisticas as { rechazos: Record<string, number> };
    assert.equal(rechazos.no_autorizado, 5, "each refusal is counted");
  });

  Deno.test(`a wrong token over ${host} is no_autorizado and its connection is closed`, async () => {
    await using dir = await tempDir();
    await using t = await startTestServer({ tokensFile: await writeTokens(dir.path) });
    await using conn = await TestClient.open(t.port, host);
    // The order right behind the wrong token, in the same write, is not served either.
    await conn.send(
      JSON.stringify({ tipo: "auth", token: TOKENS.cliente + "x" }) + "\n" +
        JSON.stringify(order()) + "\n",
    );
    const refused = await conn.readJson();
    assert.equal(refused.codigo, "no_autorizado");
    assert.match(refused.mensaje as string, /token incorrecto; se cierra la conexión/);
    assert.equal((await conn.readJson()).codigo, "no_autorizado");
    assert.equal(await conn.readLine(WRONG_TOKEN_CLOSE_MS + 5000), null, "closed");
    assert.equal(await countOrders(t.db), 0);
    // Another connection is not affected.
    await using next = await TestClient.open(t.port, host);
    assert.equal((await next.request({ tipo: "auth", token: TOKENS.operador })).ok, true);
  });
}

Deno.test("neither a right nor a wrong token reaches the log", async () => {
  await using dir = await tempDir();
  await using t = await startTestServer({
    tokensFile: await writeTokens(dir.path),
    logLevel: "verbose",
  });
  await using good = await TestClient.open(t.port);
  assert.equal((await good.request({ tipo: "auth", token: TOKENS.operador })).ok, true);
  assert.equal((await good.request(order())).ok, true);
  await using bad = await TestClient.open(t.port, "::1");
  assert.equal((await bad.request({ tipo: "auth", token: "adivina-adivinanza-123" })).ok, false);
  good.close();
  bad.close();
  await t.server.shutdown();
  const log = t.log.lines.join("\n");
  assert.match(log, /2 tokens: cada conexión debe autenticarse/);
  for (const token of [TOKENS.operador, TOKENS.cliente, "adivina-adivinanza-123"]) {
    assert.ok(!log.includes(token), `a token is in the log:\n${log}`);
  }
});

Deno.test("the client authenticates with --token-file or PEDIDOS_TOKEN; without a token it is refused", async () => {
  await using dir = await tempDir();
  await using t = await startTestServer({ tokensFile: await writeTokens(dir.path) });
  const port = ["--port", String(t.port)];
  const ana = ["--cliente", "Ana", "--productos", "pan", "--direccion", "Calle 1"];
  await Deno.writeTextFile(`${dir.path}/mi-token`, `# operador\n${TOKENS.operador}\n`);

  const withFile = await client([...port, "--token-file", `${dir.path}/mi-token`, "--stats"]);
  assert.equal(withFile.code, EXIT.ok, withFile.stderr);
  assert.match(withFile.stdout, /^📊 Estadísticas de procesamiento/);

  const withEnv = await client([...port, "--host", "::1", ...ana, "-v"], {
    env: { PEDIDOS_TOKEN: TOKENS.cliente },
  });
  assert.equal(withEnv.code, EXIT.ok, withEnv.stderr);
  assert.match(withEnv.stdout, /^✅ Pedido encolado #1\n$/);
  assert.match(withEnv.stderr, /🔑 Autenticado como cliente/);
  assert.ok(!withEnv.stderr.includes(TOKENS.cliente), "the token is not printed");

  const without = await client([...port, ...ana]);
  assert.equal(without.code, EXIT.rechazado);
  assert.match(without.stdout, /^❌ No autorizado: identifíquese primero/);

  const wrong = await client([...port, "--status", "1"], {
    env: { PEDIDOS_TOKEN: "no-es-el-token-123" },
  });
  assert.equal(wrong.code, EXIT.rechazado);
  assert.match(wrong.stdout, /^❌ No autorizado: token incorrecto/);
});

Deno.test("without --tokens, auth is answered ok as anonimo and legacy requests work as before", async () => {
  await using t = await startTestServer();
  await using legacy = await TestClient.open(t.port, "::1");
  assert.equal((await legacy.request(order())).ok, true);
  assert.equal((await legacy.request({ tipo: "estadisticas" })).ok, true);
  const auth = await legacy.request({ tipo: "auth", token: "cualquiera" });
  assert.deepEqual(auth, { ok: true, mensaje: "🔓 Este servidor no pide token", rol: "anonimo" });
});

Deno.test("a tokens file others can read is a start-up warning; a bad one stops the start", async () => {
  await using dir = await tempDir();
  const tokens = await writeTokens(dir.path);
  await Deno.chmod(tokens, 0o644);
  await using server = await spawnServer(["--db", `${dir.path}/p.db`, "--tokens", tokens]);
  assert.match(
    server.stderr(),
    new RegExp(`aviso: el archivo de tokens ${tokens} lo pueden leer todos los usuarios`),
  );
  server.kill("SIGTERM");
  assert.equal((await server.exited()).code, 0);

  await Deno.writeTextFile(tokens, `admin ${TOKENS.operador}\n`);
  const failed = await spawnServer(["--db", `${dir.path}/q.db`, "--tokens", tokens]).catch((e) =>
    e
  );
  assert.equal(failed.code, 1);
  assert.match(
    failed.stderr,
    new RegExp(`^pedidos-server: error: archivo de tokens ${tokens}: línea 1: el rol debe ser`),
  );
  assert.ok(!failed.stderr.includes(TOKENS.operador));
});

Deno.test("with --tokens the HTTP side answers only an operator; health and readiness stay open", async () => {
  await using dir = await tempDir();
  await using t = await startTestServer({
    tokensFile: await writeTokens(dir.path),
    http: { hostname: "127.0.0.1", port: 0 },
  });
  const url = t.server.httpUrl!;
  const get = async (path: string, authorization?: string) => {
    const response = await fetch(new URL(path, url), {
      headers: authorization ? { authorization } : {},
    });
    await response.body?.cancel();
    return response;
  };
  for (const path of ["/", "/metrics", "/api/stats", "/api/timeline"]) {
    const anonymous = await get(path);
    assert.equal(anonymous.status, 401, path);
    assert.match(anonymous.headers.get("www-authenticate") ?? "", /^Basic realm="pedidos"/);
    assert.equal((await get(path, `Bearer ${TOKENS.cliente}`)).status, 403, path);
    assert.equal((await get(path, `Bearer ${TOKENS.operador}`)).status, 200, path);
    const basic = "Basic " + btoa(`operador:${TOKENS.operador}`);
    assert.equal((await get(path, basic)).status, 200, `${path} with Basic`);
  }
  assert.equal((await get("/healthz")).status, 200);
  assert.equal((await get("/readyz")).status, 200);
});
