import assert from "node:assert/strict";
import { compileArgs, embeddedProcessor, EXECUTABLES } from "./main.ts";

const [server, client] = EXECUTABLES as [(typeof EXECUTABLES)[0], (typeof EXECUTABLES)[0]];

Deno.test("a processor given to compile is found from the caller's directory and passed relative to the project", () => {
  assert.deepEqual(
    embeddedProcessor("procesar.ts", { cwd: "/srv/pedidos", root: "/srv/pedidos/" }),
    {
      include: "/srv/pedidos/procesar.ts",
      argument: "procesar.ts",
    },
  );
  assert.deepEqual(
    embeddedProcessor("../tienda/p.ts", { cwd: "/srv/pedidos/x", root: "/srv/pedidos/" }),
    {
      include: "/srv/pedidos/tienda/p.ts",
      argument: "tienda/p.ts",
    },
  );
  assert.deepEqual(embeddedProcessor("/opt/tienda/p.ts", { cwd: "/tmp", root: "/srv/pedidos/" }), {
    include: "/opt/tienda/p.ts",
    argument: "../../opt/tienda/p.ts",
  });
});

Deno.test("the server embeds the processor and gets --processor as its own first arguments; the client does not", () => {
  const processor = { include: "/srv/tienda/p.ts", argument: "../tienda/p.ts" };
  assert.deepEqual(compileArgs(server, { out: "dist", processor }), {
    output: "dist/pedidos-server",
    args: [
      "compile",
      "-q",
      "--permission-set=server",
      "--include",
      "worker.ts",
      "--include",
      "/srv/tienda/p.ts",
      "--output",
      "dist/pedidos-server",
      "server.ts",
      "--processor",
      "../tienda/p.ts",
    ],
  });
  const { args } = compileArgs(client, {
    out: "dist",
    processor,
    target: "x86_64-pc-windows-msvc",
  });
  assert.equal(args.includes("--processor"), false);
  assert.equal(args.includes("/srv/tienda/p.ts"), false);
  assert.deepEqual(args.slice(-5), [
    "--target",
    "x86_64-pc-windows-msvc",
    "--output",
    "dist/pedidos-client.exe",
    "client.ts",
  ]);
  assert.equal(compileArgs(server, { out: "dist" }).args.at(-1), "server.ts");
});
