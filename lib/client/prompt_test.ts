import assert from "node:assert/strict";
import { askMissing, PROMPTS } from "./prompt.ts";

function terminal(answers: string) {
  let written = "";
  return {
    io: {
      stdin: ReadableStream.from([new TextEncoder().encode(answers)]),
      stderr: { write: (text: string) => void (written += text) },
    },
    written: () => written,
  };
}

Deno.test("askMissing asks only for the missing fields, with the seed's prompts, in order", async () => {
  const t = terminal("Ana\npan, leche\n");
  const fields = await askMissing({ direccion: "Calle 1" }, t.io);
  assert.deepEqual(fields, { cliente: "Ana", productos: ["pan", "leche"], direccion: "Calle 1" });
  assert.equal(t.written(), "Nombre del cliente: Productos (separados por coma): ");
});

Deno.test("askMissing asks again for an answer the schema rejects, saying why", async () => {
  const t = terminal("Ana\n,\nCalle 1\npan\n");
  const fields = await askMissing({}, t.io);
  assert.deepEqual(fields.productos, ["pan"]);
  assert.equal(
    t.written(),
    PROMPTS.cliente + PROMPTS.productos + PROMPTS.direccion +
      "  ❌ productos debe tener al menos un producto\n" + PROMPTS.productos,
  );
});

Deno.test("askMissing fails with an input error when the input ends first", async () => {
  const t = terminal("Ana\n");
  await assert.rejects(askMissing({}, t.io), {
    name: "InputError",
    message: "la entrada terminó antes de completar el pedido",
  });
});
