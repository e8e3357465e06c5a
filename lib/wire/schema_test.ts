import assert from "node:assert/strict";
import fc from "fast-check";
import {
  codePointsAtMost,
  commonOrder,
  MAX_CLAVE,
  MAX_CLIENTE,
  MAX_DIRECCION,
  MAX_PRODUCTO,
  MAX_PRODUCTOS,
  orderSchema,
  parseOrder,
  parseRequest,
} from "./schema.ts";

const valid = { cliente: "Ana", productos: ["pan", "leche"], direccion: "Calle Falsa 123" };

Deno.test("a valid order is accepted, trimmed, and typed as pedido", () => {
  const result = parseRequest({ cliente: "  Ana ", productos: [" pan"], direccion: "Calle 1 " });
  assert.deepEqual(result, {
    ok: true,
    request: { tipo: "pedido", cliente: "Ana", productos: ["pan"], direccion: "Calle 1" },
  });
});

Deno.test("the seed's accented key dirección is accepted, but not together with direccion", () => {
  const { direccion, ...rest } = valid;
  const accented = parseOrder({ ...rest, "dirección": direccion });
  assert.equal(
    accented.ok && accented.request.tipo === "pedido" && accented.request.direccion,
    direccion,
  );
  const both = parseOrder({ ...valid, "dirección": "otra" });
  assert.equal(both.ok, false);
  assert.match(!both.ok ? both.errores.direccion ?? "" : "", /no ambos/);
});

Deno.test("unknown fields are rejected, each named", () => {
  const result = parseRequest({ ...valid, precio: 3, __proto__x: 1 });
  assert.deepEqual(result, {
    ok: false,
    errores: { precio: "campo desconocido", __proto__x: "campo desconocido" },
  });
});

Deno.test("a __proto__ key from JSON is an unknown field, not a prototype change", () => {
  const result = parseRequest(
    JSON.parse(`{"cliente":"A","productos":["p"],"direccion":"d","__proto__":{"x":1}}`),
  );
  assert.deepEqual(result, {
    ok: false,
    errores: Object.fromEntries([["__proto__", "campo desconocido"]]),
  });
  assert.equal(({} as Record<string, unknown>).x, undefined);
});

Deno.test("missing, empty, blank and wrongly typed fields each get their own error", () => {
  const result = parseRequest({ cliente: "   ", productos: [1, ""], direccion: 7 });
  assert.deepEqual(result, {
    ok: false,
    errores: {
      cliente: "cliente no puede estar vacío",
      "productos.0": "el producto debe ser un texto",
      "productos.1": "el producto no puede estar vacío",
      direccion: "direccion debe ser un texto",
    },
  });
  assert.deepEqual(parseRequest({}), {
    ok: false,
    errores: {
      cliente: "falta cliente",
      productos: "falta productos",
      direccion: "falta direccion",
    },
  });
});

Deno.test("product count and string lengths are bounded", () => {
  const none = parseRequest({ ...valid, productos: [] });
  assert.equal(!none.ok && none.errores.productos, "productos debe tener al menos un producto");
  const many = parseRequest({ ...valid, productos: Array(MAX_PRODUCTOS + 1).fill("x") });
  assert.match(!many.ok ? many.errores.productos ?? "" : "", /como máximo 100/);
  assert.equal(parseRequest({ ...valid, productos: Array(MAX_PRODUCTOS).fill("x") }).ok, true);
  const long = parseRequest({ ...valid, cliente: "x".repeat(MAX_CLIENTE + 1) });
  assert.match(!long.ok ? long.errores.cliente ?? "" : "", /como máximo 200/);
});

Deno.test("length limits count characters (code points): an emoji is one, right at the boundary", () => {
  const emoji = "😀"; // one code point, two UTF-16 units
  const fits = (fields: Record<string, unknown>) => parseRequest({ ...valid, ...fields }).ok;
  for (const [field, max] of [["cliente", MAX_CLIENTE], ["direccion", MAX_DIRECCION]] as const) {
    assert.equal(fits({ [field]: emoji.repeat(max) }), true, `${max} emoji in ${field}`);
    assert.equal(fits({ [field]: emoji.repeat(max + 1) }), false, `${max + 1} emoji in ${field}`);
    assert.equal(fits({ [field]: "x" + emoji.repeat(max - 1) }), true, `mixed, ${max} in ${field}`);
  }
  assert.equal(fits({ productos: [emoji.repeat(MAX_PRODUCTO)] }), true);
  assert.equal(fits({ productos: [emoji.repeat(MAX_PRODUCTO + 1)] }), false);
  assert.equal(fits({ clave: emoji.repeat(MAX_CLAVE) }), true);
  assert.equal(fits({ clave: emoji.repeat(MAX_CLAVE + 1) }), false);
  // A flag is two code points: it counts two.
  assert.equal(fits({ cliente: "🇪🇸".repeat(MAX_CLIENTE / 2) + "x" }), false);
  assert.equal(codePointsAtMost("a😀b", 3), true);
  assert.equal(codePointsAtMost("a😀b", 2), false);
});

Deno.test("control characters are refused; other Unicode is kept as sent", () => {
  for (const cliente of ["A\u0000B", "A\u001b[2JB", "A\u0085B", "A\tB"]) {
    const result = parseRequest({ ...valid, cliente });
    assert.equal(!result.ok && result.errores.cliente, "cliente contiene caracteres de control");
  }
  const unicode = "Ñandú \u200fשלום\u200f e\u0301 🍕";
  const result = parseRequest({ ...valid, cliente: unicode });
  assert.equal(result.ok && result.request.tipo === "pedido" && result.request.cliente, unicode);
});

Deno.test("lone UTF-16 surrogates are refused, since they cannot be stored as sent", () => {
  const result = parseRequest({ ...valid, direccion: "Calle \ud800 1" });
  assert.deepEqual(!result.ok && result.errores, {
    direccion: "direccion contiene sustitutos UTF-16 sueltos",
  });
  assert.equal(parseRequest({ ...valid, direccion: "Calle \ud83c\udf55" }).ok, true);
});

Deno.test("status and statistics requests are validated by tipo", () => {
  assert.deepEqual(parseRequest({ tipo: "estado", id: 42 }), {
    ok: true,
    request: { tipo: "estado", id: 42 },
  });
  assert.deepEqual(parseRequest({ tipo: "estado", id: 0 }), {
    ok: false,
    errores: { id: "id debe ser positivo" },
  });
  assert.deepEqual(parseRequest({ tipo: "estado" }), {
    ok: false,
    errores: { id: "falta id o clave" },
  });
  assert.deepEqual(parseRequest({ tipo: "estado", clave: " k-1 " }), {
    ok: true,
    request: { tipo: "estado", clave: "k-1" },
  });
  assert.deepEqual(parseRequest({ tipo: "estado", id: 42, clave: "k-1" }), {
    ok: true,
    request: { tipo: "estado", id: 42, clave: "k-1" },
  });
  assert.deepEqual(parseRequest({ tipo: "estado", clave: "" }), {
    ok: false,
    errores: { clave: "clave no puede estar vacío" },
  });
  assert.deepEqual(parseRequest({ tipo: "estadisticas" }), {
    ok: true,
    request: { tipo: "estadisticas" },
  });
  assert.deepEqual(parseRequest({ tipo: "estadisticas", intervalos: true }), {
    ok: true,
    request: { tipo: "estadisticas", intervalos: true },
  });
  assert.deepEqual(parseRequest({ tipo: "estadisticas", intervalos: "sí" }), {
    ok: false,
    errores: { intervalos: "intervalos debe ser true o false" },
  });
  assert.deepEqual(parseRequest({ tipo: "estadisticas", extra: 1 }), {
    ok: false,
    errores: { extra: "campo desconocido" },
  });
  const unknown = parseRequest({ tipo: "borrar" });
  assert.match(!unknown.ok ? unknown.errores.tipo ?? "" : "", /tipo desconocido/);
});

Deno.test("an auth request carries its token exactly as sent", () => {
  assert.deepEqual(parseRequest({ tipo: "auth", token: " t " }), {
    ok: true,
    request: { tipo: "auth", token: " t " },
  });
  assert.deepEqual(parseRequest({ tipo: "auth" }), {
    ok: false,
    errores: { token: "falta token" },
  });
  assert.deepEqual(parseRequest({ tipo: "auth", token: 5, extra: 1 }), {
    ok: false,
    errores: { token: "token debe ser un texto", extra: "campo desconocido" },
  });
  const long = parseRequest({ tipo: "auth", token: "x".repeat(1025) });
  assert.equal(!long.ok && long.errores.token, "token admite como máximo 1024 caracteres");
});

Deno.test("optional clave and avisar are validated", () => {
  const result = parseRequest({ ...valid, clave: " k-1 ", avisar: true });
  assert.equal(result.ok && result.request.tipo === "pedido" && result.request.clave, "k-1");
  const bad = parseRequest({ ...valid, clave: "", avisar: "sí" });
  assert.deepEqual(!bad.ok && bad.errores, {
    clave: "clave no puede estar vacío",
    avisar: "avisar debe ser true o false",
  });
});

/** Texts near every rule's edge: blank, padded, control characters, lone surrogates, long. */
function edgyText(max: number) {
  return fc.oneof(
    { arbitrary: fc.constantFrom("Ana", " Bea ", "Calle 1 nº 2", "pan", "ñandú"), weight: 12 },
    fc.string({ maxLength: 8 }),
    fc.string({ unit: "grapheme", maxLength: 6 }),
    fc.string({ unit: "binary", maxLength: 6 }),
    fc.constantFrom("", "  ", " pan ", "a\u0007b", "\ud800", "\u00a0x\u2028", "😀"),
    fc.integer({ min: max - 2, max: max + 2 }).map((n) => "é".repeat(n)),
    fc.integer({ min: max - 1, max: max + 1 }).map((n) => "😀".repeat(n)),
  );
}

const anyValue = fc.oneof(fc.constant(undefined), fc.constant(null), fc.integer(), fc.boolean());

const messages = fc.record({
  tipo: fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 4 },
    fc.constantFrom("pedido", "estado", 1),
  ),
  cliente: fc.oneof(edgyText(MAX_CLIENTE), anyValue),
  productos: fc.oneof(
    { arbitrary: fc.array(edgyText(MAX_PRODUCTO), { maxLength: 4 }), weight: 6 },
    fc.integer({ min: MAX_PRODUCTOS, max: MAX_PRODUCTOS + 1 }).map((n) => Array(n).fill("pan")),
    fc.array(anyValue, { maxLength: 2 }),
    anyValue,
  ),
  direccion: fc.oneof(edgyText(MAX_DIRECCION), anyValue),
  clave: fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, edgyText(MAX_CLAVE), anyValue),
  avisar: fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 3 },
    fc.boolean(),
    fc.constant("sí"),
  ),
  extra: fc.oneof({ arbitrary: fc.constant(undefined), weight: 6 }, fc.constant(1)),
}, { requiredKeys: [] })
  // What a client can send: JSON, which has no undefined.
  .map((message) => JSON.parse(JSON.stringify(message)) as Record<string, unknown>);

Deno.test("the plain fast path accepts exactly what zod accepts, with the same result", () => {
  let accepted = 0;
  fc.assert(
    fc.property(messages, (message) => {
      const fast = commonOrder(message);
      const zod = orderSchema.safeParse(message);
      assert.equal(fast !== undefined, zod.success, JSON.stringify(message));
      if (zod.success) {
        accepted++;
        assert.deepEqual(fast, { ...zod.data, tipo: "pedido" });
      }
    }),
    { seed: 10, numRuns: 20_000 },
  );
  assert.ok(accepted > 500, `only ${accepted} valid messages generated`);
});
