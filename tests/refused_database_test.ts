/**
 * A database the server must not use is refused before anything is written
 * to it: not SQLite, a newer schema, or another program's tables. The file
 * stays byte for byte as it was (no switch to WAL, no table added), and the
 * error is one line naming the file.
 */
import assert from "node:assert/strict";
import { spawnServer, tempDir } from "./helpers.ts";
import { sqliteExec as execDb } from "./sqlite_helpers.ts";

/** Starts a server on `db`, expects it to refuse, and checks `db` was left untouched. */
async function assertRefusedUntouched(db: string, reason: RegExp) {
  const before = await Deno.readFile(db);
  const error = await spawnServer(["--db", db]).then(
    () => assert.fail(`a server started on ${db}`),
    (error) => error as { code: number; stderr: string },
  );
  assert.equal(error.code, 1, error.stderr);
  assert.match(error.stderr, /^pedidos-server: error: [^\n]*\n$/, "one line");
  assert.ok(error.stderr.includes(db), `the line names the file: ${error.stderr}`);
  assert.match(error.stderr, reason);
  assert.deepEqual(await Deno.readFile(db), before, "the file is byte for byte as it was");
  for (const suffix of ["-wal", "-shm", "-journal"]) {
    await assert.rejects(Deno.stat(db + suffix), Deno.errors.NotFound, `no ${suffix} left`);
  }
}

Deno.test("a database with a newer schema is refused and stays in its journal mode, unchanged", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/futura.db`;
  execDb(db, "CREATE TABLE pedidos (id INTEGER PRIMARY KEY); PRAGMA user_version = 99;");
  await assertRefusedUntouched(db, /esquema v99, más nuevo/);
});

Deno.test("another program's database with a pedidos table is refused in one line, unchanged", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/ajena.db`;
  execDb(db, "CREATE TABLE pedidos (codigo TEXT, total REAL);");
  await assertRefusedUntouched(db, /no es una base de datos de pedidos/);
});

Deno.test("another program's database without a pedidos table is refused, not given one", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/clientes.db`;
  execDb(db, "CREATE TABLE clientes (nombre TEXT);");
  await assertRefusedUntouched(db, /no es una base de datos de pedidos/);
});

Deno.test("a file that is not SQLite is refused in one line naming it, unchanged", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/texto.db`;
  await Deno.writeTextFile(db, "esto no es una base de datos SQLite\n".repeat(200));
  await assertRefusedUntouched(db, /no es una base de datos SQLite/);
});
