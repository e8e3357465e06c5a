import assert from "node:assert/strict";
import { DatabaseInUseError, lockDatabaseFile, lockFilePath } from "./sqlite_lock.ts";

async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "pedidos-lock-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

Deno.test("a second lock on the same database is refused until the first is released", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/pedidos.db`;
  try {
    const first = lockDatabaseFile(path);
    assert.throws(() => lockDatabaseFile(path), DatabaseInUseError);
    first.close();
    lockDatabaseFile(path).close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the lock belongs to the process: a killed holder leaves no stale lock", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/pedidos.db`;
  const holder = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `const f = Deno.openSync(${JSON.stringify(path)}, { read: true, write: true, create: true });
       f.lockSync(true); console.log("locked"); setTimeout(() => {}, 60000);`,
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  try {
    const reader = holder.stdout.getReader();
    const { value } = await reader.read();
    assert.match(new TextDecoder().decode(value), /locked/);
    reader.releaseLock();
    assert.throws(() => lockDatabaseFile(path), DatabaseInUseError);
    holder.kill("SIGKILL");
    await holder.status;
    lockDatabaseFile(path).close();
  } finally {
    await holder.stdout.cancel().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("renaming the database does not move the lock: the path stays locked and no file appears there", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/pedidos.db`;
  const first = lockDatabaseFile(path);
  try {
    await Deno.rename(path, `${dir.path}/movida.db`);
    assert.throws(() => lockDatabaseFile(path), DatabaseInUseError);
    await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
  } finally {
    first.close();
  }
});

Deno.test("deleting the lock file does not let a second server in while the database is locked", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/pedidos.db`;
  const first = lockDatabaseFile(path);
  try {
    await Deno.remove(lockFilePath(path));
    assert.throws(() => lockDatabaseFile(path), DatabaseInUseError);
  } finally {
    first.close();
  }
});
