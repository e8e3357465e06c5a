import assert from "node:assert/strict";
import { order, spawnServer, startTestServer, TestClient } from "./helpers.ts";

Deno.test("smoke: in-process server answers over both loopbacks", async () => {
  await using t = await startTestServer();
  for (const host of ["127.0.0.1", "::1"]) {
    await using client = await TestClient.open(t.port, host);
    assert.equal(client.bienvenida.tipo, "bienvenida");
    const reply = await client.request(order());
    assert.equal(reply.ok, true);
  }
});

Deno.test("smoke: child server exits 0 on SIGTERM", async () => {
  const dir = await Deno.makeTempDir();
  await using proc = await spawnServer(["--db", `${dir}/p.db`, "--work-ms", "10"]);
  await using client = await TestClient.open(proc.port, "::1");
  assert.equal((await client.request(order())).ok, true);
  client.close();
  proc.kill("SIGTERM");
  const { code, stdout } = await proc.exited();
  assert.equal(code, 0);
  assert.match(stdout, /Estadísticas/);
  await Deno.remove(dir, { recursive: true });
});
