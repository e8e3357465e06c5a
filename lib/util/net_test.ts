import assert from "node:assert/strict";
import { formatAddress, isLoopback, normalizeIp, writeAll, writeAllSync } from "./net.ts";

Deno.test("formatAddress brackets IPv6 only", () => {
  assert.equal(formatAddress({ hostname: "::", port: 8888 }), "[::]:8888");
  assert.equal(formatAddress({ hostname: "0.0.0.0", port: 1 }), "0.0.0.0:1");
});

/** A writer that takes at most `step` bytes per call, as a full socket buffer does. */
function trickle(step: number) {
  const received: number[] = [];
  let calls = 0;
  const take = (bytes: Uint8Array) => {
    calls++;
    const count = Math.min(step, bytes.length);
    received.push(...bytes.subarray(0, count));
    return count;
  };
  return { received, calls: () => calls, take };
}

Deno.test("writeAll calls write again with the rest until every byte is written", async () => {
  const sink = trickle(3);
  const bytes = new TextEncoder().encode("Calle Falsa 123\n");
  await writeAll({ write: (chunk) => Promise.resolve(sink.take(chunk)) }, bytes);
  assert.deepEqual(sink.received, [...bytes]);
  assert.equal(sink.calls(), Math.ceil(bytes.length / 3));
});

Deno.test("writeAllSync does the same for synchronous writers", () => {
  const sink = trickle(5);
  const bytes = new TextEncoder().encode("pedidos: aviso\n");
  writeAllSync({ writeSync: sink.take }, bytes);
  assert.deepEqual(sink.received, [...bytes]);
  assert.equal(sink.calls(), Math.ceil(bytes.length / 5));
});

Deno.test("writeAll passes on a write error and writes nothing for an empty buffer", async () => {
  const broken = { write: () => Promise.reject(new Deno.errors.BrokenPipe("roto")) };
  await assert.rejects(writeAll(broken, new Uint8Array(1)), Deno.errors.BrokenPipe);
  await writeAll(broken, new Uint8Array(0));
});

Deno.test("writeAll works over a real socket with a large buffer", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const bytes = new Uint8Array(4 * 1024 * 1024).map((_, i) => i % 251);
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await listener.accept();
  const reading = new Response(server.readable).arrayBuffer();
  await writeAll(client, bytes);
  client.close();
  assert.deepEqual(new Uint8Array(await reading), bytes);
});

Deno.test("an IPv4-mapped IPv6 address counts as its IPv4 address", () => {
  assert.equal(normalizeIp("::ffff:10.0.0.7"), "10.0.0.7");
  assert.equal(normalizeIp("::FFFF:10.0.0.7"), "10.0.0.7");
  assert.equal(normalizeIp("10.0.0.7"), "10.0.0.7");
  assert.equal(normalizeIp("2001:DB8::1"), "2001:db8::1");
});

Deno.test("loopback is 127.0.0.0/8 and ::1, mapped or not", () => {
  for (const ip of ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"]) {
    assert.equal(isLoopback(ip), true, ip);
  }
  for (const ip of ["10.0.0.1", "128.0.0.1", "::", "::2", "fe80::1", "0.0.0.0", "1127.0.0.1"]) {
    assert.equal(isLoopback(ip), false, ip);
  }
});
