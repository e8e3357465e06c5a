import assert from "node:assert/strict";
import { abortNoticeMs } from "./processor.ts";

Deno.test("the abort signal comes a tenth of the limit early, at most one second", () => {
  assert.equal(abortNoticeMs(30_000), 1000);
  assert.equal(abortNoticeMs(10_000), 1000);
  assert.equal(abortNoticeMs(5000), 500);
  assert.equal(abortNoticeMs(1000), 100);
  assert.equal(abortNoticeMs(9), 0);
  assert.equal(abortNoticeMs(0), 0);
});
