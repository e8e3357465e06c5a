import assert from "node:assert/strict";
import {
  memoryTrend,
  type SoakFacts,
  soakFailures,
  type SoakLedger,
  verifyLedger,
} from "./verify.ts";

const steady = [50_000, 80_000, 81_000, 80_500, 81_500, 80_800, 81_000, 80_900];

/** The facts of a run that passed every check, with some replaced. */
function facts(overrides: Partial<SoakFacts> = {}): SoakFacts {
  return {
    ledger: verifyLedger([{ id: 1, cliente: "a", estado: "listo" }], ledger([["a", 1]])),
    unfinished: 0,
    integrity: "ok",
    serverExit: 0,
    memory: memoryTrend(steady),
    descriptorsBack: true,
    wrongAnswers: 0,
    ...overrides,
  };
}

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
  assert.deepEqual(soakFailures(facts({ ledger: verdict })), []);
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
  assert.deepEqual(soakFailures(facts({ ledger: verdict })), [
    "pedidos perdidos, duplicados o inventados",
    "1 pedidos en un estado final incorrecto",
  ]);
});

Deno.test("verifyLedger() expects a faulty order fallido, and fails one that ended listo", () => {
  const rows = [{ id: 1, cliente: "lanza:a", estado: "listo" }];
  const verdict = verifyLedger(rows, ledger([["lanza:a", 1]], [], ["lanza:a"]));
  assert.deepEqual(verdict.wrongState, { count: 1, ids: [1] });
});

Deno.test("memoryTrend() calls steady memory flat and steady growth not flat", () => {
  assert.equal(memoryTrend(steady).flat, true);
  assert.equal(memoryTrend(steady).samples, 8);
  const growing = Array.from({ length: 12 }, (_, i) => 80_000 + i * 20_000);
  assert.equal(memoryTrend(growing).flat, false);
});

Deno.test("memoryTrend() never calls memory flat without a start and an end to compare", () => {
  assert.equal(memoryTrend([]).flat, false);
  assert.equal(memoryTrend([]).samples, 0);
  assert.equal(memoryTrend([81_920]).flat, false);
  assert.equal(memoryTrend([81_920]).startMb, 80);
  assert.equal(memoryTrend([81_920, 81_920]).flat, true);
});

Deno.test("a soak that acknowledged nothing fails, though nothing was lost", () => {
  const empty = verifyLedger([], { sent: new Set(["a"]), acked: new Map(), faulty: new Set() });
  assert.equal(empty.lost.count, 0);
  assert.deepEqual(soakFailures(facts({ ledger: empty })), [
    "ningún pedido confirmado: la carga no comprobó nada",
  ]);
});

Deno.test("a soak that sampled no memory fails; one whose memory grows fails differently", () => {
  assert.deepEqual(soakFailures(facts({ memory: memoryTrend([]) })), [
    "0 muestras de memoria: no bastan para juzgar la tendencia",
  ]);
  const growing = Array.from({ length: 12 }, (_, i) => 80_000 + i * 20_000);
  assert.deepEqual(soakFailures(facts({ memory: memoryTrend(growing) })), [
    "la memoria residente crece",
  ]);
});

Deno.test("every other check names itself when it fails", () => {
  const failures = soakFailures(facts({
    unfinished: 3,
    integrity: "*** in database main ***",
    serverExit: 1,
    descriptorsBack: false,
    wrongAnswers: 2,
  }));
  assert.deepEqual(failures, [
    "3 pedidos sin terminar",
    "integridad de la base: *** in database main ***",
    "el servidor salió con 1",
    "los descriptores no vuelven a la base",
    "2 respuestas incorrectas",
  ]);
});
