import assert from "node:assert/strict";
import {
  describeGrants,
  envGrantProblem,
  netGrantProblem,
  NO_GRANTS,
  splitList,
  workerPermissions,
} from "./processor_permissions.ts";

Deno.test("list flags split at commas, repeat, and drop blanks", () => {
  assert.deepEqual(splitList(["a.local:80,b.local", " c.local ", ",,"]), [
    "a.local:80",
    "b.local",
    "c.local",
  ]);
  assert.deepEqual(splitList([]), []);
});

Deno.test("a net grant is a host with an optional port, IPv6 in brackets, nothing more", () => {
  for (const good of ["api.local", "api.local:8080", "127.0.0.1:1", "[::1]:65535", "localhost"]) {
    assert.equal(netGrantProblem(good), undefined, good);
  }
  for (const bad of ["http://api.local", "api.local/pagos", "user@api.local", "::1", "-x", ""]) {
    assert.match(netGrantProblem(bad) ?? "", /se espera HOST o HOST:PUERTO/, bad);
  }
  assert.match(netGrantProblem("api.local:0")!, /entre 1 y 65535/);
  assert.match(netGrantProblem("api.local:70000")!, /entre 1 y 65535/);
});

Deno.test("an env grant is a variable name", () => {
  assert.equal(envGrantProblem("TIENDA_TOKEN"), undefined);
  assert.equal(envGrantProblem("_x1"), undefined);
  for (const bad of ["1A", "A-B", "A=B", "*", "PATH "]) {
    assert.match(envGrantProblem(bad) ?? "", /no es un nombre de variable/, bad);
  }
});

Deno.test("without grants a processor may read its own module and nothing else", () => {
  assert.deepEqual(workerPermissions("/srv/procesar.ts", NO_GRANTS), {
    net: false,
    read: ["/srv/procesar.ts"],
    env: false,
    write: false,
    run: false,
    ffi: false,
    sys: false,
    import: false,
  });
});

Deno.test("grants become exactly the worker's net, read and env lists; write, run, ffi, sys and import stay denied", () => {
  const permissions = workerPermissions("/srv/procesar.ts", {
    net: ["api.local:8080", "[::1]:9000"],
    read: ["/etc/tienda"],
    env: ["TIENDA_TOKEN"],
  });
  assert.deepEqual(permissions, {
    net: ["api.local:8080", "[::1]:9000"],
    read: ["/srv/procesar.ts", "/etc/tienda"],
    env: ["TIENDA_TOKEN"],
    write: false,
    run: false,
    ffi: false,
    sys: false,
    import: false,
  });
  // No kind is left out, so none is inherited from the server.
  const kinds = ["env", "ffi", "import", "net", "read", "run", "sys", "write"];
  assert.deepEqual(Object.keys(permissions).toSorted(), kinds);
});

Deno.test("the start-up line says what the processor may do and what it may not", () => {
  assert.equal(
    describeGrants("/srv/procesar.ts", NO_GRANTS),
    "puede leer su propio módulo (/srv/procesar.ts); nada más (ni red, ni otros archivos, " +
      "ni variables de entorno, ni escribir, ni ejecutar programas, ni FFI, ni datos del sistema)",
  );
  assert.equal(
    describeGrants("/srv/procesar.ts", {
      net: ["api.local:8080"],
      read: ["/etc/tienda"],
      env: ["A", "B"],
    }),
    "puede conectar con api.local:8080, leer /etc/tienda, leer las variables de entorno A, B " +
      "y leer su propio módulo (/srv/procesar.ts); nada más (ni otros hosts, ni otros archivos, " +
      "ni otras variables de entorno, ni escribir, ni ejecutar programas, ni FFI, ni datos del sistema)",
  );
});
