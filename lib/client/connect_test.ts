import assert from "node:assert/strict";
import {
  type Candidate,
  connectToHost,
  type Dial,
  resolveHost,
  systemResolver,
} from "./connect.ts";
import { ConnectionError } from "./errors.ts";

const unused = () => Promise.reject(new Error("the resolver must not be asked"));

Deno.test("literals are used as given and localhost is ::1 then 127.0.0.1, without a resolver", async () => {
  assert.deepEqual(await resolveHost("::1", unused), [{ address: "::1", family: "IPv6" }]);
  assert.deepEqual(await resolveHost("fe80::1%lo", unused), [
    { address: "fe80::1%lo", family: "IPv6" },
  ]);
  assert.deepEqual(await resolveHost("10.0.0.7", unused), [{
    address: "10.0.0.7",
    family: "IPv4",
  }]);
  assert.deepEqual(await resolveHost("LocalHost.", unused), [
    { address: "::1", family: "IPv6" },
    { address: "127.0.0.1", family: "IPv4" },
  ]);
});

Deno.test("other names take every address the resolver gives, once each, in its order", async () => {
  const resolver = (name: string): Promise<Candidate[]> => {
    assert.equal(name, "pedidos.example");
    return Promise.resolve([
      { address: "2001:db8::7", family: "IPv6" },
      { address: "192.0.2.7", family: "IPv4" },
      { address: "2001:db8::7", family: "IPv6" },
    ]);
  };
  assert.deepEqual((await resolveHost("pedidos.example", resolver)).map((c) => c.address), [
    "2001:db8::7",
    "192.0.2.7",
  ]);
});

Deno.test("the system resolver answers for names the system knows (getaddrinfo reads /etc/hosts)", async () => {
  const found = await systemResolver("localhost");
  assert.ok(
    found.some((c) => c.address === "127.0.0.1" && c.family === "IPv4"),
    JSON.stringify(found),
  );
});

Deno.test("a name that does not resolve is an error naming host and port", async () => {
  const notFound = () =>
    Promise.reject(Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" }));
  await assert.rejects(
    connectToHost("nohay.example", 8888, { timeoutMs: 1000, resolve: notFound }),
    {
      name: "ConnectionError",
      failure: "inalcanzable",
      message: "no se pudo conectar a nohay.example:8888: el nombre nohay.example no existe",
    },
  );
});

Deno.test("a refused IPv6 address falls back to IPv4, and the trace says which family answered", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const trace: string[] = [];
  const accepting = listener.accept();
  const { conn, candidate } = await connectToHost("localhost", listener.addr.port, {
    timeoutMs: 2000,
    trace: (line) => trace.push(line),
  });
  conn.close();
  (await accepting).close();
  assert.deepEqual(candidate, { address: "127.0.0.1", family: "IPv4" });
  const port = listener.addr.port;
  assert.ok(trace.includes(`[::1]:${port}: conexión rechazada`), trace.join("\n"));
  assert.ok(trace.includes(`conectado a 127.0.0.1:${port} por IPv4`), trace.join("\n"));
});

Deno.test("when every address refuses, the one-line error names each and can be retried", async () => {
  const refuse: Dial = () => Promise.reject(new Deno.errors.ConnectionRefused("refused"));
  const error = await connectToHost("localhost", 9, { timeoutMs: 1000, dial: refuse }).catch((e) =>
    e
  );
  assert.ok(error instanceof ConnectionError);
  assert.equal(error.failure, "rechazada");
  assert.equal(
    error.message,
    "no se pudo conectar a localhost:9: ::1: conexión rechazada; 127.0.0.1: conexión rechazada",
  );
});

Deno.test("an address this machine cannot use is one Spanish line naming it, not an OS error number", async () => {
  // As the system reports them: EADDRNOTAVAIL, and EINVAL for a link-local address without its zone.
  const cases: [string, Error, string][] = [
    [
      "2001:db8::7",
      new Deno.errors.AddrNotAvailable("Cannot assign requested address (os error 99)"),
      "no se pudo conectar a [2001:db8::7]:9: dirección no utilizable desde este equipo " +
      "(ninguna dirección local llega a ella)",
    ],
    [
      "fe80::1",
      Object.assign(new TypeError("Invalid argument (os error 22)"), { code: "EINVAL" }),
      "no se pudo conectar a [fe80::1]:9: dirección no válida para conectar " +
      "(¿IPv6 de enlace local sin %interfaz?)",
    ],
  ];
  for (const [host, failure, message] of cases) {
    const dial: Dial = () => Promise.reject(failure);
    const error = await connectToHost(host, 9, { timeoutMs: 1000, dial }).catch((e) => e);
    assert.ok(error instanceof ConnectionError);
    assert.equal(error.failure, "inalcanzable");
    assert.equal(error.message, message);
  }
});

Deno.test("a connection reset while connecting is a refusal, which may be retried", async () => {
  const reset: Dial = () => Promise.reject(new Deno.errors.ConnectionReset("reset"));
  const error = await connectToHost("127.0.0.1", 9, { timeoutMs: 1000, dial: reset }).catch((e) =>
    e
  );
  assert.ok(error instanceof ConnectionError);
  assert.equal(error.failure, "rechazada");
  assert.equal(error.message, "no se pudo conectar a 127.0.0.1:9: conexión reiniciada");
});

Deno.test("addresses share the time budget: a silent first address leaves time for the next", async () => {
  const started: number[] = [];
  const t0 = Date.now();
  const silent: Dial = (_candidate, _port, signal) => {
    started.push(Date.now() - t0);
    return new Promise((_, reject) => {
      signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
    });
  };
  const error = await connectToHost("localhost", 9, { timeoutMs: 300, dial: silent }).catch((e) =>
    e
  );
  assert.ok(error instanceof ConnectionError);
  assert.equal(error.failure, "tiempo");
  assert.match(error.message, /^no se pudo conectar a localhost:9: ::1: sin respuesta en \d+ ms; /);
  assert.equal(started.length, 2);
  assert.ok(started[1]! >= 120 && started[1]! < 250, `second attempt at ${started[1]} ms`);
  assert.ok(Date.now() - t0 < 450, "the whole budget is respected");
});
