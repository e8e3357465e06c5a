import assert from "node:assert/strict";
import { BatchGuard, MAX_BATCH_LINE_BYTES, readBatch } from "./batch_input.ts";
import { InputError } from "./errors.ts";

const encoder = new TextEncoder();
const small = { lineBytes: 4, lines: 3, bytes: 20 };

function feed(guard: BatchGuard, ...chunks: string[]) {
  for (const chunk of chunks) guard.push(encoder.encode(chunk));
}

Deno.test("a line may reach the line limit, also across chunks, but not pass it", () => {
  feed(new BatchGuard("lote", small), "abcd\nab", "cd\n");
  assert.throws(() => feed(new BatchGuard("lote", small), "abcd\nab", "cde"), {
    name: "InputError",
    message: "lote, línea 2: pasa de 4 bytes sin un salto de línea; un pedido ocupa mucho menos",
  });
});

Deno.test("a batch may have as many lines as the limit, with or without a final newline, and no more", () => {
  feed(new BatchGuard("lote", small), "a\nb\nc\n");
  feed(new BatchGuard("lote", small), "a\nb\nc");
  for (const extra of ["a\nb\nc\nd", "a\nb\nc\n\n"]) {
    assert.throws(() => feed(new BatchGuard("lote", small), ...extra.split("")), {
      name: "InputError",
      message: "lote tiene más de 3 líneas: divida el lote en varios",
    });
  }
});

Deno.test("a batch may not pass its byte limit, however its lines are cut", () => {
  const guard = new BatchGuard("stdin", { ...small, lines: 100 });
  feed(guard, "a\n".repeat(10));
  assert.throws(() => feed(guard, "a"), {
    name: "InputError",
    message: "stdin pasa de 20 bytes: divida el lote en varios",
  });
});

Deno.test("reading stops at the first byte over a limit and cancels an endless stream", async () => {
  let pulled = 0;
  let cancelled = false;
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      controller.enqueue(new Uint8Array(64 * 1024));
    },
    cancel() {
      cancelled = true;
    },
  });
  await assert.rejects(readBatch(endless, "/dev/zero"), InputError);
  assert.ok(cancelled);
  assert.ok(pulled * 64 * 1024 <= MAX_BATCH_LINE_BYTES + 2 * 64 * 1024, `${pulled} chunks read`);
});

Deno.test("a batch within the limits is read whole", async () => {
  const text = "línea 1\nlínea 2\n";
  const bytes = await readBatch(ReadableStream.from([encoder.encode(text)]), "lote");
  assert.equal(new TextDecoder().decode(bytes), text);
});
