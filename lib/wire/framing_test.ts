import assert from "node:assert/strict";
import fc from "fast-check";
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  type Frame,
  type FramerOptions,
  MessageFramer,
} from "./framing.ts";

const encoder = new TextEncoder();
const ORDER = '{"cliente":"Ana","productos":["pan","leche"],"direccion":"Calle 1"}';
const ORDER_VALUE = JSON.parse(ORDER);

function bytesOf(...parts: (string | number[])[]): Uint8Array {
  const pieces = parts.map((part) => typeof part === "string" ? encoder.encode(part) : part);
  const out = new Uint8Array(pieces.reduce((total, piece) => total + piece.length, 0));
  let offset = 0;
  for (const piece of pieces) {
    out.set(piece, offset);
    offset += piece.length;
  }
  return out;
}

function frameChunks(chunks: Uint8Array[], options?: FramerOptions): Frame[] {
  const framer = new MessageFramer(options);
  return chunks.flatMap((chunk) => framer.push(chunk));
}

function frameWhole(input: string | Uint8Array, options?: FramerOptions): Frame[] {
  return frameChunks([typeof input === "string" ? encoder.encode(input) : input], options);
}

function frameByteByByte(input: string | Uint8Array, options?: FramerOptions): Frame[] {
  const bytes = typeof input === "string" ? encoder.encode(input) : input;
  return frameChunks(Array.from(bytes, (byte) => Uint8Array.of(byte)), options);
}

/** Splits at the given cut positions (any order, taken modulo length + 1). */
function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const positions = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const position of [...positions, bytes.length]) {
    chunks.push(bytes.subarray(start, position));
    start = position;
  }
  return chunks;
}

/** Frames `input` in one chunk and byte by byte, asserts both agree, and returns the frames. */
function frameBothWays(input: string | Uint8Array, options?: FramerOptions): Frame[] {
  const whole = frameWhole(input, options);
  assert.deepEqual(frameByteByByte(input, options), whole);
  return whole;
}

const message = (valor: unknown): Frame => ({ tipo: "mensaje", valor } as Frame);
const invalid = (detalle: string): Frame => ({ tipo: "error", codigo: "json_invalido", detalle });
const tooBig = (maxBytes: number): Frame => ({
  tipo: "error",
  codigo: "demasiado_grande",
  detalle: `mensaje de más de ${maxBytes} bytes`,
});
const EXPECTED_OBJECT = invalid("se esperaba un objeto JSON");

Deno.test("pipelined NDJSON in one chunk yields every message in order", () => {
  const frames = frameBothWays(`${ORDER}\n{"a":1}\n{"b":[true,null]}\n`);
  assert.deepEqual(frames, [message(ORDER_VALUE), message({ a: 1 }), message({ b: [true, null] })]);
});

Deno.test("a raw object without newline is emitted as soon as its closing brace arrives", () => {
  const framer = new MessageFramer();
  const bytes = encoder.encode(ORDER);
  assert.deepEqual(framer.push(bytes.subarray(0, bytes.length - 1)), []);
  assert.equal(framer.pendingBytes, bytes.length - 1);
  assert.deepEqual(framer.push(bytes.subarray(bytes.length - 1)), [message(ORDER_VALUE)]);
  assert.equal(framer.pendingBytes, 0);
});

Deno.test("a pretty-printed multi-line object with CRLF is one message", () => {
  const pretty = JSON.stringify(ORDER_VALUE, null, 2).replaceAll("\n", "\r\n") + "\r\n";
  assert.deepEqual(frameBothWays(pretty + pretty), [message(ORDER_VALUE), message(ORDER_VALUE)]);
});

Deno.test("a message split at every possible cut, even inside a UTF-8 character, is intact", () => {
  const text = '{"cliente":"Ñandú 🍕","productos":["ñ"]}';
  const bytes = encoder.encode(text + "\n" + text);
  const expected = [message(JSON.parse(text)), message(JSON.parse(text))];
  for (let cut = 0; cut <= bytes.length; cut++) {
    assert.deepEqual(frameChunks([bytes.subarray(0, cut), bytes.subarray(cut)]), expected);
  }
  assert.deepEqual(frameByteByByte(bytes), expected);
});

Deno.test("two objects on one line are two messages, with or without space between", () => {
  assert.deepEqual(frameBothWays('{"a":1}{"b":2}\n'), [message({ a: 1 }), message({ b: 2 })]);
  assert.deepEqual(frameBothWays('{"a":1} {"b":2}\n'), [message({ a: 1 }), message({ b: 2 })]);
  assert.deepEqual(frameBothWays('{"a":1}{"b":2}'), [message({ a: 1 }), message({ b: 2 })]);
});

Deno.test("garbage yields one error at its newline and the next line is still framed", () => {
  const framer = new MessageFramer();
  assert.deepEqual(framer.push(encoder.encode("hola que tal {")), []);
  assert.deepEqual(framer.push(encoder.encode('"x"}\n' + ORDER)), [
    EXPECTED_OBJECT,
    message(ORDER_VALUE),
  ]);
  assert.deepEqual(frameBothWays(`basura\n${ORDER}\n`), [EXPECTED_OBJECT, message(ORDER_VALUE)]);
});

Deno.test("a truncated line does not eat the valid line that follows it", () => {
  const input = '{"cliente": "x"\n{"cliente":"y","productos":["a"],"direccion":"z"}\n';
  assert.deepEqual(frameBothWays(input), [
    invalid("mensaje JSON incompleto"),
    message({ cliente: "y", productos: ["a"], direccion: "z" }),
  ]);
  assert.deepEqual(frameBothWays('{"a":1,\r\n\r\n{"b":2}\n'), [
    invalid("mensaje JSON incompleto"),
    message({ b: 2 }),
  ]);
  assert.deepEqual(frameBothWays('{"a":"sin cerrar\n{"b":2}\n'), [
    invalid("cadena sin cerrar al final de la línea"),
    message({ b: 2 }),
  ]);
});

Deno.test("a line that cannot continue a truncated message is re-examined as garbage", () => {
  assert.deepEqual(frameBothWays('{"a":1\nhola\n{"b":2}\n'), [
    invalid("mensaje JSON incompleto"),
    EXPECTED_OBJECT,
    message({ b: 2 }),
  ]);
});

/** Frames `bytes` cut once at every offset, and byte by byte: every way must give `expected`. */
function assertAtEverySplit(bytes: Uint8Array, expected: Frame[], options?: FramerOptions): void {
  for (let cut = 0; cut <= bytes.length; cut++) {
    const frames = frameChunks([bytes.subarray(0, cut), bytes.subarray(cut)], options);
    assert.deepEqual(frames, expected, `cut at byte ${cut}`);
  }
  assert.deepEqual(frameByteByByte(bytes, options), expected, "byte by byte");
}

const ORDER_B = { cliente: "Bea", productos: ["pan"], direccion: "Calle 2" };
const ORDER_C = { cliente: "Ceci", productos: ["leche", "té"], direccion: "Calle 3" };
const INCOMPLETE = invalid("mensaje JSON incompleto");

Deno.test("a line cut anywhere is one error and the complete lines after it are all framed", () => {
  const cuts: [string, Frame][] = [
    ['{"cliente":', INCOMPLETE],
    ['{"cliente":"Ana","productos":[', INCOMPLETE],
    ['{"cliente":"Ana","productos":["pan",', INCOMPLETE],
    ['{"x":{"y":', INCOMPLETE],
    ['{"x":[{"y":[', INCOMPLETE],
    ['{"cliente":"Ana",', INCOMPLETE],
    ["{", INCOMPLETE],
  ];
  for (const [cut, error] of cuts) {
    for (const lineEnd of ["\n", "\r\n"]) {
      const input = [cut, JSON.stringify(ORDER_B), " " + JSON.stringify(ORDER_C) + " "]
        .join(lineEnd) + lineEnd;
      assertAtEverySplit(encoder.encode(input), [error, message(ORDER_B), message(ORDER_C)]);
    }
  }
  const inString = `{"cliente":"An\n${JSON.stringify(ORDER_B)}\n${JSON.stringify(ORDER_C)}\n`;
  assertAtEverySplit(encoder.encode(inString), [
    invalid("cadena sin cerrar al final de la línea"),
    message(ORDER_B),
    message(ORDER_C),
  ]);
});

Deno.test("a complete non-object line after a cut is not continued either: it is garbage", () => {
  for (const value of ["42", '"texto"', "true", "[1,2]", "{}"]) {
    const input = `{"cliente":\n${value}\n${JSON.stringify(ORDER_B)}\n`;
    const fresh = value === "{}" ? message({}) : EXPECTED_OBJECT;
    assertAtEverySplit(encoder.encode(input), [INCOMPLETE, fresh, message(ORDER_B)]);
  }
  // A lone string where a key was expected is a complete value too.
  assertAtEverySplit(encoder.encode(`{"a":1,\n"b"\n${JSON.stringify(ORDER_B)}\n`), [
    INCOMPLETE,
    EXPECTED_OBJECT,
    message(ORDER_B),
  ]);
});

Deno.test("pretty-printed array elements on their own lines still continue the message", () => {
  const value = { a: [1, "x"], b: [{}], c: [[]], d: [{ e: [true, null] }], f: {} };
  const pretty = JSON.stringify(value, null, 2) + "\n";
  assert.match(pretty, /^ {4}"x"$/m, "the last element is alone on its line");
  assertAtEverySplit(encoder.encode(pretty + pretty), [message(value), message(value)]);
  // Only an object with members, alone on its line, never continues an array.
  assertAtEverySplit(encoder.encode('{"a":[\n{"b":1}\n]}\n'), [
    INCOMPLETE,
    message({ b: 1 }),
    EXPECTED_OBJECT,
  ]);
});

Deno.test("a cut line and a complete line after it are not counted together against the limits", () => {
  const maxBytes = 48;
  const line = '{"a":"' + "x".repeat(maxBytes - 8) + '"}';
  assert.equal(encoder.encode(line).length, maxBytes);
  const cut = '{"b":"' + "y".repeat(maxBytes - 14) + '","c":';
  const spaces = " ".repeat(maxBytes);
  const expected = [INCOMPLETE, message(JSON.parse(line)), message(JSON.parse(line))];
  assertAtEverySplit(encoder.encode(`${cut}\n${line}\n${line}\n`), expected, { maxBytes });
  // Whitespace past the limit, at the end of either line, changes nothing.
  assertAtEverySplit(encoder.encode(`${cut}\n${line}${spaces}\n${line}\n`), expected, { maxBytes });
  assertAtEverySplit(encoder.encode(`{"b":"y"${spaces}\n${line}\n${line}\n`), expected, {
    maxBytes,
  });

  const deep = '{"a":{"b":[{"c":1}]}}';
  assertAtEverySplit(encoder.encode(`{"x":{"y":\n${deep}\n`), [
    INCOMPLETE,
    message(JSON.parse(deep)),
  ], { maxDepth: 4 });
  assertAtEverySplit(encoder.encode(`{"x":[${spaces}\n{"a":[[1]]}\n`), [
    INCOMPLETE,
    message({ a: [[1]] }),
  ], { maxBytes: 32, maxDepth: 3 });
});

Deno.test("a line that continues an unfinished message still gets its size and depth errors", () => {
  const maxBytes = 48;
  const line = '{"a":"' + "x".repeat(maxBytes - 8) + '"}';
  const cut = '{"b":"' + "y".repeat(maxBytes - 14) + '","c":';
  const spaces = " ".repeat(maxBytes);
  const tooLong = [tooBig(maxBytes)];
  for (const rest of [`}\n`, `${spaces}}\n`, ",\n"]) {
    assertAtEverySplit(encoder.encode(`${cut}\n${line}${rest}`), tooLong, { maxBytes });
  }
  assertAtEverySplit(encoder.encode(`{"b":"y"${spaces}}\n`), tooLong, { maxBytes });
  assertAtEverySplit(encoder.encode(`{"b":"y"${spaces}\n}\n`), tooLong, { maxBytes });
  // The line alone would be too deep as well.
  assertAtEverySplit(encoder.encode(`{"x":[${spaces}\n{"a":[[[1]]]}\n`), [tooBig(32)], {
    maxBytes: 32,
    maxDepth: 3,
  });

  const maxDepth = 3;
  const tooDeep = invalid(`anidamiento excesivo (máx. ${maxDepth})`);
  const b = message({ b: 1 });
  const deepCases: [string, Frame[]][] = [
    ['{"x":{"y":\n{"a":[1]}}}\n{"b":1}\n', [tooDeep, b]],
    ['{"x":{"y":\n{"a":[1]} ,\n{"b":1}\n', [tooDeep, b]],
    ['{"x":{"y":\n{"a":[x]}\n{"b":1}\n', [tooDeep, b]],
    ['{"x":{"y":\n{"a":[\n1]}}}\n{"b":1}\n', [tooDeep, EXPECTED_OBJECT, b]],
    ['{"x":{"y":\n{"a":[[' + "1".repeat(30) + '\n{"b":1}\n', [tooDeep, b]],
    ['{"x":[[\n{}\n]]}\n{"b":1}\n', [tooDeep, EXPECTED_OBJECT, b]],
  ];
  for (const [input, expected] of deepCases) {
    assertAtEverySplit(encoder.encode(input), expected, { maxBytes: 32, maxDepth });
  }
});

Deno.test("a syntax error is reported immediately and the rest of its line is discarded", () => {
  const framer = new MessageFramer();
  assert.deepEqual(framer.push(encoder.encode('{"a":x')), [invalid("carácter inesperado 'x'")]);
  assert.equal(framer.pendingBytes, 0);
  assert.deepEqual(framer.push(encoder.encode('} {"b":1}\n{"c":1}')), [message({ c: 1 })]);
});

Deno.test("invalid UTF-8 inside a string is an error and framing continues", () => {
  const input = bytesOf('{"a":"', [0xc3, 0x28], '"}\n{"b":"', [0xf0, 0x9f, 0x8d], '"}{"c":1}\n');
  assert.deepEqual(frameBothWays(input), [
    invalid("UTF-8 inválido"),
    invalid("UTF-8 inválido"),
    message({ c: 1 }),
  ]);
  // Lone invalid bytes in otherwise ASCII input (each decodes leniently to one U+FFFD).
  assert.deepEqual(frameBothWays(bytesOf('{"a":"', [0xff], '"}\n{"b":"', [0x80], '"}')), [
    invalid("UTF-8 inválido"),
    invalid("UTF-8 inválido"),
  ]);
  assert.deepEqual(frameBothWays(bytesOf('{"a":', [0xc3, 0xa9], "}\n")), [
    invalid("carácter inesperado 0xC3"),
  ]);
});

Deno.test("a top-level array, number, string or literal is not a message", () => {
  assert.deepEqual(
    frameBothWays('[1]\n42\n"x"\nnull\n[{"a":1}]\n'),
    Array(5).fill(EXPECTED_OBJECT),
  );
});

Deno.test("escaped quotes and braces inside strings do not confuse the brace counter", () => {
  const text = '{"a}\\"{":"a}\\"{","b":"\\\\","c":"{{{"}';
  assert.deepEqual(frameBothWays(`${text}\n${text}`), [
    message(JSON.parse(text)),
    message(JSON.parse(text)),
  ]);
});

Deno.test("the JSON grammar is enforced exactly as JSON.parse does", () => {
  const valid = [
    "{}",
    ' { "a" : [ ] , "b" : { } } ',
    '{"n":[0,-0,-0.5E+10,1e5,12.25e-3,3E0,-1]}',
    '{"s":"\\u00e9\\/\\b\\f\\n\\r\\t\\"\\\\ \\uD83C\\uDF55 ñ"}',
    '{"t":true,"f":false,"z":null,"a":[[[]]]}',
    '{"a":1,"a":2}',
  ];
  for (const text of valid) {
    assert.deepEqual(frameBothWays(text + "\n"), [message(JSON.parse(text))], text);
  }
  const invalidLines = [
    '{"a":01}',
    '{"a":1.}',
    '{"a":.5}',
    '{"a":-}',
    '{"a":1e}',
    '{"a":1e+}',
    '{"a":+1}',
    '{"a":tru}',
    '{"a":nul}',
    '{"a":truex}',
    '{"a":"\\x"}',
    '{"a":"\\u12G4"}',
    "{'a':1}",
    '{"a":1,}',
    "{,}",
    '{"a" 1}',
    '{"a":[1,]}',
    '{"a":[1}',
    '{"a":{]}',
    '{"a":NaN}',
    '{"a":"tab\there"}',
    "{a:1}",
  ];
  for (const text of invalidLines) {
    const frames = frameBothWays(text + "\n" + ORDER + "\n");
    assert.notEqual(frames[0]?.tipo, "mensaje", text);
    assert.deepEqual(frames.at(-1), message(ORDER_VALUE), text);
  }
  assert.deepEqual(frameBothWays('{"a":1}}\n'), [message({ a: 1 }), EXPECTED_OBJECT]);
});

Deno.test("nesting deeper than maxDepth is an error, and exactly maxDepth is fine", () => {
  const nested = (depth: number) => '{"a":'.repeat(depth - 1) + "{}" + "}".repeat(depth - 1);
  const nestedArrays = (depth: number) =>
    '{"a":' + "[".repeat(depth - 1) + "]".repeat(depth - 1) + "}";
  const tooDeep = invalid("anidamiento excesivo (máx. 32)");
  for (const build of [nested, nestedArrays]) {
    const ok = build(32);
    assert.deepEqual(frameBothWays(`${ok}\n${build(33)}\n{"b":1}\n`), [
      message(JSON.parse(ok)),
      tooDeep,
      message({ b: 1 }),
    ]);
    assert.deepEqual(frameBothWays(ok + build(33)), [message(JSON.parse(ok)), tooDeep]);
  }
  assert.deepEqual(frameBothWays('{"a":{"b":[]}}\n', { maxDepth: 2 }), [
    invalid("anidamiento excesivo (máx. 2)"),
  ]);
});

Deno.test("a message of exactly maxBytes is accepted and one byte more closes the framer", () => {
  const maxBytes = 64;
  const sized = (length: number) => `{"a":"${"x".repeat(length - 8)}"}`;
  assert.equal(encoder.encode(sized(maxBytes)).length, maxBytes);
  for (const suffix of ["", "\n", "\r\n   "]) {
    const fits = sized(maxBytes) + suffix;
    assert.deepEqual(frameBothWays(fits, { maxBytes }), [message(JSON.parse(sized(maxBytes)))]);
    const over = sized(maxBytes + 1) + suffix;
    assert.deepEqual(frameBothWays(over, { maxBytes }), [tooBig(maxBytes)]);
  }
});

Deno.test("after demasiado_grande the framer is closed and ignores further input", () => {
  const framer = new MessageFramer({ maxBytes: 16 });
  assert.deepEqual(framer.push(encoder.encode('{"a":1}\n{"a":"long enough')), [
    message({ a: 1 }),
    tooBig(16),
  ]);
  assert.equal(framer.closed, true);
  assert.equal(framer.pendingBytes, 0);
  assert.deepEqual(framer.push(encoder.encode('"}\n{"b":1}\n')), []);
});

Deno.test("garbage longer than maxBytes without newline closes the framer", () => {
  const framer = new MessageFramer({ maxBytes: 10 });
  assert.deepEqual(framer.push(encoder.encode("0123456789")), []);
  assert.equal(framer.closed, false);
  assert.deepEqual(framer.push(encoder.encode("A")), [tooBig(10)]);
  assert.equal(framer.closed, true);
});

Deno.test("the default size limit is 64 KiB", () => {
  assert.equal(DEFAULT_MAX_MESSAGE_BYTES, 65536);
  const fits = `{"a":"${"x".repeat(65536 - 8)}"}`;
  assert.deepEqual(frameWhole(fits), [message(JSON.parse(fits))]);
  assert.deepEqual(frameWhole(fits.replace("{", '{"b":0,')), [tooBig(65536)]);
});

Deno.test("a big message arriving in many small chunks is buffered and framed once", () => {
  const text = JSON.stringify({ items: Array.from({ length: 2000 }, (_, i) => `item ${i}`) });
  const bytes = encoder.encode(text);
  const framer = new MessageFramer();
  const frames: Frame[] = [];
  for (let offset = 0; offset < bytes.length; offset += 7) {
    frames.push(...framer.push(bytes.subarray(offset, offset + 7)));
    if (frames.length === 0) assert.equal(framer.pendingBytes, Math.min(offset + 7, bytes.length));
  }
  assert.deepEqual(frames, [message(JSON.parse(text))]);
});

Deno.test("whitespace-only input yields nothing and buffers nothing", () => {
  const framer = new MessageFramer();
  assert.deepEqual(framer.push(encoder.encode(" \t\r\n\n   \r\n")), []);
  assert.equal(framer.pendingBytes, 0);
  assert.deepEqual(framer.push(new Uint8Array(0)), []);
});

Deno.test("a __proto__ key is an own property and pollutes no prototype", () => {
  const frames = frameBothWays('{"__proto__":{"polluted":true},"a":1}\n{"__proto__":{"x":1}}');
  assert.equal(frames.length, 2);
  for (const frame of frames) {
    assert.equal(frame.tipo, "mensaje");
    if (frame.tipo !== "mensaje") continue;
    assert.ok(Object.hasOwn(frame.valor, "__proto__"));
    assert.equal(Object.getPrototypeOf(frame.valor), Object.prototype);
  }
  assert.equal(({} as Record<string, unknown>)["polluted"], undefined);
});

Deno.test("invalid limits are rejected at construction", () => {
  for (const options of [{ maxBytes: 0 }, { maxBytes: 1.5 }, { maxDepth: -1 }, { maxDepth: NaN }]) {
    assert.throws(() => new MessageFramer(options), RangeError);
  }
});

const jsonObject = fc.dictionary(fc.string({ unit: "grapheme" }), fc.jsonValue({ maxDepth: 6 }));

Deno.test("property: NDJSON objects split at random cut points come out exactly", () => {
  fc.assert(
    fc.property(fc.array(jsonObject), fc.array(fc.nat()), (objects, cuts) => {
      const lines = objects.map((object) => JSON.stringify(object));
      const bytes = encoder.encode(lines.map((line) => line + "\n").join(""));
      const frames = frameChunks(splitAt(bytes, cuts), { maxBytes: 1 << 20 });
      assert.deepEqual(frames, lines.map((line) => message(JSON.parse(line))));
    }),
  );
});

Deno.test("property: raw, pretty and NDJSON messages mixed are framed exactly", () => {
  const layouts = fc.constantFrom("ndjson", "raw", "pretty-crlf", "spaced");
  fc.assert(
    fc.property(fc.array(fc.tuple(jsonObject, layouts)), fc.array(fc.nat()), (items, cuts) => {
      const text = items.map(([object, layout]) => {
        switch (layout) {
          case "ndjson":
            return JSON.stringify(object) + "\n";
          case "raw":
            return JSON.stringify(object);
          case "pretty-crlf":
            return JSON.stringify(object, null, 2).replaceAll("\n", "\r\n") + "\r\n";
          default:
            return " \t" + JSON.stringify(object) + " ";
        }
      }).join("");
      const frames = frameChunks(splitAt(encoder.encode(text), cuts), { maxBytes: 1 << 20 });
      assert.deepEqual(
        frames,
        items.map(([object]) => message(JSON.parse(JSON.stringify(object)))),
      );
    }),
  );
});

/** An order as clients send it: the fields of a request, with any Unicode text. */
const orderValue = fc.record({
  cliente: fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }),
  productos: fc.array(fc.string({ unit: "grapheme", maxLength: 10 }), {
    minLength: 1,
    maxLength: 4,
  }),
  direccion: fc.string({ unit: "grapheme", maxLength: 20 }),
  clave: fc.uuid(),
  avisar: fc.boolean(),
}, { requiredKeys: ["cliente", "productos", "direccion"] });

Deno.test("property: a prefix of an order on its own line, then N orders: 1 error and the N orders", () => {
  fc.assert(
    fc.property(
      orderValue,
      fc.boolean(),
      fc.nat(),
      fc.array(orderValue, { minLength: 1, maxLength: 4 }),
      fc.array(fc.nat()),
      (cutOrder, spaced, prefixLength, orders, cuts) => {
        const text = spaced
          ? JSON.stringify(cutOrder, null, 1).replaceAll("\n", " ")
          : JSON.stringify(cutOrder);
        const whole = encoder.encode(text);
        // Any proper prefix, even one ending inside a UTF-8 character.
        const prefix = whole.subarray(0, 1 + prefixLength % (whole.length - 1));
        const texts = orders.map((order) => JSON.stringify(order));
        const lines = texts.map((line) => encoder.encode(line + "\n"));
        const bytes = bytesOf(Array.from(prefix), "\n", ...lines.map((line) => Array.from(line)));
        const frames = frameChunks(splitAt(bytes, cuts));
        assert.equal(frames.length, 1 + orders.length, JSON.stringify(frames));
        assert.equal(frames[0]?.tipo === "error" && frames[0].codigo, "json_invalido");
        assert.deepEqual(frames.slice(1), texts.map((line) => message(JSON.parse(line))));
      },
    ),
    { seed: 15, numRuns: 2000 },
  );
});

const MUTATION_TOKENS = [
  "",
  "}",
  "{",
  "]",
  "[",
  '"',
  "\\",
  "\\u",
  ",",
  ":",
  "0",
  "-",
  ".",
  "e",
  "+",
  "t",
  "é",
  "\u0001",
  " ",
];

/** A serialised object (sometimes spaced out), with up to two random edits: often invalid. */
const mutatedObject = fc.tuple(
  jsonObject,
  fc.boolean(),
  fc.array(fc.tuple(fc.nat(), fc.nat({ max: 2 }), fc.constantFrom(...MUTATION_TOKENS)), {
    maxLength: 2,
  }),
).map(([object, spaced, edits]) => {
  let text = spaced
    ? JSON.stringify(object, null, 1).replaceAll("\n", " ")
    : JSON.stringify(object);
  for (const [at, deleted, inserted] of edits) {
    const start = at % (text.length + 1);
    text = text.slice(0, start) + inserted + text.slice(start + deleted);
  }
  return text;
});

/** JSON-like text over several lines: objects, broken objects and loose fragments. */
const jsonish = fc.array(
  fc.oneof(
    mutatedObject,
    fc.constantFrom("{", "}", "[", "]", '"', ":", ",", " ", "\n", "\r\n", "\\", "x", "1", "true"),
  ),
).map((parts) => parts.join(""));

Deno.test("property: the result does not depend on how the input is chunked", () => {
  const options = fc.constantFrom<FramerOptions>({}, { maxBytes: 24 }, { maxDepth: 3 });
  fc.assert(
    fc.property(jsonish, fc.array(fc.nat()), options, (text, cuts, limits) => {
      const bytes = encoder.encode(text);
      const whole = frameWhole(bytes, limits);
      assert.deepEqual(frameChunks(splitAt(bytes, cuts), limits), whole);
      assert.deepEqual(frameByteByByte(bytes, limits), whole);
    }),
    { numRuns: 500 },
  );
});

Deno.test("property: a single line is one message exactly when JSON.parse accepts an object", () => {
  const fatalDecoder = new TextDecoder("utf-8", { fatal: true });
  fc.assert(
    fc.property(mutatedObject, (text) => {
      const line = text.replaceAll("\n", "");
      const framer = new MessageFramer({ maxDepth: 1000, maxBytes: 1 << 20 });
      const frames = Array.from(encoder.encode(line + "\n"))
        .flatMap((byte) => framer.push(Uint8Array.of(byte)));
      let expected: unknown;
      try {
        expected = JSON.parse(fatalDecoder.decode(encoder.encode(line)));
      } catch {
        expected = undefined;
      }
      if (typeof expected !== "object" || expected === null || Array.isArray(expected)) {
        const oneMessage = frames.length === 1 && frames[0]?.tipo === "mensaje";
        assert.ok(!oneMessage || framer.pendingBytes > 0, line);
      } else {
        assert.deepEqual(frames, [message(expected)], line);
        assert.equal(framer.pendingBytes, 0);
      }
    }),
    { numRuns: 1000 },
  );
});

Deno.test("property: arbitrary bytes never throw and always give well-formed frames", () => {
  const chunk = fc.uint8Array({ maxLength: 64 });
  const interesting = fc.array(fc.constantFrom(0x7b, 0x7d, 0x22, 0x0a, 0x5c, 0x3a, 0xc3, 0xff));
  const input = fc.array(fc.oneof(chunk, interesting.map((bytes) => Uint8Array.from(bytes))));
  const options = fc.constantFrom<FramerOptions>({}, { maxBytes: 8 }, { maxDepth: 1 });
  fc.assert(
    fc.property(input, options, (chunks, limits) => {
      const framer = new MessageFramer(limits);
      const allFrames: Frame[] = [];
      for (const piece of chunks) {
        const wasClosed = framer.closed;
        const frames = framer.push(piece);
        allFrames.push(...frames);
        if (wasClosed) assert.deepEqual(frames, []);
        for (const [index, frame] of frames.entries()) {
          if (frame.tipo === "mensaje") {
            assert.equal(typeof frame.valor, "object");
            assert.ok(frame.valor !== null && !Array.isArray(frame.valor));
          } else {
            assert.ok(frame.codigo === "json_invalido" || frame.codigo === "demasiado_grande");
            assert.ok(typeof frame.detalle === "string" && frame.detalle.length > 0);
            if (frame.codigo === "demasiado_grande") {
              assert.equal(index, frames.length - 1);
              assert.ok(framer.closed);
            }
          }
        }
        assert.ok(framer.pendingBytes >= 0 && framer.pendingBytes <= (limits.maxBytes ?? 65536));
      }
      assert.deepEqual(
        frameBothWays(bytesOf(...chunks.map((piece) => Array.from(piece))), limits),
        allFrames,
      );
    }),
  );
});
