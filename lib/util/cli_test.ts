import assert from "node:assert/strict";
import { z } from "zod";
import { type FlagSpec, HELP_FLAG, integerFlag, parseCommand, UsageError } from "./cli.ts";

const FLAGS: readonly FlagSpec[] = [
  { name: "port", type: "string", placeholder: "N", description: "puerto" },
  HELP_FLAG,
];
const schema = z.object({ port: integerFlag(0, 65535).optional() });

Deno.test("parseCommand returns the validated flags, without help", () => {
  assert.deepEqual(parseCommand(["--port", "8888"], FLAGS, schema), { port: 8888 });
  assert.deepEqual(parseCommand([], FLAGS, schema), {});
});

Deno.test("parseCommand returns undefined for --help or -h, even beside other flags", () => {
  assert.equal(parseCommand(["--help"], FLAGS, schema), undefined);
  assert.equal(parseCommand(["-h", "--port", "1"], FLAGS, schema), undefined);
});

Deno.test("parseCommand turns a bad value or an unknown flag into one usage line", () => {
  assert.throws(() => parseCommand(["--port", "x"], FLAGS, schema), (error) => {
    assert.ok(error instanceof UsageError);
    assert.match(error.message, /^--port: /);
    assert.equal(error.message.includes("\n"), false);
    return true;
  });
  assert.throws(
    () => parseCommand(["--puerto", "1"], FLAGS, schema),
    /opción desconocida: --puerto/,
  );
});
