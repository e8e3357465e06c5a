import assert from "node:assert/strict";
import { createLogger, escapeControl } from "./log.ts";

Deno.test("escapeControl makes terminal escapes and line breaks visible", () => {
  assert.equal(
    escapeControl("Ana\x1b[2J\r\nB\u0085\u2028"),
    "Ana\\u001b[2J\\u000d\\u000aB\\u0085\\u2028",
  );
  assert.equal(escapeControl("Ñandú 🍕 e\u0301"), "Ñandú 🍕 e\u0301");
  assert.equal(escapeControl("a\u202eb\u2066c\u200f"), "a\\u202eb\\u2066c\\u200f");
});

Deno.test("log levels decide what is written, and every line is escaped", () => {
  for (
    const [level, expected] of [
      ["quiet", ["p: error: e", "p: aviso: w", "p: n"]],
      ["normal", ["p: error: e", "p: aviso: w", "p: n", "p: i"]],
      ["verbose", ["p: error: e", "p: aviso: w", "p: n", "p: i", "p: d\\u001b"]],
    ] as const
  ) {
    const lines: string[] = [];
    const log = createLogger(level, "p", (line) => lines.push(line));
    log.error("e");
    log.warn("w");
    log.notice("n");
    log.info("i");
    log.debug("d\x1b");
    assert.deepEqual(lines, expected, level);
  }
});
