import assert from "node:assert/strict";
import { OrderGenerator } from "./orders.ts";
import {
  Ledger,
  MAX_LISTED_IDS,
  renderVerification,
  type StoredOrder,
  verificationPassed,
  verifyDatabase,
  verifyOrders,
} from "./verify.ts";
import { openStore } from "../../lib/store/open.ts";

const orders = new OrderGenerator("ab12", 0.25);

/** The row the server would store for message `index` under `id`. */
function row(id: number, index: number, estado = "listo"): StoredOrder {
  const { cliente, productos, direccion } = orders.content(index);
  return {
    id,
    cliente,
    productos,
    direccion,
    estado,
    fecha_fin: estado === "listo" ? new Date(1_700_000_000_000 + id).toISOString() : null,
  };
}

/** Valid indices only (with bad = 0.25, every fourth message is invalid). */
const valid = Array.from({ length: 40 }, (_, i) => i).filter((i) => orders.kind(i) === "valido");

/** A ledger of a run that sent the first 40 messages and got these acknowledgements. */
function ledgerOf(pairs: [id: number, index: number][]): Ledger {
  const ledger = new Ledger();
  ledger.markSent(39);
  for (const [id, index] of pairs) ledger.add(id, index);
  return ledger;
}

Deno.test("ledgers kept by several threads add up to one ledger of the whole run", () => {
  const a = new Ledger();
  const b = new Ledger();
  a.markSent(0);
  a.add(11, 0);
  b.markSent(1);
  b.markSent(3);
  b.add(12, 1);
  b.add(14, 3);
  a.markSent(2);
  const whole = new Ledger();
  whole.merge(a.export());
  whole.merge(b.export());
  whole.merge(new Ledger().export());
  assert.equal(whole.sent, 4);
  assert.deepEqual([...whole.entries()], [[0, 11], [1, 12], [3, 14]]);
});

Deno.test("a ledger grows past its first allocation and exports only what it holds", () => {
  const ledger = new Ledger();
  for (let i = 0; i < 3000; i++) ledger.add(1000 + i, i);
  const part = ledger.export();
  assert.equal(part.ids.length, 3000);
  assert.equal(part.indices[2999], 2999);
  assert.equal(part.ids[2999], 3999);
});

Deno.test("a database holding every acknowledged order once, as sent, passes", () => {
  const pairs = valid.map((index, k) => [k + 1, index] as [number, number]);
  const result = verifyOrders(ledgerOf(pairs), pairs.map(([id, index]) => row(id, index)), orders, {
    requireDone: true,
  });
  assert.equal(result.acknowledged, pairs.length);
  assert.equal(result.stored, pairs.length);
  const lists = [
    result.lost,
    result.duplicated,
    result.misfiled,
    result.invented,
    result.altered,
    result.invalidStored,
  ];
  for (const list of lists) {
    assert.deepEqual(list, { count: 0, ids: [] });
  }
  assert.deepEqual(result.notDone, { count: 0, ids: [] });
  assert.equal(result.lastFinishedAt, 1_700_000_000_000 + pairs.length);
  assert.ok(verificationPassed(result));
  assert.equal(renderVerification(result).split("\n")[0], "lost: 0, duplicated: 0");
});

Deno.test("a missing acknowledged id is lost and named", () => {
  const ledger = ledgerOf([[1, valid[0]!], [2, valid[1]!], [3, valid[2]!]]);
  const result = verifyOrders(ledger, [row(1, valid[0]!), row(3, valid[2]!)], orders);
  assert.deepEqual(result.lost, { count: 1, ids: [2] });
  assert.equal(verificationPassed(result), false);
  assert.equal(renderVerification(result).split("\n")[0], "lost: 1 (#2), duplicated: 0");
});

Deno.test("the same order stored twice is a duplicate, whichever copy came first", () => {
  const ledger = ledgerOf([[5, valid[0]!]]);
  const before = verifyOrders(ledger, [row(4, valid[0]!), row(5, valid[0]!)], orders);
  assert.deepEqual(before.duplicated, { count: 1, ids: [4] });
  const after = verifyOrders(ledger, [row(5, valid[0]!), row(9, valid[0]!)], orders);
  assert.deepEqual(after.duplicated, { count: 1, ids: [9] });
  assert.equal(after.lost.count, 0);
});

Deno.test("an unacknowledged order stored once is neither lost nor duplicated", () => {
  const result = verifyOrders(
    ledgerOf([[1, valid[0]!]]),
    [row(1, valid[0]!), row(2, valid[1]!)],
    orders,
  );
  assert.equal(result.unacknowledged, 1);
  assert.ok(verificationPassed(result));
});

Deno.test("a row that differs from what was sent is altered; one holding another order is misfiled", () => {
  const changed = { ...row(1, valid[0]!), direccion: "otra" };
  const products = { ...row(2, valid[1]!), productos: ["pan", "otro"] };
  const swapped = row(3, valid[3]!);
  const ledger = ledgerOf([[1, valid[0]!], [2, valid[1]!], [3, valid[2]!]]);
  const result = verifyOrders(ledger, [changed, products, swapped], orders);
  assert.deepEqual(result.altered, { count: 2, ids: [1, 2] });
  assert.deepEqual(result.misfiled, { count: 1, ids: [3] });
  assert.equal(result.lost.count, 0);
  assert.equal(verificationPassed(result), false);
  assert.match(renderVerification(result), /ids confirmados que guardan otro pedido: 1 \(#3\)/);
});

Deno.test("a row of this run for a message never sent is invented", () => {
  const ledger = new Ledger();
  ledger.markSent(valid[0]!);
  ledger.add(1, valid[0]!);
  const unsent = valid.find((index) => index > valid[0]!)!;
  const result = verifyOrders(ledger, [row(1, valid[0]!), row(2, unsent)], orders);
  assert.deepEqual(result.invented, { count: 1, ids: [2] });
  assert.equal(result.unacknowledged, 0);
  assert.equal(verificationPassed(result), false);
  assert.match(renderVerification(result), /pedidos nunca enviados: 1 \(#2\)/);
});

Deno.test("an invalid message that reached the database is reported", () => {
  const bad = Array.from({ length: 8 }, (_, i) => i).find((i) => orders.kind(i) !== "valido")!;
  const result = verifyOrders(new Ledger(), [row(7, bad)], orders);
  assert.deepEqual(result.invalidStored, { count: 1, ids: [7] });
  assert.equal(verificationPassed(result), false);
});

Deno.test("orders not yet listo fail only when completion is required", () => {
  const ledger = ledgerOf([[1, valid[0]!], [2, valid[1]!]]);
  const rows = [row(1, valid[0]!), row(2, valid[1]!, "en cola")];
  assert.ok(verificationPassed(verifyOrders(ledger, rows, orders)));
  const strict = verifyOrders(ledger, rows, orders, { requireDone: true });
  assert.deepEqual(strict.notDone, { count: 1, ids: [2] });
  assert.match(renderVerification(strict), /sin llegar a listo: 1 \(#2\)/);
});

Deno.test("rows of other runs and other clients are ignored", () => {
  const other = new OrderGenerator("zz99");
  const foreign = { ...row(50, 0), cliente: other.content(0).cliente };
  const person = { ...row(51, 0), cliente: "Ana" };
  const result = verifyOrders(
    ledgerOf([[1, valid[0]!]]),
    [row(1, valid[0]!), foreign, person],
    orders,
  );
  assert.equal(result.stored, 1);
  assert.ok(verificationPassed(result));
});

Deno.test("long lists of ids are cut, but their counts are complete", () => {
  const ledger = new Ledger();
  for (let id = 1; id <= 5000; id++) ledger.add(id, valid[0]!);
  assert.equal([...ledger.entries()].length, 5000);
  const result = verifyOrders(ledger, [], orders);
  assert.equal(result.lost.count, 5000);
  assert.equal(result.lost.ids.length, MAX_LISTED_IDS);
  assert.match(renderVerification(result), /^lost: 5000 \(#1, #2, .*, …\)/);
});

Deno.test("a real database written by the store is verified, waiting for completion", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/p.db`;
    const store = await openStore(path, { sync: "normal" });
    const now = Date.now();
    const ids = (await store.commit(
      valid.slice(0, 3).map((index) => ({ ...orders.content(index), recibido: now })),
      [],
    )).map((inserted) => inserted.id!);
    const ledger = ledgerOf(ids.map((id, k) => [id, valid[k]!]));
    const waits: number[] = [];
    let finished: Promise<unknown> = Promise.resolve();
    const finishing = setTimeout(() => {
      finished = store.commit(
        [],
        ids.map((id) => ({ tipo: "fin", id, worker: 1, inicio: now, fin: now + 5 })),
      );
    }, 50);
    const result = await verifyDatabase(path, ledger, orders, {
      waitDone: true,
      pollMs: 10,
      onWait: (unfinished) => waits.push(unfinished),
    });
    clearTimeout(finishing);
    await finished;
    await store.close();
    assert.equal(waits[0], 3);
    assert.equal(waits.at(-1), 0);
    assert.ok(verificationPassed(result), renderVerification(result));
    assert.equal(result.stored, 3);
    assert.equal(result.lastFinishedAt, now + 5);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("waiting for completion gives up after waitMs and reports what is unfinished", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/p.db`;
    const store = await openStore(path, { sync: "normal" });
    const [inserted] = await store.commit(
      [{ ...orders.content(valid[0]!), recibido: Date.now() }],
      [],
    );
    await store.close();
    const id = inserted!.id!;
    const result = await verifyDatabase(path, ledgerOf([[id, valid[0]!]]), orders, {
      waitDone: true,
      waitMs: 30,
      pollMs: 10,
    });
    assert.deepEqual(result.notDone, { count: 1, ids: [id] });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
