/**
 * Abuse limits and descriptor exhaustion, over real sockets: connections per
 * address, a connection that only sends invalid messages, and a server that
 * runs out of descriptors and must not stay deaf afterwards.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DEFAULT_MAX_CONNECTIONS_PER_IP } from "../lib/server/limits.ts";
import { TEXTOS } from "../lib/wire/protocol.ts";
import {
  LOOPBACKS,
  order,
  ROOT,
  SERVER_PERMISSIONS,
  spawnServer,
  startTestServer,
  tempDir,
  TestClient,
  waitFor,
} from "./helpers.ts";
import { LineReader } from "../lib/wire/lines.ts";

Deno.test("past --max-connections-per-ip an address gets demasiadas_conexiones; others are counted apart", async () => {
  await using t = await startTestServer({ maxConnectionsPerIp: 3 });
  const held: TestClient[] = [];
  try {
    for (const host of LOOPBACKS) {
      for (let i = 0; i < 3; i++) {
        const client = await TestClient.open(t.port, host);
        assert.equal(client.bienvenida.tipo, "bienvenida", `${host} #${i + 1}`);
        held.push(client);
      }
      await using extra = await TestClient.connect(t.port, host);
      const refused = await extra.readJson();
      assert.equal(refused.codigo, "demasiadas_conexiones");
      assert.equal(
        refused.mensaje,
        `${TEXTOS.demasiadas_conexiones}: la dirección ${host} ya tiene 3 abiertas`,
      );
      assert.equal(await extra.readLine(), null, "then closed");
    }
    // A closed connection frees its address's place.
    held.shift()!.close();
    await waitFor(async () => {
      await using again = await TestClient.connect(t.port, "127.0.0.1");
      return (await again.readJson()).tipo === "bienvenida";
    }, "a place for 127.0.0.1 again");
    assert.equal((await held[0]!.request(order())).ok, true, "held connections are served");
  } finally {
    for (const client of held) client.close();
  }
});

Deno.test("without the flag, loopback is not limited per address", async () => {
  await using t = await startTestServer();
  const held: TestClient[] = [];
  try {
    for (let i = 0; i < DEFAULT_MAX_CONNECTIONS_PER_IP + 6; i++) {
      const client = await TestClient.open(t.port, "127.0.0.1");
      assert.equal(client.bienvenida.tipo, "bienvenida", `connection ${i + 1}`);
      held.push(client);
    }
  } finally {
    for (const client of held) client.close();
  }
});

Deno.test("a connection that sends only invalid messages is closed as idle; a useful one is not", async () => {
  await using t = await startTestServer({ idleMs: 400 });
  await using garbage = await TestClient.open(t.port, "::1");
  await using useful = await TestClient.open(t.port, "127.0.0.1");
  const answers: string[] = [];
  let closed = false;
  // Both talk every 100 ms, well within the idle limit; only one says anything valid.
  for (let i = 0; i < 30 && !closed; i++) {
    await garbage.send("esto no es JSON\n").catch(() => closed = true);
    const line = await garbage.readLine(2000).catch(() => null);
    if (line === null) closed = true;
    else answers.push(JSON.parse(line).codigo);
    assert.equal((await useful.request({ tipo: "estado", id: 999 })).codigo, "no_encontrado");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.ok(closed, `still open after ${answers.length} invalid messages`);
  assert.equal(answers.at(-1), "inactivo", answers.join(", "));
  assert.ok(answers.slice(0, -1).every((codigo) => codigo === "json_invalido"));
  assert.equal((await useful.request(order())).ok, true, "the useful connection is still open");
});

Deno.test({
  name:
    "out of descriptors, the server keeps listening: flooded under ulimit -n 400, it serves both families again",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using dir = await tempDir();
    const server = new Deno.Command("bash", {
      args: [
        "-c",
        'ulimit -n 400 && exec "$0" "$@"',
        Deno.execPath(),
        "run",
        ...SERVER_PERMISSIONS,
        new URL("server.ts", ROOT).pathname,
        "--db",
        `${dir.path}/p.db`,
        "--host",
        "127.0.0.1",
        "--host",
        "::1",
        "--port",
        "0",
        "--work-ms",
        "1",
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let stderr = "";
    const stderrDone = server.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
      new WritableStream({ write: (text) => void (stderr += text) }),
    );
    const stdoutDone = server.stdout.pipeTo(new WritableStream());
    const flood: Deno.TcpConn[] = [];
    try {
      await waitFor(() => /escuchando en \[::1\]:(\d+)/.test(stderr), "start-up", 20_000);
      const port = Number(/escuchando en \[::1\]:(\d+)/.exec(stderr)![1]);
      assert.match(
        stderr,
        /aviso: --max-connections 10000 no cabe en los descriptores libres \(\d+\)/,
      );

      // 700 connections: the kernel completes them all (the backlog), the server runs out of
      // descriptors accepting them.
      for (let i = 0; i < 700; i++) {
        flood.push(await Deno.connect({ hostname: LOOPBACKS[i % 2]!, port }));
      }
      await waitFor(() => /no se pudo aceptar una conexión en/.test(stderr), "EMFILE", 20_000);
      assert.match(stderr, /Too many open files/);
      for (const conn of flood.splice(0)) conn.close();

      for (const host of LOOPBACKS) {
        await waitFor(
          async () => {
            await using client = await TestClient.connect(port, host);
            const reader = new LineReader(client.conn);
            const greeting = await Promise.race([
              reader.readLine(),
              new Promise<null>((resolve) => setTimeout(() => resolve(null), 2000)),
            ]);
            return greeting?.includes('"bienvenida"') ?? false;
          },
          `a greeting over ${host} after the flood`,
          30_000,
        );
        await using client = await TestClient.open(port, host);
        assert.equal((await client.request(order())).ok, true, host);
      }
      assert.match(stderr, /vuelve a aceptar conexiones \(tras \d+ errores seguidos\)/);
    } finally {
      for (const conn of flood) conn.close();
      server.kill("SIGTERM");
      await server.status;
      await Promise.all([stderrDone, stdoutDone]);
    }
  },
});

Deno.test("a client flooding small status queries does not keep new clients from being greeted", async () => {
  await using dir = await tempDir();
  await using t = await spawnServer(["--db", `${dir.path}/p.db`]);
  await using flooder = await TestClient.open(t.port);
  // A large order, asked about without its key: each status reads it whole
  // and answers small, so no write ever makes this connection wait. Without
  // a turn for others, its reads kept accept waiting for tens of seconds.
  const productos = Array.from({ length: 100 }, (_, i) => `${i}`.padEnd(200, "x"));
  const { id } = await flooder.request(order({ productos }));
  const query = new TextEncoder().encode(JSON.stringify({ tipo: "estado", id }) + "\n");
  const burst = new Uint8Array(query.length * 2700);
  for (let i = 0; i < 2700; i++) burst.set(query, i * query.length);
  let flooding = true;
  const writing = (async () => {
    while (flooding) await flooder.send(burst);
  })().catch(() => {});
  const reading = (async () => {
    const buffer = new Uint8Array(256 * 1024);
    while (await flooder.conn.read(buffer) !== null) {
      // Drained: only the server's effort matters.
    }
  })().catch(() => {});
  try {
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const host of LOOPBACKS) {
      await using newcomer = await TestClient.connect(t.port, host);
      const greeting = await newcomer.readJson(5000);
      assert.equal(greeting.tipo, "bienvenida", host);
    }
  } finally {
    flooding = false;
    flooder.close();
    await Promise.all([writing, reading]);
  }
});
