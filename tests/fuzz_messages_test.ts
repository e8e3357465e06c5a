/**
 * Bad input, property-based (fast-check): random bytes, invalid UTF-8,
 * truncated and concatenated JSON, huge numbers, deep nesting, long strings,
 * wrong types, duplicate and unknown keys, prototype-pollution keys, control
 * characters and Unicode edge cases, all sent over real sockets to a real
 * server. For each input: the server answers with the right `codigo` (or
 * closes for oversize), the next valid order on a fresh connection is
 * accepted, and what is stored equals what was sent (trimmed).
 *
 * Runs are reproducible: the seed is fixed (PEDIDOS_FUZZ_SEED overrides it)
 * and fast-check prints the seed and path of any counterexample.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { MAX_CLIENTE, MAX_DIRECCION } from "../lib/wire/schema.ts";
import {
  countOrders,
  readOrders,
  startTestServer,
  TestClient,
  type TestServer,
} from "./helpers.ts";
import type { StoredOrder } from "../lib/store/types.ts";
import { LineReader } from "../lib/wire/lines.ts";
import { writeAll } from "../lib/util/net.ts";

const SEED = Number(Deno.env.get("PEDIDOS_FUZZ_SEED") ?? 20_251_128);
const MAX_BYTES = 4096;
const encoder = new TextEncoder();
const enc = (text: string) => encoder.encode(text);
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
};

type Reply = Record<string, unknown>;
interface Exchange {
  replies: Reply[];
  /** The server ended the connection with a reset rather than an orderly close. */
  reset: boolean;
}

/**
 * Sends `bytes` on a fresh connection, half-closes, and reads every line
 * until the server closes. The greeting is not included.
 */
async function exchange(port: number, bytes: Uint8Array): Promise<Exchange> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const reader = new LineReader(conn);
  const replies: Reply[] = [];
  let reset = false;
  const timer = setTimeout(() => conn.close(), 10_000);
  try {
    await reader.readLine(); // greeting
    const writing = writeAll(conn, bytes).then(() => conn.closeWrite()).catch(() => {
      // The server may close first (oversize): the reads below tell what it said.
    });
    try {
      for (let line = await reader.readLine(); line !== null; line = await reader.readLine()) {
        replies.push(JSON.parse(line));
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.ConnectionReset)) throw error;
      reset = true;
    }
    await writing;
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // Closed by the timer.
    }
  }
  return { replies, reset };
}

const codigos = (exchange: Exchange) =>
  exchange.replies.map((reply) => reply.ok === true ? "ok" : String(reply.codigo));

let serial = 0;
/** A valid order with a unique `cliente`. */
function validOrder(extra: Record<string, unknown> = {}) {
  return { cliente: `valido ${++serial}`, productos: ["pan"], direccion: "Calle 1", ...extra };
}

/** The liveness half of every property: a valid order on a fresh connection is accepted. */
async function assertNextOrderAccepted(port: number) {
  await using client = await TestClient.open(port);
  const reply = await client.request(validOrder());
  assert.equal(reply.ok, true, `next valid order: ${JSON.stringify(reply)}`);
}

async function stored(db: string, id: number): Promise<StoredOrder> {
  const [row] = await readOrders(db, { id });
  assert.ok(row, `order #${id} is stored`);
  return row;
}

async function fuzzServer(): Promise<TestServer> {
  return await startTestServer({ max: 100_000, workers: 2, workMs: 0, maxBytes: MAX_BYTES });
}

const params = (numRuns: number): fc.Parameters<unknown> => ({ numRuns, seed: SEED });

/** One property over `arbitrary`: exchange the bytes it makes, check, then check liveness. */
async function property<T>(
  t: TestServer,
  arbitrary: fc.Arbitrary<T>,
  toBytes: (value: T) => Uint8Array,
  check: (result: Exchange, value: T) => void | Promise<void>,
  numRuns = 100,
) {
  await fc.assert(
    fc.asyncProperty(arbitrary, async (value) => {
      const result = await exchange(t.port, toBytes(value));
      await check(result, value);
      await assertNextOrderAccepted(t.port);
    }),
    params(numRuns) as fc.Parameters<[T]>,
  );
}

// ---------------------------------------------------------------------------
// Arbitraries

/** Text safe to put between JSON quotes unescaped. */
const plain = fc.stringMatching(/^[a-zA-Z0-9 ]{0,12}$/);

/** Byte sequences that are not UTF-8. */
const invalidUtf8 = fc.constantFrom(
  [0x80], // continuation byte alone
  [0xc0, 0x80], // overlong NUL
  [0xc3], // truncated two-byte sequence
  [0xe2, 0x82], // truncated three-byte sequence
  [0xed, 0xa0, 0x80], // encoded surrogate
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xf8, 0x88, 0x80, 0x80, 0x80], // five-byte form
  [0xfe],
  [0xff],
).map((bytes) => new Uint8Array(bytes));

/** A JSON value of a type no order field accepts as a string. */
const notAString = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(plain, fc.integer(), { maxKeys: 2 }),
);

/** Number literals that are not a usable order id. */
const hugeOrOddNumber = fc.oneof(
  fc.bigInt({ min: 2n ** 53n + 1n, max: 10n ** 400n }).map(String),
  fc.bigInt({ min: -(10n ** 400n), max: 0n }).map(String),
  fc.integer({ min: 309, max: 100_000 }).map((e) => `1e${e}`),
  fc.integer({ min: 1, max: 1000 }).map((e) => `-1e${e}`),
  fc.integer({ min: 1, max: 400 }).map((e) => `1e-${e}`),
  fc.double({ min: 0.000001, max: 1e6, noInteger: true, noNaN: true }).map(String),
  fc.constant("-0"),
);

/** Keys that would pollute a prototype if a server merged objects naively. */
const dangerousKey = fc.constantFrom(
  "__proto__",
  "constructor",
  "prototype",
  "__defineGetter__",
  "hasOwnProperty",
  "toString",
  "valueOf",
);

/** Characters a name may not contain: C0 and C1 controls and DEL. */
const controlCharacter = fc.oneof(
  fc.integer({ min: 0x00, max: 0x1f }),
  fc.integer({ min: 0x7f, max: 0x9f }),
).map((code) => String.fromCharCode(code));

/** Awkward but valid text: RTL, combining marks, emoji, zero-width, quotes, SQL. */
const awkward = fc.constantFrom(
  "\u200f",
  "\u202e",
  "\u05e9\u05dc\u05d5\u05dd",
  "\u0645\u0631\u062d\u0628\u0627",
  "e\u0301",
  "\u0041\u030a\u0323",
  "\u{1f469}\u200d\u{1f469}\u200d\u{1f467}",
  "\u{1f1ea}\u{1f1f8}",
  "\u{1f44d}\u{1f3fd}",
  "\ufeff",
  "\u00a0",
  "\u2028",
  "\u200b",
  "\ufffd",
  "\u{10ffff}",
  "'",
  '"',
  "\\",
  "'); DROP TABLE pedidos; --",
  "%s%n",
  "NULL",
  "<script>",
  "${x}",
);

/** Valid, well-formed Unicode text with no control characters. */
function unicodeText(maxLength: number) {
  return fc.array(
    fc.oneof(fc.string({ unit: "grapheme", maxLength: 4 }), awkward),
    { minLength: 1, maxLength: 8 },
  ).map((parts) => parts.join(""))
    .filter((text) =>
      text.isWellFormed() && !/\p{Cc}/u.test(text) && text.trim().length > 0 &&
      text.trim().length <= maxLength
    );
}

// ---------------------------------------------------------------------------
// Properties

Deno.test("fuzz: random bytes get only error replies and never stop the server", async () => {
  await using t = await fuzzServer();
  await property(
    t,
    fc.uint8Array({ maxLength: 600 }),
    (bytes) => concat(bytes, enc("\n")),
    (result) => {
      for (const codigo of codigos(result)) {
        assert.ok(
          ["json_invalido", "pedido_invalido", "demasiado_grande"].includes(codigo),
          codigo,
        );
      }
    },
    150,
  );
});

Deno.test("fuzz: invalid UTF-8 inside a message is json_invalido", async () => {
  await using t = await fuzzServer();
  await property(
    t,
    fc.tuple(plain, invalidUtf8, plain),
    ([before, bad, after]) =>
      concat(
        enc(`{"cliente":"${before}`),
        bad,
        enc(`${after}","productos":["pan"],"direccion":"Calle 1"}\n`),
      ),
    (result) => assert.deepEqual(codigos(result), ["json_invalido"]),
  );
});

Deno.test("fuzz: a truncated message is answered json_invalido at most once", async () => {
  await using t = await fuzzServer();
  const line = JSON.stringify(validOrder({ clave: "k", avisar: true }));
  await property(
    t,
    fc.integer({ min: 1, max: line.length - 1 }),
    (cut) => enc(line.slice(0, cut) + "\n"),
    (result) => {
      const got = codigos(result);
      assert.ok(got.length <= 1 && got.every((codigo) => codigo === "json_invalido"), `${got}`);
    },
  );
  assert.equal(await countOrders(t.db, { clave: "k" }), 0, "no truncated order was stored");
});

Deno.test("fuzz: concatenated messages, with or without separators, are each answered in order", async () => {
  await using t = await fuzzServer();
  const separator = fc.constantFrom("", "", " ", "\n", "\r\n", "\t", " \n ");
  await property(
    t,
    fc.array(fc.tuple(fc.boolean(), separator), { minLength: 1, maxLength: 8 }),
    (parts) => {
      const text = parts.map(([valid, sep]) =>
        (valid ? JSON.stringify(validOrder()) : '{"cliente":1}') + sep
      ).join("");
      return enc(text + "\n");
    },
    (result, parts) =>
      assert.deepEqual(
        codigos(result),
        parts.map(([valid]) => valid ? "ok" : "pedido_invalido"),
      ),
  );
});

Deno.test("fuzz: huge, fractional and negative numbers are pedido_invalido", async () => {
  await using t = await fuzzServer();
  await property(
    t,
    fc.tuple(hugeOrOddNumber, fc.boolean()),
    ([number, asId]) =>
      enc(
        (asId
          ? `{"tipo":"estado","id":${number}}`
          : `{"cliente":${number},"productos":["pan"],"direccion":"Calle 1"}`) + "\n",
      ),
    (result) => assert.deepEqual(codigos(result), ["pedido_invalido"]),
  );
});

Deno.test("fuzz: nesting beyond 32 levels is json_invalido, below it pedido_invalido", async () => {
  await using t = await fuzzServer();
  await property(
    t,
    fc.tuple(fc.integer({ min: 1, max: 80 }), fc.boolean()),
    ([levels, objects]) => {
      const open = objects ? '{"a":'.repeat(levels) : "[".repeat(levels);
      const close = objects ? "}".repeat(levels) : "]".repeat(levels);
      return enc(`{"cliente":"Ana","productos":${open}1${close},"direccion":"x"}\n`);
    },
    (result, [levels]) =>
      // The top-level object is level 1.
      assert.deepEqual(codigos(result), [1 + levels > 32 ? "json_invalido" : "pedido_invalido"]),
  );
});

Deno.test("fuzz: string length is judged against the field limits, oversize messages close the connection", async () => {
  await using t = await fuzzServer();
  await property(
    t,
    fc.tuple(fc.integer({ min: 1, max: 3 * MAX_BYTES }), fc.constantFrom("a", "ñ", "€")),
    ([length, char]) =>
      enc(
        JSON.stringify({ cliente: char.repeat(length), productos: ["pan"], direccion: "x" }) + "\n",
      ),
    (result, [length, char]) => {
      const size =
        enc(JSON.stringify({ cliente: char.repeat(length), productos: ["pan"], direccion: "x" }))
          .length;
      const got = codigos(result);
      if (size > MAX_BYTES) {
        // Answered and closed, or (if unread input was still arriving) reset.
        assert.ok(got.every((codigo) => codigo === "demasiado_grande"), `${got}`);
        assert.ok(got.length === 1 || result.reset, "told or reset");
      } else {
        assert.deepEqual(got, [length <= MAX_CLIENTE ? "ok" : "pedido_invalido"]);
      }
    },
  );
});

Deno.test("fuzz: wrong types in any field are pedido_invalido naming the field", async () => {
  await using t = await fuzzServer();
  const field = fc.constantFrom("cliente", "productos", "direccion", "clave", "avisar", "tipo");
  await property(
    t,
    fc.tuple(field, notAString).filter(([name, value]) =>
      !(name === "avisar" && typeof value === "boolean")
    ),
    ([name, value]) => enc(JSON.stringify({ ...validOrder(), [name]: value }) + "\n"),
    (result, [name]) => {
      assert.deepEqual(codigos(result), ["pedido_invalido"]);
      const errores = result.replies[0]!.errores as Record<string, string>;
      assert.ok(Object.keys(errores).some((key) => key === name || key.startsWith(`${name}.`)));
    },
  );
});

Deno.test("fuzz: prototype-pollution and other unknown keys are refused and pollute nothing", async () => {
  await using t = await fuzzServer();
  const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();
  await property(
    t,
    fc.tuple(dangerousKey, fc.boolean(), fc.boolean()),
    ([key, nested, asObject]) => {
      const value = asObject ? '{"contaminado":true}' : "1";
      const base = JSON.stringify(validOrder()).slice(0, -1);
      return enc(
        nested
          ? `${base.replace('["pan"]', `[{"${key}":${value}}]`)}}\n`
          : `${base},"${key}":${value}}\n`,
      );
    },
    (result, [key, nested]) => {
      assert.deepEqual(codigos(result), ["pedido_invalido"]);
      const errores = result.replies[0]!.errores as Record<string, string>;
      if (!nested) assert.equal(errores[key], "campo desconocido");
      assert.equal(({} as Record<string, unknown>).contaminado, undefined);
      assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), prototypeKeys);
    },
  );
});

Deno.test("fuzz: control characters are json_invalido raw and pedido_invalido escaped", async () => {
  await using t = await fuzzServer();
  await property(
    t,
    fc.tuple(controlCharacter, fc.boolean(), fc.constantFrom("cliente", "direccion", "producto")),
    ([char, raw, field]) => {
      const value = `A${char}B`;
      const order = field === "producto"
        ? { ...validOrder(), productos: [value] }
        : { ...validOrder(), [field]: value };
      let text = JSON.stringify(order);
      // JSON.stringify escapes C0 controls; put the raw byte back when asked.
      if (raw) text = text.replace(JSON.stringify(value).slice(1, -1), value);
      return enc(text + "\n");
    },
    (result, [char, raw]) => {
      // Raw C0 bytes break JSON itself; DEL and C1 are valid JSON but not valid names.
      const breaksJson = raw && char.charCodeAt(0) < 0x20;
      // A raw LF also ends the line: what follows it is a second, garbage line.
      const expected = !breaksJson
        ? ["pedido_invalido"]
        : char === "\n"
        ? ["json_invalido", "json_invalido"]
        : ["json_invalido"];
      assert.deepEqual(codigos(result), expected);
    },
  );
});

Deno.test("fuzz: Unicode edge cases are stored exactly as sent, trimmed", async () => {
  await using t = await fuzzServer();
  await fc.assert(
    fc.asyncProperty(
      unicodeText(MAX_CLIENTE),
      fc.array(unicodeText(50), { minLength: 1, maxLength: 4 }),
      unicodeText(MAX_DIRECCION),
      fc.option(unicodeText(100), { nil: undefined }),
      async (cliente, productos, direccion, clave) => {
        const sent = {
          cliente,
          productos,
          direccion,
          ...(clave === undefined ? {} : { clave: `${++serial} ${clave}` }),
        };
        await using client = await TestClient.open(t.port);
        const reply = await client.request(sent);
        assert.equal(reply.ok, true, JSON.stringify(reply));
        assert.notEqual(reply.duplicado, true);
        const row = await stored(t.db, reply.id as number);
        assert.equal(row.cliente, cliente.trim());
        assert.deepEqual(row.productos, productos.map((p) => p.trim()));
        assert.equal(row.direccion, direccion.trim());
        assert.equal(row.clave, sent.clave?.trim() ?? null);
        // And the server gives back what it stored, to whoever shows the key.
        const proof = sent.clave === undefined ? {} : { clave: sent.clave };
        const status = await client.request({ tipo: "estado", id: reply.id as number, ...proof });
        const pedido = status.pedido as Record<string, unknown>;
        assert.equal(pedido.cliente, sent.clave === undefined ? undefined : cliente.trim());
        assert.equal(pedido.direccion, sent.clave === undefined ? undefined : direccion.trim());
      },
    ),
    params(150) as fc.Parameters<[string, string[], string, string | undefined]>,
  );
  assert.ok(await countOrders(t.db) > 0, "the orders survived every SQL-looking string");
});

Deno.test("fuzz: with duplicate keys the last value wins, as JSON.parse decides", async () => {
  await using t = await fuzzServer();
  await property(
    t,
    fc.tuple(unicodeText(50), unicodeText(50)),
    ([first, last]) => {
      const tail = JSON.stringify(validOrder()).slice(1).replace(/"cliente":"[^"]*",/, "");
      return enc(`{"cliente":${JSON.stringify(first)},"cliente":${JSON.stringify(last)},${tail}\n`);
    },
    async (result, [, last]) => {
      assert.deepEqual(codigos(result), ["ok"]);
      assert.equal((await stored(t.db, result.replies[0]!.id as number)).cliente, last.trim());
    },
    50,
  );
});

Deno.test("lone surrogates are refused or stored unchanged, never silently replaced", async () => {
  await using t = await fuzzServer();
  await using client = await TestClient.open(t.port);
  const problems: string[] = [];
  for (const field of ["cliente", "direccion", "producto", "clave"]) {
    for (const escape of ["\\ud800", "\\udfff", "a\\ud83d", "\\ude00b"]) {
      const value = JSON.parse(`"${escape}"`) as string;
      const sent = field === "producto"
        ? validOrder({ productos: [value] })
        : validOrder({ [field]: value });
      const reply = await client.request(sent);
      if (!reply.ok) {
        if (reply.codigo !== "pedido_invalido") {
          problems.push(`${field} ${escape}: ${reply.codigo}`);
        }
        continue;
      }
      const row = await stored(t.db, reply.id as number);
      const got = field === "producto"
        ? row.productos[0]
        : row[field as "cliente" | "direccion" | "clave"];
      if (got !== value) {
        problems.push(`${field} ${escape}: accepted and stored as ${JSON.stringify(got)}`);
      }
    }
  }
  assert.deepEqual(problems, []);
});
