import assert from "node:assert/strict";
import { GroupCommitter } from "./group_commit.ts";

type Batch = { inserts: string[]; updates: string[] };

function recordingCommitter(fail: () => boolean = () => false) {
  const batches: Batch[] = [];
  let nextId = 1;
  const committer = new GroupCommitter<string, string, number>((inserts, updates) => {
    if (fail()) return Promise.reject(new Error("disco lleno"));
    batches.push({ inserts: [...inserts], updates: [...updates] });
    return Promise.resolve(inserts.map(() => nextId++));
  }, { retryDelayMs: 5, maxRetryDelayMs: 20 });
  return { committer, batches };
}

Deno.test("writes requested in the same tick share one transaction", async () => {
  const { committer, batches } = recordingCommitter();
  const ids = await Promise.all([
    committer.insert("a"),
    committer.insert("b"),
    committer.update("u1").then(() => 0),
    committer.insert("c"),
  ]);
  assert.deepEqual(ids, [1, 2, 0, 3]);
  assert.deepEqual(batches, [{ inserts: ["a", "b", "c"], updates: ["u1"] }]);
  await committer.close();
});

Deno.test("an insert resolves only after its transaction committed", async () => {
  const { committer, batches } = recordingCommitter();
  let resolved = false;
  const pending = committer.insert("a").then((id) => {
    resolved = true;
    return id;
  });
  await Promise.resolve();
  assert.equal(resolved, false);
  assert.equal(batches.length, 0);
  assert.equal(await pending, 1);
  assert.equal(batches.length, 1);
  await committer.close();
});

Deno.test("one transaction runs at a time: writes made meanwhile form the next batch, in order", async () => {
  const batches: Batch[] = [];
  const finish: (() => void)[] = [];
  let nextId = 1;
  const committer = new GroupCommitter<string, string, number>((inserts, updates) => {
    batches.push({ inserts: [...inserts], updates: [...updates] });
    const ids = inserts.map(() => nextId++);
    return new Promise((resolve) => finish.push(() => resolve(ids)));
  });
  const first = committer.insert("a");
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(batches.length, 1, "the first transaction started");
  const second = committer.insert("b");
  const third = committer.update("u");
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(batches.length, 1, "nothing starts while a transaction runs");
  finish.shift()!();
  assert.equal(await first, 1);
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.deepEqual(batches[1], { inserts: ["b"], updates: ["u"] });
  finish.shift()!();
  assert.equal(await second, 2);
  await third;
  await committer.close();
});

Deno.test("a failed commit rejects its inserts but retries its updates until they commit", async () => {
  let failures = 2;
  const errors: unknown[] = [];
  const batches: Batch[] = [];
  const committer = new GroupCommitter<string, string, number>((inserts, updates) => {
    if (failures-- > 0) return Promise.reject(new Error("base de datos bloqueada"));
    batches.push({ inserts: [...inserts], updates: [...updates] });
    return Promise.resolve(inserts.map((_, i) => i + 1));
  }, { retryDelayMs: 5, onError: (error) => errors.push(error) });
  const insert = committer.insert("pedido");
  const update = committer.update("listo");
  await assert.rejects(insert, /bloqueada/);
  await update;
  assert.equal(errors.length, 2);
  assert.deepEqual(batches, [{ inserts: [], updates: ["listo"] }]);
  await committer.close();
});

Deno.test("close commits what is pending and refuses later writes", async () => {
  const { committer, batches } = recordingCommitter();
  const insert = committer.insert("a");
  assert.equal(await committer.close(), 0);
  assert.equal(await insert, 1);
  assert.equal(batches.length, 1);
  await assert.rejects(committer.insert("b"), /cerrada/);
});

Deno.test("close reports updates that could not be written and rejects them", async () => {
  const { committer } = recordingCommitter(() => true);
  const update = committer.update("listo");
  assert.equal(await committer.close(), 1);
  await assert.rejects(update, /cerrada/);
});

/** A store that writes at once and becomes durable when the test says, batch by batch. */
function writtenCommitter() {
  const batches: Batch[] = [];
  const durable: { resolve: () => void; reject: (error: Error) => void }[] = [];
  let nextId = 1;
  const committer = new GroupCommitter<string, string, number>((inserts, updates) => {
    batches.push({ inserts: [...inserts], updates: [...updates] });
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    durable.push({ resolve, reject });
    return { results: inserts.map(() => nextId++), durable: promise };
  });
  return { committer, batches, durable };
}

/** Waits for the committer's next turn (it schedules with setImmediate). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1));
}

Deno.test("a written batch lets the next one be written before it is durable; callers hear in order, once durable", async () => {
  const { committer, batches, durable } = writtenCommitter();
  const heard: string[] = [];
  const first = committer.insert("a").then((id) => heard.push(`a=${id}`));
  await nextTurn();
  const second = committer.insert("b").then((id) => heard.push(`b=${id}`));
  const update = committer.update("u").then(() => heard.push("u"));
  await nextTurn();
  assert.deepEqual(batches, [{ inserts: ["a"], updates: [] }, { inserts: ["b"], updates: ["u"] }]);
  assert.deepEqual(heard, [], "nothing is answered before it is durable");
  durable[0]!.resolve();
  await first;
  assert.deepEqual(heard, ["a=1"]);
  durable[1]!.resolve();
  await Promise.all([second, update]);
  assert.deepEqual(heard, ["a=1", "b=2", "u"]);
  assert.equal(await committer.close(), 0);
});

Deno.test("a written batch that never becomes durable fails its callers and is counted at close", async () => {
  const { committer, durable } = writtenCommitter();
  const insert = committer.insert("a");
  const update = committer.update("u");
  await nextTurn();
  durable[0]!.reject(new Error("EIO"));
  await assert.rejects(insert, /EIO/);
  await assert.rejects(update, /EIO/);
  assert.equal(await committer.close(), 1, "the update is lost to this run");
});

Deno.test("close waits for written batches to become durable", async () => {
  const { committer, durable } = writtenCommitter();
  const insert = committer.insert("a");
  let closed = false;
  const closing = committer.close().then((lost) => {
    closed = true;
    return lost;
  });
  await nextTurn();
  assert.equal(closed, false);
  durable[0]!.resolve();
  assert.equal(await insert, 1);
  assert.equal(await closing, 0);
});
