import assert from "node:assert/strict";
import { ledgerPassed, memoryTrend, type SoakLedger, verifyLedger } from "./verify.ts";

function ledger(
  acked: [string, number][],
  extra: string[] = [],
  faulty: string[] = [],
): SoakLedger {
  return {
    sent: new Set([...acked.map(([tag]) => tag), ...extra, ...faulty]),
    acked: new Map(acked),
    faulty: new Set(faulty),
  };
}

Deno.test("verifyLedger() passes when every acknowledged order is stored once and finished", () => {
  const verdict = verifyLedger(
    [
      { id: 1, cliente: "a", estado: "listo" },
      { id: 2, cliente: "b", estado: "listo" },
      { id: 3, cliente: "x", estado: "fallido" },
    ],
    ledger([["a", 1], ["b", 2], ["x", 3]], ["unacked"], ["x"]),
  );
  assert.equal(verdict.stored, 3);
  assert.equal(verdict.wrongState.count, 0);
  assert.equal(ledgerPassed(verdict), true);
});

Deno.test("verifyLedger() fails on lost, duplicated, invented and unfinished orders", () => {
  const verdict = verifyLedger(
    [
      { id: 1, cliente: "a", estado: "listo" },
      { id: 5, cliente: "a", estado: "listo" },
      { id: 3, cliente: "ghost", estado: "listo" },
      { id: 4, cliente: "c", estado: "en cola" },
    ],
    ledger([["a", 1], ["b", 2], ["c", 4]]),
  );
  assert.deepEqual(verdict.lost, { count: 1, ids: [2] });
  assert.deepEqual(verdict.duplicated, { count: 1, ids: [5] });
  assert.deepEqual(verdict.invented, { count: 1, ids: [3] });
  assert.deepEqual(verdict.wrongState, { count: 1, ids: [4] });
  assert.equal(ledgerPassed(verdict), false);
});

Deno.test("verifyLedger() expects a faulty order fallido, and fails one that ended listo", () => {
  const rows = [{ id: 1, cliente: "lanza:a", estado: "listo" }];
  const verdict = verifyLedger(rows, ledger([["lanza:a", 1]], [], ["lanza:a"]));
  assert.deepEqual(verdict.wrongState, { count: 1, ids: [1] });
  assert.equal(ledgerPassed(verdict), false);
});

Deno.test("memoryTrend() calls steady memory flat and steady growth not flat", () => {
  assert.equal(
    memoryTrend([50_000, 80_000, 81_000, 80_500, 81_500, 80_800, 81_000, 80_900]).flat,
    true,
  );
  const growing = Array.from({ length: 12 }, (_, i) => 80_000 + i * 20_000);
  assert.equal(memoryTrend(growing).flat, false);
  assert.deepEqual(memoryTrend([]), { startMb: 0, endMb: 0, peakMb: 0, flat: true });
});
