import assert from "node:assert/strict";
import { encodePuts, InsertedCounter, UnexpectedReply } from "./beanstalk_wire.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (text: string) => encoder.encode(text);

Deno.test("each put frame counts its data in bytes, not characters", () => {
  const frames = encodePuts(3, (i) => ["pan", "café nº 1", "😀"][i]!);
  const frame = (i: number) =>
    decoder.decode(frames.bytes.subarray(frames.offsets[i], frames.offsets[i + 1]));
  assert.equal(frame(0), "put 1024 0 60 3\r\npan\r\n");
  assert.equal(frame(1), "put 1024 0 60 11\r\ncafé nº 1\r\n");
  assert.equal(frame(2), "put 1024 0 60 4\r\n😀\r\n");
});

Deno.test("the frames of a run lie back to back, so any range of puts is one slice", () => {
  const count = 5000;
  const body = (i: number) => `{"cliente":"carga-${i}","direccion":"Calle ${i} nº ${i}"}`;
  const frames = encodePuts(count, body);
  assert.equal(frames.count, count);
  assert.equal(frames.offsets.length, count + 1);
  assert.equal(frames.offsets[0], 0);
  assert.equal(frames.offsets[count], frames.bytes.length);
  const slice = decoder.decode(frames.bytes.subarray(frames.offsets[1200], frames.offsets[1203]));
  const expected = [1200, 1201, 1202].map((i) =>
    `put 1024 0 60 ${encoder.encode(body(i)).length}\r\n${body(i)}\r\n`
  ).join("");
  assert.equal(slice, expected);
});

Deno.test("a body longer than the scratch buffer is encoded whole", () => {
  const long = "ñ".repeat(3000);
  const frames = encodePuts(1, () => long);
  assert.equal(decoder.decode(frames.bytes), `put 1024 0 60 6000\r\n${long}\r\n`);
});

Deno.test("INSERTED replies are counted however the stream is cut", () => {
  const stream = bytes(
    "INSERTED 1\r\nINSERTED 22\r\nINSERTED 333\r\nINSERTED 18446744073709551615\r\n",
  );
  for (let cut = 0; cut <= stream.length; cut++) {
    for (let second = cut; second <= stream.length; second += 7) {
      const counter = new InsertedCounter();
      const total = counter.push(stream.subarray(0, cut)) +
        counter.push(stream.subarray(cut, second)) +
        counter.push(stream.subarray(second));
      assert.equal(total, 4, `cut at ${cut} and ${second}`);
    }
  }
});

Deno.test("a chunk may be reused after push: an unfinished reply is kept by copy", () => {
  const counter = new InsertedCounter();
  const chunk = new Uint8Array(8);
  chunk.set(bytes("INSERTED"));
  assert.equal(counter.push(chunk), 0);
  chunk.fill(0x20);
  chunk.set(bytes(" 7\r\n"));
  assert.equal(counter.push(chunk.subarray(0, 4)), 1);
});

Deno.test("any other reply to a put stops the count with the reply in the error", () => {
  for (
    const reply of [
      "JOB_TOO_BIG",
      "BURIED 5",
      "EXPECTED_CRLF",
      "OUT_OF_MEMORY",
      "DRAINING",
      "INSERTED",
      "INSERTED \r",
      "INSERTED 12a",
      "INSERTED 12",
    ]
  ) {
    const counter = new InsertedCounter();
    assert.throws(
      () => counter.push(bytes(`INSERTED 1\r\n${reply}\n`)),
      (error: unknown) =>
        error instanceof UnexpectedReply && error.reply === reply.replace(/\r$/, ""),
      reply,
    );
  }
});

Deno.test("an error cut across chunks is still reported", () => {
  const counter = new InsertedCounter();
  assert.equal(counter.push(bytes("INSERTED 9\r\nOUT_OF_")), 1);
  assert.throws(() => counter.push(bytes("MEMORY\r\n")), /"OUT_OF_MEMORY"/);
});

Deno.test("an overlong line is refused before it has ended", () => {
  const counter = new InsertedCounter();
  assert.equal(counter.push(bytes("INSERTED 1234567890")), 0);
  assert.throws(
    () => counter.push(bytes("1234567890123456789")),
    (error: unknown) =>
      error instanceof UnexpectedReply && error.reply === "INSERTED 123456789012345678901…",
  );
});
