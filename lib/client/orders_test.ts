import assert from "node:assert/strict";
import {
  describeErrores,
  missingFields,
  parseBatch,
  prepareOrder,
  splitProducts,
} from "./orders.ts";

const keys = () => {
  let n = 0;
  return () => `k${++n}`;
};

Deno.test("splitProducts trims pieces and drops empty ones", () => {
  assert.deepEqual(splitProducts(["pan, leche", " huevos ,", ","]), ["pan", "leche", "huevos"]);
  assert.deepEqual(splitProducts([""]), []);
});

Deno.test("missingFields lists the required fields not given, in prompt order", () => {
  assert.deepEqual(missingFields({ direccion: "C 1" }), ["cliente", "productos"]);
  assert.deepEqual(missingFields({ cliente: "", productos: [], direccion: "" }), []);
});

Deno.test("prepareOrder normalises with the shared schema and adds a new key", () => {
  const prepared = prepareOrder(
    { cliente: " Ana ", productos: ["pan"], "dirección": "Calle 1" },
    { wait: false, newKey: keys() },
  );
  assert.deepEqual(prepared, {
    ok: true,
    order: {
      clave: "k1",
      message: { cliente: "Ana", productos: ["pan"], direccion: "Calle 1", clave: "k1" },
    },
  });
});

Deno.test("prepareOrder keeps a given key and asks for an event only with --wait", () => {
  const prepared = prepareOrder(
    { cliente: "Ana", productos: ["pan"], direccion: "C", clave: "mía", avisar: false },
    { wait: true, newKey: keys() },
  );
  assert.ok(prepared.ok);
  assert.equal(prepared.order.clave, "mía");
  assert.equal(prepared.order.message.avisar, true);
  const without = prepareOrder(
    { cliente: "Ana", productos: ["pan"], direccion: "C", avisar: true },
    { wait: false },
  );
  assert.ok(without.ok);
  assert.equal("avisar" in without.order.message, false);
});

Deno.test("prepareOrder reports every invalid field the way the server would", () => {
  const prepared = prepareOrder({ cliente: "", productos: [], extra: 1 }, { wait: false });
  assert.equal(prepared.ok, false);
  assert.deepEqual(Object.keys(!prepared.ok ? prepared.errores : {}).sort(), [
    "cliente",
    "direccion",
    "extra",
    "productos",
  ]);
});

Deno.test("parseBatch numbers lines, skips blank ones and reports every bad line", () => {
  const text = [
    '{"cliente":"Ana","productos":["pan"],"direccion":"C 1"}',
    "",
    '{"cliente":"Bea","productos":["sal"],"direccion":"C 2","clave":"b-1","tipo":"pedido"}\r',
    "no es json",
    "[1]",
    '{"tipo":"estado","id":1}',
    '{"cliente":"","productos":["x"],"direccion":"C"}',
    "   ",
  ].join("\n");
  const { orders, problems } = parseBatch(text, { wait: false, newKey: keys() });
  assert.deepEqual(orders.map((o) => [o.linea, o.clave]), [[1, "k1"], [3, "b-1"]]);
  assert.deepEqual(problems.map((p) => p.linea), [4, 5, 6, 7]);
  assert.match(problems[0]!.mensaje, /^JSON inválido/);
  assert.equal(problems[1]!.mensaje, "se esperaba un objeto JSON");
  assert.equal(problems[2]!.mensaje, 'solo se envían pedidos, no tipo "estado"');
  assert.equal(problems[3]!.mensaje, "cliente no puede estar vacío");
});

Deno.test("describeErrores shows the field only when its text does not name it", () => {
  assert.equal(
    describeErrores({
      cliente: "falta cliente",
      "productos.1": "el producto no puede estar vacío",
      extra: "campo desconocido",
    }),
    "falta cliente; productos.1: el producto no puede estar vacío; extra: campo desconocido",
  );
});
