import assert from "node:assert/strict";
import {
  checkNoOrphanWal,
  DatabaseFileLostError,
  describeChange,
  FileIdentity,
} from "./file_identity.ts";

async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "pedidos-identity-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

Deno.test("a file is in place while its path names the same device and inode and it is linked", () => {
  const opened = { dev: 1, ino: 7, nlink: 1 };
  assert.equal(describeChange(opened, { dev: 1, ino: 7, nlink: 1 }), undefined);
  assert.equal(describeChange({ ...opened, nlink: 2 }, { dev: 1, ino: 7, nlink: 2 }), undefined);
  assert.match(describeChange({ ...opened, nlink: 0 }, null)!, /borrada/);
  assert.match(describeChange(opened, null)!, /ya no está en su ruta/);
  assert.match(describeChange(opened, { dev: 1, ino: 8, nlink: 1 })!, /reemplazada/);
  assert.match(describeChange(opened, { dev: 2, ino: 7, nlink: 1 })!, /reemplazada/);
});

Deno.test("a watched file that is renamed fails the check for good, even once it is back", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/pedidos.db`;
  await Deno.writeTextFile(path, "x");
  const identity = FileIdentity.open(path);
  try {
    identity.check();
    assert.equal(identity.lost, undefined);
    await Deno.rename(path, `${path}.movida`);
    assert.throws(() => identity.check(), (error: Error) => {
      assert.ok(error instanceof DatabaseFileLostError);
      assert.match(error.message, new RegExp(`^la base de datos ${path} ya no está en su ruta`));
      return true;
    });
    await Deno.rename(`${path}.movida`, path);
    assert.throws(() => identity.check(), DatabaseFileLostError);
    assert.ok(identity.lost);
  } finally {
    identity.close();
    identity.close();
  }
});

Deno.test("a watched file renamed and replaced by another of the same name fails the check", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/pedidos.db`;
  await Deno.writeTextFile(path, "x");
  const identity = FileIdentity.open(path);
  try {
    await Deno.rename(path, `${path}.movida`);
    await Deno.writeTextFile(path, "y");
    assert.throws(() => identity.check(), /fue reemplazada/);
  } finally {
    identity.close();
  }
});

Deno.test("a -wal with content beside a missing or empty database is refused; anything else passes", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/pedidos.db`;
  checkNoOrphanWal(path);
  await Deno.writeTextFile(`${path}-wal`, "");
  checkNoOrphanWal(path);
  await Deno.writeTextFile(`${path}-wal`, "frames");
  assert.throws(() => checkNoOrphanWal(path), (error: Error) => {
    assert.ok(error instanceof DatabaseFileLostError);
    assert.match(error.message, new RegExp(`^${path}-wal guarda cambios`));
    return true;
  });
  await Deno.writeTextFile(path, "");
  assert.throws(() => checkNoOrphanWal(path), DatabaseFileLostError);
  await Deno.writeTextFile(path, "página 1");
  checkNoOrphanWal(path);
});
