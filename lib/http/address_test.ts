import assert from "node:assert/strict";
import { httpUrl, parseHttpAddress } from "./address.ts";

Deno.test("a bare port listens on IPv4 loopback only", () => {
  assert.deepEqual(parseHttpAddress("9090"), { hostname: "127.0.0.1", port: 9090 });
  assert.deepEqual(parseHttpAddress("0"), { hostname: "127.0.0.1", port: 0 });
});

Deno.test("an address with a port says where to listen, IPv6 in brackets", () => {
  assert.deepEqual(parseHttpAddress("0.0.0.0:9090"), { hostname: "0.0.0.0", port: 9090 });
  assert.deepEqual(parseHttpAddress("[::]:9090"), { hostname: "::", port: 9090 });
  assert.deepEqual(parseHttpAddress("[::1]:80"), { hostname: "::1", port: 80 });
  assert.deepEqual(parseHttpAddress("localhost:8080"), { hostname: "localhost", port: 8080 });
});

Deno.test("malformed addresses and ports out of range are refused", () => {
  for (
    const bad of ["", "abc", "65536", ":9090", "::1:9090", "[::1]", "host:", "1.2.3.4:-1", "a b:1"]
  ) {
    assert.equal(parseHttpAddress(bad), null, bad);
  }
});

Deno.test("the printed URL brackets IPv6 and points any-addresses at loopback", () => {
  assert.equal(httpUrl({ hostname: "127.0.0.1", port: 9090 }), "http://127.0.0.1:9090/");
  assert.equal(httpUrl({ hostname: "0.0.0.0", port: 1 }), "http://127.0.0.1:1/");
  assert.equal(httpUrl({ hostname: "::", port: 2 }), "http://[::1]:2/");
  assert.equal(httpUrl({ hostname: "::1", port: 3 }), "http://[::1]:3/");
});
