import assert from "node:assert/strict";
import { permissionFlags, permissionSet } from "./permissions.ts";

Deno.test("each kind of permission value becomes the matching flags", () => {
  assert.deepEqual(
    permissionFlags({
      net: true,
      read: false,
      env: ["PEDIDOS_HOST", "PEDIDOS_PORT"],
      write: { allow: ["dist"], deny: ["dist/secreto"] },
      run: [],
    }),
    [
      "--allow-net",
      "--allow-env=PEDIDOS_HOST,PEDIDOS_PORT",
      "--allow-write=dist",
      "--deny-write=dist/secreto",
    ],
  );
});

Deno.test("a value of another shape is refused rather than guessed", () => {
  assert.throws(() => permissionFlags({ net: "sí" as never }), TypeError);
  assert.throws(() => permissionFlags({ env: [1] as never }), TypeError);
});

Deno.test("the server's set is read from deno.json, and an unknown set is an error", () => {
  assert.deepEqual(permissionSet("server"), [
    "--allow-net",
    "--allow-read",
    "--allow-write",
    "--allow-ffi",
    "--allow-sys=hostname",
    "--allow-env",
  ]);
  assert.deepEqual(permissionSet("client"), [
    "--allow-net",
    "--allow-read",
    "--allow-env=PEDIDOS_HOST,PEDIDOS_PORT,PEDIDOS_TOKEN",
  ]);
  assert.throws(() => permissionSet("nadie"), RangeError);
});
