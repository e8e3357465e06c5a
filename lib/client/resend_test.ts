import assert from "node:assert/strict";
import { resendCommand, shellQuote } from "./resend.ts";
import type { OutgoingOrder } from "./orders.ts";

function outgoing(message: Record<string, unknown>): OutgoingOrder {
  const clave = "k-1";
  return {
    clave,
    message: { cliente: "Ana", productos: ["pan"], direccion: "C 1", clave, ...message },
  };
}

Deno.test("shellQuote leaves plain words alone and single-quotes the rest, quotes included", () => {
  assert.equal(shellQuote("fe80::1%eth0"), "fe80::1%eth0");
  assert.equal(shellQuote("3b2c-9f/a.b,c"), "3b2c-9f/a.b,c");
  assert.equal(shellQuote("Calle 1"), "'Calle 1'");
  assert.equal(shellQuote("O'Higgins"), `'O'\\''Higgins'`);
  assert.equal(shellQuote("$(rm -rf ~)"), "'$(rm -rf ~)'");
  assert.equal(shellQuote("Peña"), "'Peña'");
  assert.equal(shellQuote(""), "''");
});

Deno.test("an order resends with flags and its key, and --wait if it asked to be told", () => {
  assert.equal(
    resendCommand(outgoing({ direccion: "Calle 1", avisar: true }), { host: "::1", port: 9 }),
    "pedidos-client --host ::1 --port 9 --cliente=Ana --productos=pan --direccion='Calle 1' --clave=k-1 --wait",
  );
});

Deno.test("an order whose products hold a comma resends as its JSON line on stdin", () => {
  const order = outgoing({ productos: ["pan, integral"] });
  assert.equal(
    resendCommand(order, { host: "localhost", port: 8888 }),
    `printf '%s\\n' '${
      JSON.stringify(order.message)
    }' | pedidos-client --host localhost --port 8888 --file -`,
  );
});
