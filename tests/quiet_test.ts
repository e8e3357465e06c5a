import assert from "node:assert/strict";
import { order, spawnServer, TestClient } from "./helpers.ts";

Deno.test("with --quiet the server still says where it listens, and nothing else while healthy", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pedidos-quiet-" });
  try {
    await using server = await spawnServer(["--db", `${dir}/p.db`, "--work-ms", "5", "--quiet"]);
    await using client = await TestClient.open(server.port, "::1");
    assert.equal((await client.request(order())).ok, true);
    client.close();
    server.kill("SIGTERM");
    const { code, stderr } = await server.exited();
    assert.equal(code, 0);
    const lines = stderr.trim().split("\n").filter((line) => !line.includes("Warning"));
    assert.deepEqual(lines.filter((line) => !line.includes("SIGTERM")), [
      `pedidos: escuchando en 127.0.0.1:${server.port}`,
      `pedidos: escuchando en [::1]:${server.port}`,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
