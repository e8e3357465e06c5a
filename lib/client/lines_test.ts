import assert from "node:assert/strict";
import { LineReader, LineSplitter } from "./lines.ts";

const encoder = new TextEncoder();

Deno.test("LineSplitter returns whole lines only, across chunks, without CR or LF", () => {
  const splitter = new LineSplitter();
  assert.deepEqual(splitter.push(encoder.encode('{"a":1}\r\n{"b"')), ['{"a":1}']);
  assert.deepEqual(splitter.push(encoder.encode(":2}\n\n")), ['{"b":2}', ""]);
  assert.equal(splitter.rest, "");
});

Deno.test("LineSplitter reassembles a character cut between two chunks", () => {
  const bytes = encoder.encode("Dirección\n");
  const cut = bytes.indexOf(0xc3) + 1; // inside the two bytes of "ó"
  const splitter = new LineSplitter();
  assert.deepEqual(splitter.push(bytes.subarray(0, cut)), []);
  assert.deepEqual(splitter.push(bytes.subarray(cut)), ["Dirección"]);
});

Deno.test("LineSplitter refuses a line longer than its limit", () => {
  const splitter = new LineSplitter(8);
  assert.throws(() => splitter.push(encoder.encode("0123456789")), RangeError);
});

Deno.test("LineSplitter refuses invalid UTF-8", () => {
  assert.throws(() => new LineSplitter().push(new Uint8Array([0xff, 0x0a])), TypeError);
});

Deno.test("LineReader gives one line per call, then the unterminated rest, then null", async () => {
  const stream = ReadableStream.from([
    encoder.encode("Ana\npan,"),
    encoder.encode("leche\nCalle 1"),
  ]);
  const reader = new LineReader(stream);
  assert.equal(await reader.readLine(), "Ana");
  assert.equal(await reader.readLine(), "pan,leche");
  assert.equal(await reader.readLine(), "Calle 1");
  assert.equal(await reader.readLine(), null);
  reader.release();
});
