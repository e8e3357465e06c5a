import assert from "node:assert/strict";

/** Runs `dropUnusedEnv(needs)` in a child with --allow-env, then reads HOME there. */
async function envAfterDrop(needs: { envGrants: string[]; postgres: boolean }): Promise<string> {
  const module = new URL("./privileges.ts", import.meta.url).href;
  const code = `import { dropUnusedEnv } from ${JSON.stringify(module)};
dropUnusedEnv(${JSON.stringify(needs)});
try { console.log(Deno.env.get("HOME") === undefined ? "sin valor" : "leída"); }
catch (error) { console.log(error instanceof Error ? error.name : String(error)); }`;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--allow-env", "--allow-read", code],
    stdout: "piped",
    stderr: "piped",
    env: { HOME: "/tmp" },
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  return new TextDecoder().decode(output.stdout).trim();
}

Deno.test("on SQLite without --processor-allow-env the server gives up the environment", async () => {
  assert.equal(await envAfterDrop({ envGrants: [], postgres: false }), "NotCapable");
});

Deno.test("with --processor-allow-env the server keeps the environment to pass it on", async () => {
  assert.equal(await envAfterDrop({ envGrants: ["HOME"], postgres: false }), "leída");
});

Deno.test("on PostgreSQL the server keeps the environment for libpq's PG* variables", async () => {
  assert.equal(await envAfterDrop({ envGrants: [], postgres: true }), "leída");
});
