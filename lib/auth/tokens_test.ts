import assert from "node:assert/strict";
import {
  loadTokens,
  MIN_TOKEN_LENGTH,
  parseTokens,
  TokenFileError,
  worldAccessWarning,
} from "./tokens.ts";

const CLIENTE = "c1ient3-t0ken-aaaaaaaa";
const OPERADOR = "0perad0r-t0ken-bbbbbbbb";

Deno.test("a tokens file maps each token to its role, skipping comments and blank lines", () => {
  const tokens = parseTokens(
    `# tokens de pedidos\n\ncliente ${CLIENTE}\n  operador\t${OPERADOR}  \r\n# fin\n`,
  );
  assert.equal(tokens.size, 2);
  assert.equal(tokens.verify(CLIENTE), "cliente");
  assert.equal(tokens.verify(OPERADOR), "operador");
});

Deno.test("a token that differs anywhere, or by length, or only by case, is not accepted", () => {
  const tokens = parseTokens(`cliente ${CLIENTE}\noperador ${OPERADOR}`);
  for (
    const wrong of [
      "",
      "x" + CLIENTE.slice(1),
      CLIENTE.slice(0, -1) + "x",
      CLIENTE.slice(0, -1),
      CLIENTE + "a",
      CLIENTE.toUpperCase(),
      ` ${CLIENTE}`,
      "x".repeat(10_000),
    ]
  ) {
    assert.equal(tokens.verify(wrong), undefined, JSON.stringify(wrong.slice(0, 30)));
  }
});

Deno.test("each bad line is one error naming the line, never the token", () => {
  const cases: [string, RegExp][] = [
    [`admin ${CLIENTE}`, /^línea 1: el rol debe ser cliente u operador/],
    [`# c\ncliente`, /^línea 2: se espera ROL TOKEN/],
    [`cliente ${CLIENTE} extra`, /^línea 1: se espera ROL TOKEN/],
    [
      `cliente corto`,
      new RegExp(`^línea 1: el token es demasiado corto \\(mínimo ${MIN_TOKEN_LENGTH}`),
    ],
    [`cliente ${CLIENTE}\noperador ${CLIENTE}`, /^línea 2: token repetido$/],
    ["# solo comentarios\n\n", /^no contiene ningún token$/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseTokens(text), (error: unknown) => {
      assert.ok(error instanceof TokenFileError);
      assert.match(error.message, message);
      assert.ok(!error.message.includes(CLIENTE), "the token is not in the message");
      return true;
    });
  }
});

Deno.test("a file any user may read or write is a warning; an owner-only file is not", () => {
  assert.equal(worldAccessWarning("t", 0o100600), undefined);
  assert.equal(worldAccessWarning("t", 0o100640), undefined);
  assert.equal(worldAccessWarning("t", null), undefined);
  assert.equal(
    worldAccessWarning("t", 0o100644),
    "el archivo de tokens t lo pueden leer todos los usuarios (permisos 644): use chmod 600",
  );
  assert.match(worldAccessWarning("t", 0o100602)!, /lo pueden modificar todos/);
  assert.match(worldAccessWarning("t", 0o100666)!, /lo pueden leer y modificar todos/);
});

Deno.test("loading a tokens file reads its permissions; an unreadable one is one error naming the path", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pedidos-tokens-" });
  try {
    const path = `${dir}/tokens`;
    await Deno.writeTextFile(path, `operador ${OPERADOR}\n`, { mode: 0o600 });
    await Deno.chmod(path, 0o600);
    const privateFile = loadTokens(path);
    assert.equal(privateFile.tokens.verify(OPERADOR), "operador");
    assert.equal(privateFile.warning, undefined);
    await Deno.chmod(path, 0o644);
    assert.match(loadTokens(path).warning ?? "", /lo pueden leer todos/);
    assert.throws(
      () => loadTokens(`${dir}/no-existe`),
      new RegExp(`^TokenFileError: no se puede leer el archivo de tokens ${dir}/no-existe: `),
    );
    await Deno.writeTextFile(path, "cliente corto\n");
    assert.throws(
      () => loadTokens(path),
      new RegExp(`^TokenFileError: archivo de tokens ${path}: línea 1: `),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
