import assert from "node:assert/strict";
import { GroupCommitter } from "./group_commit.ts";

type Batch = { inserts: string[]; updates: string[] };

function recordingCommitter(fail: () => boolean = () => false) {
  const batches: Batch[] = [];
  let nextId = 1;
  const committer = new GroupCommitter<string, string, number>((inserts, updates) => {
    if (fail()) throw new Error("disco lleno");
    batches.push({ inserts: [...inserts], updates: [...updates] });
    return inserts.map(() => nextId++);
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
  assert.equal(committer.batches, 1);
  committer.close();
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
  committer.close();
});

Deno.test("a failed commit rejects its inserts but retries its updates until they commit", async () => {
  let failures = 2;
  const errors: unknown[] = [];
  const batches: Batch[] = [];
  const committer = new GroupCommitter<string, string, number>((inserts, updates) => {
    if (failures-- > 0) throw new Error("base de datos bloqueada");
    batches.push({ inserts: [...inserts], updates: [...updates] });
    return inserts.map((_, i) => i + 1);
  }, { retryDelayMs: 5, onError: (error) => errors.push(error) });
  const insert = committer.insert("pedido");
  const update = committer.update("listo");
  await assert.rejects(insert, /bloqueada/);
  await update;
  assert.equal(errors.length, 2);
  assert.deepEqual(batches, [{ inserts: [], updates: ["listo"] }]);
  committer.close();
});

Deno.test("close commits what is pending and refuses later writes", async () => {
  const { committer, batches } = recordingCommitter();
  const insert = committer.insert("a");
  assert.equal(committer.close(), 0);
  assert.equal(await insert, 1);
  assert.equal(batches.length, 1);
  await assert.rejects(committer.insert("b"), /closed/);
});

Deno.test("close reports updates that could not be written and rejects them", async () => {
  const { committer } = recordingCommitter(() => true);
  const update = committer.update("listo");
  assert.equal(committer.close(), 1);
  await assert.rejects(update, /closed/);
});
