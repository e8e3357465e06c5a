import assert from "node:assert/strict";
import { countsAsActivity, PerIpLimiter } from "./limits.ts";
import { accepted, authenticated, failure } from "../wire/protocol.ts";

Deno.test("each address may hold up to the limit; a closed connection frees its place", () => {
  const limiter = new PerIpLimiter({ limit: 2, exemptLoopback: false });
  assert.equal(limiter.tryOpen("10.0.0.1"), true);
  assert.equal(limiter.tryOpen("::ffff:10.0.0.1"), true);
  assert.equal(limiter.tryOpen("10.0.0.1"), false, "the mapped address is the same host");
  assert.equal(limiter.tryOpen("10.0.0.2"), true, "another address is counted apart");
  assert.equal(limiter.count("10.0.0.1"), 2);
  limiter.release("10.0.0.1");
  assert.equal(limiter.tryOpen("10.0.0.1"), true);
  limiter.release("10.0.0.1");
  limiter.release("10.0.0.1");
  limiter.release("10.0.0.2");
  assert.equal(limiter.addresses, 0, "no entry is kept for an address with no connection");
  assert.equal(limiter.tryOpen("127.0.0.1"), true);
  assert.equal(limiter.tryOpen("127.0.0.1"), true);
  assert.equal(limiter.tryOpen("127.0.0.1"), false, "loopback is limited when not exempt");
});

Deno.test("exempt loopback connections are neither limited nor counted", () => {
  const limiter = new PerIpLimiter({ limit: 1, exemptLoopback: true });
  for (let i = 0; i < 5; i++) assert.equal(limiter.tryOpen(i % 2 ? "::1" : "127.0.0.1"), true);
  assert.equal(limiter.addresses, 0);
  limiter.release("::1");
  assert.equal(limiter.tryOpen("192.0.2.1"), true);
  assert.equal(limiter.tryOpen("192.0.2.1"), false);
});

Deno.test("only answers to requests the connection may make count as activity", () => {
  assert.equal(countsAsActivity(accepted(1)), true);
  assert.equal(countsAsActivity(authenticated("cliente")), true);
  for (const codigo of ["limite", "no_encontrado", "interno", "apagando"] as const) {
    assert.equal(countsAsActivity(failure(codigo)), true, codigo);
  }
  for (
    const codigo of [
      "json_invalido",
      "pedido_invalido",
      "demasiado_grande",
      "no_autorizado",
    ] as const
  ) {
    assert.equal(countsAsActivity(failure(codigo)), false, codigo);
  }
});
