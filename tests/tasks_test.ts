/**
 * The tasks a newcomer runs first. Those that take a permission set from
 * deno.json (`-P=NAME`) run Deno with `-q`, so that its warning that such
 * sets are experimental does not open every run; errors still print.
 *
 * @module
 */
import assert from "node:assert/strict";
import denoConfig from "../deno.json" with { type: "json" };
import { ROOT } from "./helpers.ts";

const decoder = new TextDecoder();

/** The tasks whose command names a deno.json permission set. */
const WITH_PERMISSION_SET = Object.entries(denoConfig.tasks)
  .filter(([, task]) => /\s-P=/.test(task.command))
  .map(([name]) => name);

Deno.test("the server, client, stats, demo and load tasks run with a deno.json permission set", () => {
  assert.deepEqual(WITH_PERMISSION_SET.toSorted(), ["client", "demo", "load", "server", "stats"]);
});

for (const task of WITH_PERMISSION_SET) {
  Deno.test(`deno task ${task} --help prints its usage and no warning`, async () => {
    const result = await new Deno.Command(Deno.execPath(), {
      args: ["task", task, "--help"],
      cwd: ROOT.pathname,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = decoder.decode(result.stderr);
    assert.equal(result.code, 0, stderr);
    assert.match(decoder.decode(result.stdout), /^Uso: /);
    assert.doesNotMatch(stderr, /Warning/);
  });
}
