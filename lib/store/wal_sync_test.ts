import assert from "node:assert/strict";
import { WalSync, WalSyncError } from "./wal_sync.ts";

/** A file whose syncs end when the test says, in the order they started. */
class SlowFile {
  readonly started: { resolve: () => void; reject: (error: Error) => void }[] = [];
  closed = false;

  syncData(): Promise<void> {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.started.push({ resolve, reject });
    return promise;
  }

  close(): void {
    this.closed = true;
  }
}

/** Lets every promise chain that can run, run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

Deno.test("calls made while a sync runs share the next one, and every call resolves in order", async () => {
  const file = new SlowFile();
  const wal = new WalSync("p.db-wal", file);
  const done: number[] = [];
  const calls = [1, 2, 3, 4].map((n) => wal.sync().then(() => done.push(n)));
  await settle();
  assert.equal(file.started.length, 1, "one sync at a time");
  file.started[0]!.resolve();
  await settle();
  assert.deepEqual(done, [1], "the first call's sync may have started before the others' writes");
  assert.equal(file.started.length, 2, "one more sync for the three calls that waited");
  const late = wal.sync().then(() => done.push(5));
  file.started[1]!.resolve();
  await settle();
  assert.deepEqual(done, [1, 2, 3, 4]);
  file.started[2]!.resolve();
  await Promise.all([...calls, late]);
  assert.deepEqual(done, [1, 2, 3, 4, 5]);
  assert.equal(file.started.length, 3);
});

Deno.test("a failed sync fails its callers, those waiting behind it and every later call", async () => {
  const file = new SlowFile();
  const wal = new WalSync("p.db-wal", file);
  const first = wal.sync();
  const second = wal.sync();
  file.started[0]!.reject(new Error("EIO"));
  await assert.rejects(first, WalSyncError);
  await assert.rejects(second, WalSyncError);
  await assert.rejects(wal.sync(), /no se pudo sincronizar p\.db-wal con el disco \(Error: EIO\)/);
  assert.equal(file.started.length, 1, "nothing is synced again after a failure");
  assert.ok(wal.failed instanceof WalSyncError);
});

Deno.test("a real -wal is opened beside its database and synced", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pedidos-wal-" });
  const path = `${dir}/p.db`;
  assert.throws(() => WalSync.open(path), Deno.errors.NotFound);
  await Deno.writeTextFile(`${path}-wal`, "frames");
  const wal = WalSync.open(path);
  await wal.sync();
  wal.close();
  wal.close();
  await Deno.remove(dir, { recursive: true });
});
