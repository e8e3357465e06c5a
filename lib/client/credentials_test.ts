import assert from "node:assert/strict";
import { parseTokenFile, plainTokenWarning, readCredentials, tlsSettings } from "./credentials.ts";
import { InputError } from "./errors.ts";

const TOKEN = "6f1c0a5e3b9d4e7f8a2b";

Deno.test("a token file holds one token, with blank and # comment lines allowed", () => {
  assert.equal(parseTokenFile(`${TOKEN}\n`, "t"), TOKEN);
  assert.equal(parseTokenFile(`# pedidos\n\n  ${TOKEN}  \r\n`, "t"), TOKEN);
  for (
    const [text, message] of [
      ["", /^t no contiene ningún token$/],
      ["# nada\n", /^t no contiene ningún token$/],
      [`cliente ${TOKEN}`, /^t debe contener solo el token, en una línea$/],
      [`${TOKEN}\n${TOKEN}`, /^t debe contener solo el token, en una línea$/],
    ] as const
  ) {
    assert.throws(() => parseTokenFile(text, "t"), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.match(error.message, message);
      return true;
    });
  }
});

Deno.test("credentials come from the token file or the environment, and the CA file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pedidos-cred-" });
  try {
    await Deno.writeTextFile(`${dir}/token`, `${TOKEN}\n`);
    const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    await Deno.writeTextFile(`${dir}/ca.pem`, pem);
    await Deno.writeTextFile(`${dir}/no-ca.pem`, "no es un certificado");
    assert.deepEqual(await readCredentials({}), {});
    assert.deepEqual(await readCredentials({ tls: {} }), { tls: {} });
    assert.deepEqual(
      await readCredentials({ tls: { caFile: `${dir}/ca.pem` }, token: { file: `${dir}/token` } }),
      { tls: { caCerts: [pem] }, token: TOKEN },
    );
    assert.deepEqual(
      await readCredentials({ token: { env: "PEDIDOS_TOKEN", value: ` ${TOKEN}\n` } }),
      { token: TOKEN },
    );
    await assert.rejects(
      readCredentials({ token: { env: "PEDIDOS_TOKEN", value: "dos partes" } }),
      /^InputError: PEDIDOS_TOKEN no puede contener espacios$/,
    );
    await assert.rejects(
      readCredentials({ tls: { caFile: `${dir}/no-ca.pem` } }),
      new RegExp(`^InputError: --ca ${dir}/no-ca.pem no contiene ningún certificado PEM$`),
    );
    await assert.rejects(
      readCredentials({ token: { file: `${dir}/falta` } }),
      new RegExp(`^InputError: no se puede leer el archivo de token ${dir}/falta: `),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a token about to cross a network without TLS is a warning; on loopback or TLS it is not", () => {
  assert.equal(
    plainTokenWarning("tienda.example", { token: TOKEN }),
    "el token viaja sin cifrar hasta tienda.example: use --tls",
  );
  assert.match(plainTokenWarning("192.0.2.1", { token: TOKEN })!, /hasta 192\.0\.2\.1/);
  assert.equal(plainTokenWarning("tienda.example", { token: TOKEN, tls: {} }), undefined);
  assert.equal(plainTokenWarning("tienda.example", {}), undefined);
  for (const host of ["localhost", "127.0.0.1", "::1"]) {
    assert.equal(plainTokenWarning(host, { token: TOKEN }), undefined, host);
  }
});

Deno.test("--tls asks for TLS with Deno's roots, --ca for TLS trusting that file too, neither for plain TCP", () => {
  assert.deepEqual(tlsSettings(true, undefined), {});
  assert.deepEqual(tlsSettings(undefined, "ca.pem"), { caFile: "ca.pem" });
  assert.deepEqual(tlsSettings(true, "ca.pem"), { caFile: "ca.pem" });
  assert.equal(tlsSettings(undefined, undefined), undefined);
  assert.equal(tlsSettings(false, undefined), undefined);
});
