/**
 * The shop's processor end to end: real servers started with `--processor`
 * (in-process, or as a child process for start-up failures), the fixture
 * processor `fixtures/processors/probar.ts` in the real sandboxed workers,
 * a real HTTP service on loopback for it to reach, and the results read
 * back from the database, `estado`, `terminado` events and `client --wait`.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ProcessorGrants } from "../lib/orders/processor_permissions.ts";
import type { ServerConfig } from "../lib/server/config.ts";
import {
  order,
  runScript,
  spawnServer,
  startTestServer,
  tempDir,
  TestClient,
  type TestServer,
  waitFor,
} from "./helpers.ts";
import { capacity, row, waitForFullCapacity, waitForInProcess } from "./server_helpers.ts";

const PROBAR = new URL("./fixtures/processors/probar.ts", import.meta.url).pathname;

/** A server whose workers run `probar.ts` with these grants. */
function withProcessor(
  grants: Partial<ProcessorGrants> = {},
  config: Partial<ServerConfig> = {},
): Promise<TestServer> {
  return startTestServer({
    workers: 1,
    retries: 0,
    ...config,
    processor: { file: PROBAR, grants: { net: [], read: [], env: [], ...grants } },
  });
}

/** Sends one order for `probar.ts` (the case in `cliente`, its argument in `direccion`) and waits for its event. */
async function run(
  t: TestServer,
  caso: string,
  argumento = "-",
): Promise<{ id: number; event: Record<string, unknown>; clave: string }> {
  await using client = await TestClient.open(t.port);
  const clave = crypto.randomUUID();
  const reply = await client.request(
    order({ cliente: caso, direccion: argumento, avisar: true, clave }),
  );
  assert.equal(reply.ok, true, JSON.stringify(reply));
  const event = await client.readJson(20_000);
  assert.equal(event.id, reply.id);
  return { id: reply.id as number, event, clave };
}

async function motivo(t: TestServer, id: number): Promise<string> {
  return (await row(t.db, id))?.motivo_fallo ?? "";
}

/** An HTTP service on 127.0.0.1 that answers every POST with what it got, and keeps the bodies. */
function httpService() {
  const bodies: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const body = await req.text();
    bodies.push(body);
    return Response.json({ recibido: body.length, servicio: "prueba" });
  });
  return {
    bodies,
    host: `127.0.0.1:${server.addr.port}`,
    url: `http://127.0.0.1:${server.addr.port}/pedidos`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

Deno.test("a processor's result is stored, and shown by estado, the terminado event and client --wait", async () => {
  await using t = await withProcessor({}, { workers: 2 });
  const { id, event, clave } = await run(t, "ok", "Calle 1");
  assert.equal(event.estado, "listo");
  const pedido = event.pedido as Record<string, unknown>;
  const resultado = pedido.resultado as Record<string, unknown>;
  assert.equal(resultado.recibo, `R-${id}`);
  assert.equal(resultado.intento, 1);
  assert.equal(resultado.recibido, pedido.fecha_recibido);
  assert.deepEqual(resultado.productos, ["pan", "leche"]);
  assert.deepEqual((await row(t.db, id))!.resultado, resultado);

  await using client = await TestClient.open(t.port, "::1");
  const estado = await client.request({ tipo: "estado", id, clave });
  assert.deepEqual((estado.pedido as Record<string, unknown>).resultado, resultado);
  const stranger = await client.request({ tipo: "estado", id });
  assert.equal("resultado" in (stranger.pedido as object), false, "not without the key");

  const cli = await runScript(
    "client.ts",
    [
      "--host",
      "127.0.0.1",
      "--port",
      String(t.port),
      "--cliente",
      "ok",
      "--productos",
      "pan",
      "--direccion",
      "Calle 2",
      "--wait",
    ],
    ["--allow-net", "--allow-read", "--allow-env"],
  );
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, /listo en/);
  assert.match(cli.stdout, /resultado: \{"recibo":"R-2","intento":1,/);

  // Nothing returned: listo, with no result.
  const nada = await run(t, "nada");
  assert.equal(nada.event.estado, "listo");
  assert.equal((nada.event.pedido as Record<string, unknown>).resultado, null);
});

Deno.test("a processor that throws is retried, then fallido with its message on one escaped line", async () => {
  await using t = await withProcessor({}, { retries: 2 });
  const { id, event } = await run(t, "explota");
  assert.equal(event.estado, "fallido");
  const stored = (await row(t.db, id))!;
  assert.equal(stored.intentos, 3);
  assert.equal(
    stored.motivo_fallo,
    `el procesador falló: sin stock para el pedido #${id}\\u001b[2J`,
  );
  assert.equal(
    t.log.lines.filter((line) => line.includes(`pedido #${id}`) && line.includes("reintenta"))
      .length,
    2,
  );
  await waitForFullCapacity(t.port);
});

Deno.test("a result too large or not JSON fails the attempt with the reason", async () => {
  await using t = await withProcessor();
  const big = await run(t, "grande", "20000");
  assert.equal(big.event.estado, "fallido");
  assert.equal(
    await motivo(t, big.id),
    "el resultado ocupa 20002 bytes como JSON; el máximo es 16384",
  );
  const fits = await run(t, "grande", "16000");
  assert.equal(fits.event.estado, "listo");
  const bigint = await run(t, "bigint");
  assert.match(await motivo(t, bigint.id), /^el resultado no se puede guardar como JSON: .*BigInt/);
});

Deno.test("a processor reaches the host it is granted and is denied any other, with the reason", async () => {
  await using allowed = httpService();
  await using other = httpService();
  await using t = await withProcessor({ net: [allowed.host] });
  const ok = await run(t, "fetch", allowed.url);
  assert.equal(ok.event.estado, "listo");
  assert.deepEqual((ok.event.pedido as Record<string, unknown>).resultado, {
    recibido: allowed.bodies[0]!.length,
    servicio: "prueba",
  });
  assert.equal(JSON.parse(allowed.bodies[0]!).id, ok.id);

  const denied = await run(t, "fetch", other.url);
  assert.equal(denied.event.estado, "fallido");
  assert.equal(
    await motivo(t, denied.id),
    `permiso denegado: conectar con "${other.host}" (concédalo con --processor-allow-net)`,
  );
  assert.deepEqual(other.bodies, []);
  assert.ok(
    t.log.lines.some((line) => line.includes(`puede conectar con ${allowed.host}`)),
    "the start-up log says which host it may reach",
  );
});

Deno.test("a processor reads the files and variables it is granted, and nothing else, and never runs, writes, loads libraries or asks the system", async () => {
  await using dir = await tempDir();
  const allowedFile = `${dir.path}/precios.json`;
  const forbiddenFile = `${dir.path}/secreto.txt`;
  await Deno.writeTextFile(allowedFile, '{"pan":1}');
  await Deno.writeTextFile(forbiddenFile, "secreto");
  Deno.env.set("PEDIDOS_PRUEBA_PERMITIDA", "visible");
  Deno.env.set("PEDIDOS_PRUEBA_PROHIBIDA", "oculta");
  try {
    await using t = await withProcessor({
      read: [allowedFile],
      env: ["PEDIDOS_PRUEBA_PERMITIDA"],
    });
    const read = await run(t, "leer", allowedFile);
    assert.equal((read.event.pedido as Record<string, unknown>).resultado, '{"pan":1}');
    const env = await run(t, "entorno", "PEDIDOS_PRUEBA_PERMITIDA");
    assert.equal((env.event.pedido as Record<string, unknown>).resultado, "visible");

    const cases: [string, string, string][] = [
      [
        "leer",
        forbiddenFile,
        `permiso denegado: leer "${forbiddenFile}" (concédalo con --processor-allow-read)`,
      ],
      [
        "entorno",
        "PEDIDOS_PRUEBA_PROHIBIDA",
        'permiso denegado: leer la variable de entorno "PEDIDOS_PRUEBA_PROHIBIDA" (concédalo con --processor-allow-env)',
      ],
      [
        "ejecutar",
        "true",
        'permiso denegado: ejecutar "true" (un procesador no puede ejecutar programas)',
      ],
      [
        "escribir",
        `${dir.path}/nuevo.txt`,
        `permiso denegado: escribir "${dir.path}/nuevo.txt" (un procesador no puede escribir archivos)`,
      ],
      [
        "ffi",
        "libc.so.6",
        'permiso denegado: cargar la biblioteca "libc.so.6" (un procesador no puede usar FFI)',
      ],
      [
        "sistema",
        "-",
        'permiso denegado: consultar del sistema "hostname" (un procesador no puede consultar el sistema)',
      ],
    ];
    for (const [caso, argumento, expected] of cases) {
      const { id, event } = await run(t, caso, argumento);
      assert.equal(event.estado, "fallido", `${caso} ${argumento}`);
      assert.equal(await motivo(t, id), expected);
    }
    assert.equal(await Deno.stat(`${dir.path}/nuevo.txt`).catch(() => null), null);
    // The server is unharmed: it still processes orders.
    assert.equal((await run(t, "ok")).event.estado, "listo");
  } finally {
    Deno.env.delete("PEDIDOS_PRUEBA_PERMITIDA");
    Deno.env.delete("PEDIDOS_PRUEBA_PROHIBIDA");
  }
});

Deno.test("a processor that stops at the abort signal fails as a timeout and keeps its worker", async () => {
  await using t = await withProcessor({}, { timeoutMs: 1000 });
  const before = await run(t, "ok");
  const token = ((before.event.pedido as Record<string, unknown>).resultado as { token: string })
    .token;
  const stopped = await run(t, "atiende");
  assert.equal(stopped.event.estado, "fallido");
  assert.equal(
    await motivo(t, stopped.id),
    "tiempo agotado: la señal de aborto se disparó a los 900 ms (límite 1000 ms)",
  );
  const after = await run(t, "ok");
  const resultado = (after.event.pedido as Record<string, unknown>).resultado as { token: string };
  assert.equal(resultado.token, token, "the same worker went on");
});

Deno.test("a processor that ignores the abort signal is abandoned, its worker replaced, and capacity comes back", async () => {
  await using t = await withProcessor({}, { timeoutMs: 1000, max: 3 });
  const before = await run(t, "ok");
  const token = ((before.event.pedido as Record<string, unknown>).resultado as { token: string })
    .token;
  const ignoring = await run(t, "ignora");
  assert.equal(ignoring.event.estado, "fallido");
  assert.equal(await motivo(t, ignoring.id), "tiempo agotado: más de 1000 ms");
  const after = await run(t, "ok");
  const resultado = (after.event.pedido as Record<string, unknown>).resultado as { token: string };
  assert.notEqual(resultado.token, token, "a new worker took over");
  await waitForFullCapacity(t.port);
  assert.deepEqual(await capacity(t.port), { max: 3, libres: 3 });
});

Deno.test("at shutdown a running processor gets the signal before the drain runs out, and its order is taken up at the next start", async () => {
  await using service = httpService();
  await using dir = await tempDir();
  const db = `${dir.path}/pedidos.db`;
  const t = await withProcessor({ net: [service.host] }, { db, drainMs: 1000 });
  let id: number;
  try {
    await using client = await TestClient.open(t.port);
    const reply = await client.request(order({ cliente: "avisa", direccion: service.url }));
    id = reply.id as number;
    await waitForInProcess(db, id);
  } finally {
    await t[Symbol.asyncDispose]();
  }
  assert.deepEqual(service.bodies, ["AbortError: el servidor se está apagando"]);
  assert.equal((await row(db, id))!.estado, "en proceso");
  assert.ok(
    t.log.lines.some((line) => /1 pedidos quedan en cola/.test(line)),
    t.log.lines.join("\n"),
  );

  // The next start takes it up again: a second attempt, told to stop in turn.
  await using restarted = await withProcessor({ net: [service.host] }, { db, drainMs: 1000 });
  assert.equal(restarted.server.recovered, 1);
  await waitFor(async () => (await row(db, id))?.intentos === 2, "the second attempt");
});

Deno.test("a processor module that cannot load stops the server before it listens, in one line, exit 1", async () => {
  await using dir = await tempDir();
  const modules: Record<string, [string, RegExp]> = {
    "sintaxis.ts": [
      "export default function ( {\n",
      /^pedidos-server: error: no se pudo cargar el procesador: .*Unexpected token.* \(file:\/\/.*sintaxis\.ts:1:\d+\)$/,
    ],
    "sin_default.ts": [
      "export const procesar = () => 1;\n",
      /^pedidos-server: error: no se pudo cargar el procesador: el módulo no tiene export default \(se espera una función\)$/,
    ],
    "lanza.ts": [
      'throw new Error("falta la configuración");\n',
      /^pedidos-server: error: no se pudo cargar el procesador: falta la configuración$/,
    ],
  };
  for (const [name, [source, expected]] of Object.entries(modules)) {
    await Deno.writeTextFile(`${dir.path}/${name}`, source);
    const db = `${dir.path}/${name}.db`;
    const error = await spawnServer(["--db", db, "--processor", `${dir.path}/${name}`]).then(
      async (server) => {
        await server[Symbol.asyncDispose]();
        throw new Error(`${name}: the server started`);
      },
      (error) => error as { code: number; stderr: string },
    );
    assert.equal(error.code, 1, name);
    const lines = error.stderr.trim().split("\n");
    assert.equal(lines.length, 1, `${name}: ${error.stderr}`);
    assert.match(lines[0]!, expected);
    assert.equal(await Deno.stat(db).catch(() => null), null, `${name}: the database was touched`);
  }
});
