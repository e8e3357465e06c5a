import { MessageFramer } from "./framing.ts";

const ORDER_COUNT = 1000;
const CHUNK_BYTES = 1024;
const ORDER = '{"cliente":"Ana","productos":["pan","leche"],"direccion":"Calle 1"}';

const encoder = new TextEncoder();
const ndjson = encoder.encode(`${ORDER}\n`.repeat(ORDER_COUNT));
const raw = encoder.encode(ORDER.repeat(ORDER_COUNT));
const pretty = encoder.encode(
  `${JSON.stringify(JSON.parse(ORDER), null, 2)}\n`.repeat(ORDER_COUNT),
);

function chunked(bytes: Uint8Array, size: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) {
    chunks.push(bytes.subarray(offset, offset + size));
  }
  return chunks;
}

const ndjsonChunks = chunked(ndjson, CHUNK_BYTES);
const rawChunks = chunked(raw, CHUNK_BYTES);
const prettyChunks = chunked(pretty, CHUNK_BYTES);

function frameAll(chunks: Uint8Array[]): void {
  const framer = new MessageFramer();
  let messages = 0;
  for (const chunk of chunks) messages += framer.push(chunk).length;
  if (messages !== ORDER_COUNT) {
    throw new Error(`expected ${ORDER_COUNT} messages, got ${messages}`);
  }
}

Deno.bench("1000 orders as one NDJSON chunk", { group: "orders", baseline: true }, () => {
  frameAll([ndjson]);
});

Deno.bench("1000 orders as raw objects without newlines", { group: "orders" }, () => {
  frameAll([raw]);
});

Deno.bench("1000 orders as NDJSON in 1-KiB chunks", { group: "orders" }, () => {
  frameAll(ndjsonChunks);
});

Deno.bench("1000 orders as raw objects in 1-KiB chunks", { group: "orders" }, () => {
  frameAll(rawChunks);
});

Deno.bench("1000 pretty-printed orders in 1-KiB chunks", { group: "orders" }, () => {
  frameAll(prettyChunks);
});
