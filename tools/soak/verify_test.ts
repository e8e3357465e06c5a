import assert from "node:assert/strict";
import { memoryTrend, type SoakLedger, verifyLedger } from "./verify.ts";

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

Deno.test("verifyLedger() finds nothing wrong when every acknowledged order is stored once and finished", () => {
  const verdict = verifyLedger(
    [
      { id: 1, cliente: "a", estado: "listo" },
      { id: 2, cliente: "b", estado: "listo" },
      { id: 3, cliente: "x", estado: "fallido" },
    ],
    ledger([["a", 1], ["b", 2], ["x", 3]], ["unacked"], ["x"]),
  );
  assert.deepEqual(verdict, {
    stored: 3,
    lost: 0,
    duplicated: 0,
    invented: 0,
    wrongState: 0,
    examples: [],
  });
});

Deno.test("verifyLedger() counts lost, duplicated, invented and unfinished orders", () => {
  const verdict = verifyLedger(
    [
      { id: 1, cliente: "a", estado: "listo" },
      { id: 2, cliente: "a", estado: "listo" },
      { id: 3, cliente: "ghost", estado: "listo" },
      { id: 4, cliente: "c", estado: "en cola" },
      { id: 9, cliente: "d", estado: "listo" },
    ],
    ledger([["a", 1], ["b", 2], ["c", 4], ["d", 5]]),
  );
  assert.equal(verdict.lost, 2, "b is missing and d is stored under another id");
  assert.equal(verdict.duplicated, 1);
  assert.equal(verdict.invented, 1);
  assert.equal(verdict.wrongState, 1);
  assert.equal(verdict.examples.length, 5);
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
