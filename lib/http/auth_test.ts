import assert from "node:assert/strict";
import { httpAccess, OPEN_ROUTES, tokenFromAuthorization } from "./auth.ts";
import { parseTokens } from "../auth/tokens.ts";

const OPERADOR = "operador-0123456789abcdef";
const CLIENTE = "cliente-0123456789abcdef";
const tokens = parseTokens(`operador ${OPERADOR}\ncliente ${CLIENTE}`);
const basic = (user: string, password: string) =>
  "Basic " + btoa(String.fromCharCode(...new TextEncoder().encode(`${user}:${password}`)));

Deno.test("a token is read from Bearer, or from Basic's password whatever the user name", () => {
  assert.equal(tokenFromAuthorization(`Bearer ${OPERADOR}`), OPERADOR);
  assert.equal(tokenFromAuthorization(`bearer   ${OPERADOR}`), OPERADOR);
  assert.equal(tokenFromAuthorization(basic("operador", OPERADOR)), OPERADOR);
  assert.equal(tokenFromAuthorization(basic("", "con:dos puntos ñ")), "con:dos puntos ñ");
  for (const header of [null, "", "Bearer", "Digest abc", "Basic no-es-base64!", basic("x", "")]) {
    const token = tokenFromAuthorization(header);
    assert.ok(token === undefined || token === "", String(header));
  }
  assert.equal(tokenFromAuthorization("Basic " + btoa("sin-dos-puntos")), undefined);
});

Deno.test("with tokens, only an operator reads the HTTP side; health and readiness stay open", () => {
  for (const path of ["/", "/metrics", "/api/stats", "/api/timeline", "/api/events"]) {
    assert.equal(httpAccess(path, null, tokens), "sin_credenciales", path);
    assert.equal(httpAccess(path, "Bearer adivina-adivinanza", tokens), "sin_credenciales");
    assert.equal(httpAccess(path, `Bearer ${CLIENTE}`, tokens), "prohibido", path);
    assert.equal(httpAccess(path, `Bearer ${OPERADOR}`, tokens), "permitido", path);
    assert.equal(httpAccess(path, basic("yo", OPERADOR), tokens), "permitido", path);
  }
  for (const path of OPEN_ROUTES) assert.equal(httpAccess(path, null, tokens), "permitido");
});

Deno.test("without tokens the HTTP side is open, as before", () => {
  assert.equal(httpAccess("/metrics", null, undefined), "permitido");
  assert.equal(httpAccess("/", "Bearer cualquiera", undefined), "permitido");
});
