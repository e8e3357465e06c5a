/**
 * SIGUSR1 must not open Deno's inspector (an unauthenticated debugger on
 * 127.0.0.1:9229) in a running server. Log-rotation scripts send it routinely.
 */
import assert from "node:assert/strict";
import { listeningPorts, order, spawnServer, tempDir, TestClient } from "./helpers.ts";

const notLinux = Deno.build.os === "linux" ? undefined : "reads /proc, which only Linux has";
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test({
  name:
    `a server started like the server task opens no port on SIGUSR1, keeps serving and stops cleanly on SIGTERM${
      notLinux ? ` (skipped: ${notLinux})` : ""
    }`,
  ignore: notLinux !== undefined,
  async fn() {
    await using dir = await tempDir();
    // Exactly as the task runs it: the permission set from deno.json.
    await using server = await spawnServer(
      ["--db", `${dir.path}/p.db`, "--work-ms", "10"],
      undefined,
      ["-P=server"],
    );
    const pid = server.child.pid;
    const before = listeningPorts(pid);
    assert.deepEqual([...before], [server.port]);

    // Deno starts listening for SIGUSR1 half a second after start-up; signal
    // well after that, then watch for a second (the inspector, when it opens,
    // does so within milliseconds).
    await delay(1000);
    server.kill("SIGUSR1");
    for (const deadline = Date.now() + 1000; Date.now() < deadline; await delay(50)) {
      assert.deepEqual(listeningPorts(pid), before, server.stderr());
    }

    await using client = await TestClient.open(server.port);
    assert.equal((await client.request(order())).ok, true);
    client.close();
    // The reply took turns of the server's event loop, where Deno would have
    // opened the inspector: still nothing new.
    assert.deepEqual(listeningPorts(pid), before, server.stderr());
    server.kill("SIGTERM");
    const { code, stdout, stderr } = await server.exited();
    assert.equal(code, 0, stderr);
    assert.match(stdout, /Estadísticas/);
    assert.doesNotMatch(stderr, /Debugger listening|SIGUSR1/);
  },
});

Deno.test("a server run without --allow-ffi warns in one line that SIGUSR1 would open a debugger", async () => {
  await using dir = await tempDir();
  await using server = await spawnServer(
    ["--db", `${dir.path}/p.db`, "--work-ms", "10"],
    undefined,
    ["--allow-net", "--allow-read", "--allow-write"],
  );
  const warnings = server.stderr().split("\n").filter((line) => line.includes("SIGUSR1"));
  assert.deepEqual(warnings, [
    "pedidos: aviso: SIGUSR1 abriría un depurador sin autenticación en 127.0.0.1:9229: falta el permiso --allow-ffi para ignorarla (véase docs/security.md, «SIGUSR1 and Deno's debugger»)",
  ]);
});
