import assert from "node:assert/strict";
import { DatabaseInUseError, describeTarget, isPostgresUrl, openStore } from "./open.ts";

Deno.test("a postgres:// or postgresql:// target is PostgreSQL: one that cannot be reached fails in one line, touching no file", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  for (
    const target of [`postgres://yo@127.0.0.1:${port}/p`, `PostgreSQL://yo@127.0.0.1:${port}/p`]
  ) {
    assert.ok(isPostgresUrl(target));
    for (
      const open of [openStore(target, { sync: "full" }), openStore(target, { readOnly: true })]
    ) {
      const error = await open.then(() => assert.fail(`${target} opened`), (error: Error) => error);
      assert.match(error.message, /ECONNREFUSED/);
      assert.equal(error.message.includes("\n"), false);
    }
  }
  // Not mistaken for a relative path: no SQLite file was created for it.
  await assert.rejects(Deno.stat("postgres:"), Deno.errors.NotFound);
  await assert.rejects(Deno.stat("PostgreSQL:"), Deno.errors.NotFound);
});

Deno.test("a PostgreSQL URL without a user is refused before connecting", async () => {
  const saved = [Deno.env.get("PGUSER"), Deno.env.get("PGUSERNAME")];
  Deno.env.delete("PGUSER");
  Deno.env.delete("PGUSERNAME");
  try {
    await assert.rejects(
      openStore("postgres://127.0.0.1:1/p", { readOnly: true }),
      /debe nombrar al usuario/,
    );
  } finally {
    if (saved[0] !== undefined) Deno.env.set("PGUSER", saved[0]);
    if (saved[1] !== undefined) Deno.env.set("PGUSERNAME", saved[1]);
  }
});

Deno.test("logs name a PostgreSQL database without its password, and a file as it is", () => {
  assert.equal(
    describeTarget("postgres://ana:secreto@db/pedidos"),
    "postgres://ana:***@db/pedidos",
  );
  assert.equal(describeTarget("datos/pedidos.db"), "datos/pedidos.db");
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
