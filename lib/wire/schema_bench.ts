/**
 * Micro-benchmarks of request validation, the per-order cost that sits
 * between framing and storage: `deno bench lib/wire/schema_bench.ts`.
 *
 * @module
 */
import { parseRequest } from "./schema.ts";

const ORDER = {
  cliente: "carga-ab12cd34-1",
  productos: ["pan", "leche"],
  direccion: "Calle 2 nº 1",
};
const LARGE = {
  cliente: "Ana María de los Ángeles",
  productos: Array.from({ length: 100 }, (_, i) => `producto número ${i}`),
  direccion: "Avenida de la Constitución 1234, piso 5, puerta B, 28001 Madrid",
  clave: "01HZXKQ8J6V6T7Y2N5W3R4E9A0",
};
const SEED_ORDER = { cliente: "Ana", productos: ["pan"], "dirección": "Calle Falsa 123" };
const INVALID = { cliente: "", productos: [], direccion: "x", extra: 1 };

Deno.bench("parseRequest: typical valid order", { baseline: true }, () => {
  parseRequest(ORDER);
});

Deno.bench("parseRequest: order with 100 products and a key", () => {
  parseRequest(LARGE);
});

Deno.bench("parseRequest: seed order with the accented dirección key", () => {
  parseRequest(SEED_ORDER);
});

Deno.bench("parseRequest: invalid order (three errors)", () => {
  parseRequest(INVALID);
});

Deno.bench("parseRequest: status query", () => {
  parseRequest({ tipo: "estado", id: 42 });
});
