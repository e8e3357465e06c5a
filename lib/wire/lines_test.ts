import assert from "node:assert/strict";
import { ByteLineSplitter, LineReader, LineSplitter } from "./lines.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

Deno.test("ByteLineSplitter hands over whole lines only, across chunks cut at every byte", () => {
  const text = '{"ok":true,"id":7}\r\n\n{"ok":false}\nDirección\n{"ok":tr';
  const bytes = encoder.encode(text);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const splitter = new ByteLineSplitter();
    const lines: string[] = [];
    const onLine = (data: Uint8Array, start: number, end: number) =>
      lines.push(decoder.decode(data.subarray(start, end)));
    splitter.push(bytes.slice(0, cut), onLine);
    splitter.push(bytes.slice(cut), onLine);
    assert.deepEqual(lines, ['{"ok":true,"id":7}', "", '{"ok":false}', "Dirección"], `cut ${cut}`);
    assert.equal(decoder.decode(splitter.rest()), '{"ok":tr');
  }
});

Deno.test("ByteLineSplitter keeps its own copy, so the caller may reuse its buffer", () => {
  const splitter = new ByteLineSplitter();
  const buffer = encoder.encode("abc");
  splitter.push(buffer, () => assert.fail("no line yet"));
  buffer.fill(0x78);
  const lines: string[] = [];
  splitter.push(encoder.encode("d\n"), (data, start, end) => {
    lines.push(decoder.decode(data.subarray(start, end)));
  });
  assert.deepEqual(lines, ["abcd"]);
});

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

Deno.test("LineSplitter refuses a line longer than its limit, in bytes", () => {
  assert.throws(() => new LineSplitter(8).push(encoder.encode("0123456789")), RangeError);
  // Five two-byte characters: five characters, ten bytes.
  assert.throws(() => new LineSplitter(8).push(encoder.encode("ñññññ")), RangeError);
  assert.deepEqual(new LineSplitter(8).push(encoder.encode("ññññ\n")), ["ññññ"]);
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

Deno.test("LineReader reads a connection's lines, and null once the peer closes", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await listener.accept();
  const reader = new LineReader(client);
  await server.write(encoder.encode('{"ok":true,"tipo":"bienvenida"}\n{"ok":'));
  assert.equal(await reader.readLine(), '{"ok":true,"tipo":"bienvenida"}');
  await server.write(encoder.encode("false}\n"));
  assert.equal(await reader.readLine(), '{"ok":false}');
  server.close();
  assert.equal(await reader.readLine(), null);
  client.close();
});
