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
