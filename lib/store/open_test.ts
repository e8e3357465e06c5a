import assert from "node:assert/strict";
import { DatabaseInUseError, openStore } from "./open.ts";

Deno.test("a postgres:// or postgresql:// target is refused with one clear line, touching nothing", async () => {
  for (const target of ["postgres://yo@localhost/pedidos", "PostgreSQL://localhost:5432/p"]) {
    const opening = [openStore(target, { sync: "full" }), openStore(target, { readOnly: true })];
    for (const open of opening) {
      const error = await open.then(() => assert.fail(`${target} opened`), (error: Error) => error);
      assert.match(error.message, /^PostgreSQL todavía no está soportado/);
      assert.equal(error.message.includes("\n"), false);
    }
  }
  // Not mistaken for a relative path: no SQLite file was created for it.
  await assert.rejects(Deno.stat("postgres:"), Deno.errors.NotFound);
  await assert.rejects(Deno.stat("PostgreSQL:"), Deno.errors.NotFound);
});

Deno.test("a path opens SQLite: one writer at a time, readers beside it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pedidos-open-" });
  try {
    const path = `${dir}/pedidos.db`;
    const writer = await openStore(path, { sync: "normal" });
    await assert.rejects(openStore(path, { sync: "normal" }), DatabaseInUseError);
    const reader = await openStore(path, { readOnly: true });
    assert.equal(await reader.count(), 0);
    await reader.close();
    await writer.close();
    await (await openStore(path, { sync: "normal" })).close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
