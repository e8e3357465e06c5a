/**
 * TLS end to end with certificates made at test time by `openssl`: the
 * server on both loopbacks, the client and the load tool trusting the test
 * CA, a wrong CA refused, plain and TLS peers that do not match told apart,
 * and certificates rotated by SIGHUP without dropping a connection.
 *
 * @module
 */
import assert from "node:assert/strict";
import { EXIT } from "../lib/client/errors.ts";
import { runLoad } from "../tools/load/run.ts";
import { LOAD_DEFAULTS } from "../tools/load/options.ts";
import {
  LOOPBACKS,
  order,
  runClientInProcess as client,
  spawnServer,
  startTestServer,
  tempDir,
  TestClient,
  waitFor,
} from "./helpers.ts";
import { HAS_OPENSSL, makePki, TOKENS, writeTokens } from "./security_helpers.ts";

const ANA = ["--cliente", "Ana", "--productos", "pan", "--direccion", "Calle 1"];

Deno.test({
  name:
    "over TLS the client reaches both loopbacks with --ca, and refuses a certificate from another CA",
  ignore: !HAS_OPENSSL,
  async fn() {
    await using dir = await tempDir();
    const pki = await makePki(dir.path, "a");
    const other = await makePki(dir.path, "b");
    await using t = await startTestServer({
      tls: { certFile: pki.certFile, keyFile: pki.keyFile },
    });
    assert.ok(t.log.lines.some((line) => line.includes(`escuchando en [::1]:${t.port} (TLS)`)));
    assert.ok(t.log.lines.some((line) => /certificado TLS CN=localhost, válido hasta /.test(line)));
    const port = ["--port", String(t.port)];
    for (const host of [...LOOPBACKS, "localhost"]) {
      const sent = await client(["--host", host, ...port, "--ca", pki.caFile, ...ANA, "-v"]);
      assert.equal(sent.code, EXIT.ok, `${host}: ${sent.stderr}`);
      assert.match(sent.stdout, /^✅ Pedido encolado #\d+\n$/);
      assert.match(sent.stderr, /TLS con .*: certificado verificado/);

      const wrongCa = await client(["--host", host, ...port, "--ca", other.caFile, ...ANA]);
      assert.equal(wrongCa.code, EXIT.conexion, `${host}: ${wrongCa.stdout}`);
      assert.match(
        wrongCa.stderr,
        /^pedidos-client: error: no se pudo verificar el certificado de .*: emisor desconocido \(¿falta --ca\?\)\n$/,
      );
      const noCa = await client(["--host", host, ...port, "--tls", "--status", "1"]);
      assert.equal(noCa.code, EXIT.conexion, "the test CA is not among Deno's roots");
      assert.match(noCa.stderr, /emisor desconocido/);
    }
  },
});

Deno.test({
  name: "a plain client to a TLS server, or a TLS client to a plain one, fails with one clear line",
  ignore: !HAS_OPENSSL,
  async fn() {
    await using dir = await tempDir();
    const pki = await makePki(dir.path, "a");
    await using secure = await startTestServer({
      tls: { certFile: pki.certFile, keyFile: pki.keyFile },
    });
    const plainToTls = await client([
      "--host",
      "::1",
      "--port",
      String(secure.port),
      "--timeout-ms",
      "500",
      "--status",
      "1",
    ]);
    assert.equal(plainToTls.code, EXIT.conexion);
    assert.match(plainToTls.stderr, /no envió su saludo en 500 ms/);

    await using plain = await startTestServer();
    const tlsToPlain = await client([
      "--host",
      "127.0.0.1",
      "--port",
      String(plain.port),
      "--ca",
      pki.caFile,
      "--status",
      "1",
    ]);
    assert.equal(tlsToPlain.code, EXIT.conexion);
    assert.match(tlsToPlain.stderr, /127\.0\.0\.1:\d+ no habla TLS/);
  },
});

Deno.test({
  name: "the load tool speaks TLS and authenticates, in both modes, on one thread or two",
  ignore: !HAS_OPENSSL,
  async fn() {
    await using dir = await tempDir();
    const pki = await makePki(dir.path, "a");
    await using t = await startTestServer({
      max: 1000,
      workMs: 0,
      tls: { certFile: pki.certFile, keyFile: pki.keyFile },
      tokensFile: await writeTokens(dir.path),
    });
    for (const mode of ["conexion", "pipeline"] as const) {
      for (const threads of [1, 2]) {
        const report = await runLoad({
          ...LOAD_DEFAULTS,
          host: "localhost",
          port: t.port,
          mode,
          orders: 40,
          concurrency: 4,
          depth: 5,
          threads,
          quiet: true,
          tls: { caCerts: [pki.ca] },
          token: TOKENS.cliente,
        });
        assert.equal(report.accepted, 40, `${mode}, ${threads}: ${JSON.stringify(report)}`);
        assert.equal(report.errorsTotal, 0, `${mode}, ${threads}`);
      }
    }
    const refused = await runLoad({
      ...LOAD_DEFAULTS,
      host: "::1",
      port: t.port,
      orders: 3,
      concurrency: 1,
      quiet: true,
      tls: { caCerts: [pki.ca] },
      token: "no-es-un-token-valido",
    });
    assert.equal(refused.accepted, 0);
    assert.equal(refused.rejected.no_autorizado, 3, JSON.stringify(refused));
  },
});

Deno.test({
  name:
    "SIGHUP re-reads the certificates: an open TLS connection goes on, new ones get the new certificate",
  ignore: !HAS_OPENSSL,
  async fn() {
    await using dir = await tempDir();
    const first = await makePki(dir.path, "a");
    const second = await makePki(dir.path, "b");
    const certFile = `${dir.path}/servidor.pem`;
    const keyFile = `${dir.path}/servidor.key`;
    await Deno.copyFile(first.certFile, certFile);
    await Deno.copyFile(first.keyFile, keyFile);
    await using server = await spawnServer([
      "--db",
      `${dir.path}/p.db`,
      "--tls-cert",
      certFile,
      "--tls-key",
      keyFile,
      "--work-ms",
      "1",
    ]);
    const open = await Promise.all(
      LOOPBACKS.map((host) => TestClient.tls(server.port, host, first.ca)),
    );
    try {
      for (const conn of open) {
        assert.equal((await conn.readJson()).tipo, "bienvenida");
        assert.equal((await conn.request(order())).ok, true);
      }

      // Renewal: the files are replaced, then the server is told.
      await Deno.copyFile(second.certFile, certFile);
      await Deno.copyFile(second.keyFile, keyFile);
      server.kill("SIGHUP");
      await waitFor(() => /certificados TLS recargados/.test(server.stderr()), "the reload");

      for (const conn of open) {
        assert.equal((await conn.request(order())).ok, true, "the open connection goes on");
      }
      for (const host of LOOPBACKS) {
        await assert.rejects(
          TestClient.tls(server.port, host, first.ca),
          /UnknownIssuer/,
          `${host}: the old certificate is no longer served`,
        );
        await using fresh = await TestClient.tls(server.port, host, second.ca);
        assert.equal((await fresh.readJson()).tipo, "bienvenida");
        assert.equal((await fresh.request(order())).ok, true);
      }

      // A broken renewal changes nothing and says why.
      await Deno.writeTextFile(keyFile, "no es una clave");
      server.kill("SIGHUP");
      await waitFor(
        () =>
          /no se recargaron los certificados TLS .*no contiene ninguna clave/.test(server.stderr()),
        "the refused reload",
      );
      await using still = await TestClient.tls(server.port, "::1", second.ca);
      assert.equal((await still.readJson()).tipo, "bienvenida");
    } finally {
      for (const conn of open) conn.close();
    }
    server.kill("SIGTERM");
    const { code, stdout } = await server.exited();
    assert.equal(code, 0);
    assert.match(stdout, /Pedidos: 6 recibidos/);
  },
});

Deno.test("an unusable certificate or key stops the start with one line naming the file", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/c.pem`, "no es un certificado");
  await Deno.writeTextFile(`${dir.path}/k.pem`, "tampoco una clave");
  const failed = await spawnServer([
    "--db",
    `${dir.path}/p.db`,
    "--tls-cert",
    `${dir.path}/c.pem`,
    "--tls-key",
    `${dir.path}/k.pem`,
  ]).catch((error) => error);
  assert.equal(failed.code, 1);
  assert.match(
    failed.stderr,
    new RegExp(
      `^pedidos-server: error: el certificado TLS ${dir.path}/c.pem no contiene ningún certificado PEM\\n$`,
    ),
  );
  const missing = await spawnServer([
    "--db",
    `${dir.path}/p.db`,
    "--tls-cert",
    `${dir.path}/falta.pem`,
    "--tls-key",
    `${dir.path}/k.pem`,
  ]).catch((error) => error);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no se puede leer el certificado TLS .*falta\.pem/);
});
