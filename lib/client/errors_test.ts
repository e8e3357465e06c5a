import assert from "node:assert/strict";
import { UsageError } from "../util/cli.ts";
import {
  ConnectionError,
  EXIT,
  exitCodeOf,
  InputError,
  isRetriableError,
  isRetriableReply,
  RefusedByServerError,
} from "./errors.ts";
import { failure } from "../wire/protocol.ts";

Deno.test("only limite and demasiadas_conexiones replies are worth retrying", () => {
  assert.equal(isRetriableReply(failure("limite")), true);
  assert.equal(isRetriableReply(failure("demasiadas_conexiones")), true);
  for (const codigo of ["apagando", "pedido_invalido", "interno", "no_encontrado"] as const) {
    assert.equal(isRetriableReply(failure(codigo)), false, codigo);
  }
  assert.equal(isRetriableReply({ ok: true, id: 1, mensaje: "✅" }), false);
});

Deno.test("refused and lost connections are retried; timeouts and bad peers are not", () => {
  assert.equal(isRetriableError(new ConnectionError("rechazada", "x")), true);
  assert.equal(isRetriableError(new ConnectionError("perdida", "x")), true);
  assert.equal(isRetriableError(new ConnectionError("tiempo", "x")), false);
  assert.equal(isRetriableError(new ConnectionError("inalcanzable", "x")), false);
  assert.equal(isRetriableError(new ConnectionError("protocolo", "x")), false);
  assert.equal(isRetriableError(new RefusedByServerError(failure("demasiadas_conexiones"))), true);
  assert.equal(isRetriableError(new RefusedByServerError(failure("apagando"))), false);
  assert.equal(isRetriableError(new Error("x")), false);
});

Deno.test("errors map to the documented exit codes", () => {
  assert.equal(exitCodeOf(new UsageError("x")), EXIT.uso);
  assert.equal(exitCodeOf(new InputError("x")), EXIT.uso);
  assert.equal(exitCodeOf(new ConnectionError("tiempo", "x")), EXIT.conexion);
  assert.equal(exitCodeOf(new RefusedByServerError(failure("apagando"))), EXIT.rechazado);
  assert.deepEqual(EXIT, { ok: 0, rechazado: 1, uso: 2, conexion: 3 });
});
