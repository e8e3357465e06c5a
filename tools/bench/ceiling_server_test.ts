import assert from "node:assert/strict";
import { accepted, encodeLine } from "../../lib/wire/protocol.ts";
import { acceptedLine } from "./ceiling_server.ts";

Deno.test("the ceilings' ok line is the one the real server sends", () => {
  for (const id of [1, 42, 1_000_000, Number.MAX_SAFE_INTEGER]) {
    assert.equal(acceptedLine(id), encodeLine(accepted(id)));
  }
});
