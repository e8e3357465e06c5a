import assert from "node:assert/strict";
import { ROOT } from "./helpers.ts";

Deno.test("the client process gives up file reading and the environment once its inputs are read", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pedidos-privileges-" });
  try {
    const probe = `${dir}/probe.ts`;
    await Deno.writeTextFile(
      probe,
      `import { processIO } from ${JSON.stringify(new URL("client.ts", ROOT).href)};
       const attempt = (what, f) => { try { f(); return what + ": allowed"; } catch (e) { return what + ": " + e.name; } };
       const before = attempt("read", () => Deno.readTextFileSync(${JSON.stringify(probe)}));
       processIO().dropPrivileges();
       console.log([before,
         attempt("read", () => Deno.readTextFileSync(${JSON.stringify(probe)})),
         attempt("env", () => Deno.env.get("PEDIDOS_HOST")),
       ].join("\\n"));`,
    );
    const result = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--config",
        new URL("deno.json", ROOT).pathname,
        "-P=client",
        "--no-prompt",
        probe,
      ],
      cwd: new URL(".", ROOT).pathname,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const lines = new TextDecoder().decode(result.stdout).trim().split("\n");
    assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
    assert.equal(lines[0], "read: allowed");
    assert.match(lines[1]!, /^read: (NotCapable|PermissionDenied)$/);
    assert.match(lines[2]!, /^env: (NotCapable|PermissionDenied)$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
