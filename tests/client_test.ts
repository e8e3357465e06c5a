/**
 * The command-line client end to end, against real servers on both
 * loopbacks with real database files. Most tests run `runClient` in-process
 * with in-memory streams; `--help`, `--version`, a bad flag, no listener, the
 * environment and the interactive prompts also run as real processes (the
 * prompts through a pseudo-terminal made by `script`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { CLIENT_FLAGS } from "../lib/client/config.ts";
import { EXIT } from "../lib/client/errors.ts";
import { MAX_BATCH_LINES } from "../lib/client/batch_input.ts";
import { shellQuote } from "../lib/client/resend.ts";
import { TEXTOS } from "../lib/wire/protocol.ts";
import {
  type ClientRunResult as RunResult,
  freePort,
  LOOPBACKS,
  order,
  readOrders,
  ROOT,
  runClientInProcess as client,
  startTestServer,
  TestClient,
} from "./helpers.ts";
import type { StoredOrder } from "../lib/store/types.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const ANA = ["--cliente", "Ana", "--productos", "pan,leche", "--direccion", "Calle Falsa 123"];

/** How many stored orders pass `check` (all of them by default). */
async function count(db: string, check: (stored: StoredOrder) => boolean = () => true) {
  return (await readOrders(db)).filter(check).length;
}

/** Runs `client.ts` as the `client` task does, with its deno.json permission set. */
async function clientProcess(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-q", "-P=client", "client.ts", ...args],
    cwd: new URL(".", ROOT).pathname,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

// ── Connecting ──────────────────────────────────────────────────────────────

for (const host of [...LOOPBACKS, "[::1]"]) {
  Deno.test(`one order to ${host} is accepted, printed in the server's words and stored once`, async () => {
    await using t = await startTestServer();
    const result = await client(["--host", host, "--port", String(t.port), ...ANA]);
    assert.equal(result.code, EXIT.ok, result.stderr);
    assert.equal(result.stdout, "✅ Pedido encolado #1\n");
    assert.equal(result.stderr, "");
    assert.equal(await count(t.db, (o) => o.cliente === "Ana" && o.clave !== null), 1);
  });
}

Deno.test("localhost is tried over IPv6 first, and --verbose says which family connected", async () => {
  await using t = await startTestServer();
  const result = await client(["--port", String(t.port), "--stats", "--verbose"]);
  assert.equal(result.code, EXIT.ok);
  assert.match(
    result.stderr,
    /^pedidos-client: localhost tiene 2 direcciones: ::1, 127\.0\.0\.1$/m,
  );
  assert.match(
    result.stderr,
    new RegExp(`^pedidos-client: conectado a \\[::1\\]:${t.port} por IPv6$`, "m"),
  );
  assert.match(
    result.stderr,
    /^pedidos-client: servidor de pedidos \d+\.\d+\.\d+: \d+ de 6 plazas libres$/m,
  );
});

Deno.test("a server on IPv4 only is reached through localhost after ::1 refuses", async () => {
  await using t = await startTestServer({ hosts: ["127.0.0.1"] });
  const result = await client(["--port", String(t.port), "--verbose", ...ANA]);
  assert.equal(result.code, EXIT.ok, result.stderr);
  assert.match(result.stderr, new RegExp(`\\[::1\\]:${t.port}: conexión rechazada`));
  assert.match(result.stderr, new RegExp(`conectado a 127\\.0\\.0\\.1:${t.port} por IPv4`));
});

for (const host of [...LOOPBACKS, "[::1]"]) {
  Deno.test(`a host with no listener (${host}) exits 3 with one line naming host and port`, async () => {
    const port = freePort();
    const result = await client(["--host", host, "--port", String(port), ...ANA]);
    assert.equal(result.code, EXIT.conexion);
    assert.equal(result.stdout, "");
    const shown = host.includes(":")
      ? `[${host.replace(/[[\]]/g, "")}]:${port}`
      : `${host}:${port}`;
    assert.equal(
      result.stderr,
      `pedidos-client: error: no se pudo conectar a ${shown}: conexión rechazada\n`,
    );
  });
}

Deno.test("a name that does not resolve exits 3", async () => {
  const result = await client(["--host", "nohay.invalid", "--stats", "--timeout-ms", "5000"]);
  assert.equal(result.code, EXIT.conexion);
  assert.match(
    result.stderr,
    /^pedidos-client: error: no se pudo conectar a nohay\.invalid:8888: /,
  );
});

Deno.test("a server that accepts but never greets times out within --timeout-ms: exit 3", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepting = listener.accept();
  const started = Date.now();
  const result = await client(
    ["--host", "127.0.0.1", "--port", String(listener.addr.port), "--timeout-ms", "200", "--stats"],
  );
  (await accepting).close();
  assert.equal(result.code, EXIT.conexion);
  assert.ok(Date.now() - started < 2000);
  assert.equal(
    result.stderr,
    `pedidos-client: error: 127.0.0.1:${listener.addr.port} no envió su saludo en 200 ms\n`,
  );
});

Deno.test("PEDIDOS_HOST and PEDIDOS_PORT choose the server; flags win over them", async () => {
  await using t = await startTestServer();
  const env = { PEDIDOS_HOST: "::1", PEDIDOS_PORT: String(t.port) };
  assert.equal((await client(["--stats"], { env })).code, EXIT.ok);
  const flagged = await client(["--stats", "--port", String(freePort())], { env });
  assert.equal(flagged.code, EXIT.conexion);
  assert.match(flagged.stderr, /no se pudo conectar a \[::1\]:/);
});

// ── Sending orders ──────────────────────────────────────────────────────────

Deno.test("--json prints the reply with its idempotency key, the one the database holds", async () => {
  await using t = await startTestServer();
  const result = await client(["--host", "::1", "--port", String(t.port), "--json", ...ANA]);
  assert.equal(result.code, EXIT.ok);
  const reply = JSON.parse(result.stdout);
  assert.equal(reply.ok, true);
  assert.equal(reply.id, 1);
  assert.match(reply.clave, /^[0-9a-f-]{36}$/);
  assert.equal(await count(t.db, (o) => o.clave === reply.clave), 1);
});

Deno.test("an invalid order is reported before any connection is made: exit 2", async () => {
  const result = await client([
    "--port",
    String(freePort()),
    "--verbose",
    "--cliente",
    " ",
    "--productos",
    ",",
    "--direccion",
    "Calle 1",
  ]);
  assert.equal(result.code, EXIT.uso);
  assert.equal(
    result.stderr,
    "pedidos-client: error: pedido inválido: cliente no puede estar vacío; productos debe tener al menos un producto\n",
  );
});

Deno.test("missing fields with stdin not a terminal print the usage and exit 2", async () => {
  const result = await client(["--cliente", "Ana"], { terminal: false });
  assert.equal(result.code, EXIT.uso);
  assert.match(
    result.stderr,
    /^pedidos-client: error: faltan --productos, --direccion y stdin no es una terminal/,
  );
  assert.match(result.stderr, /^Uso: pedidos-client/m);
  assert.equal(result.stdout, "");
});

Deno.test("missing fields are asked at a terminal with the seed's prompts", async () => {
  await using t = await startTestServer();
  const result = await client(["--host", "127.0.0.1", "--port", String(t.port)], {
    terminal: true,
    stdin: "Bea\nsal, azúcar\nAvenida 9\n",
  });
  assert.equal(result.code, EXIT.ok, result.stderr);
  assert.equal(
    result.stderr,
    "Nombre del cliente: Productos (separados por coma): Dirección de entrega: ",
  );
  assert.equal(result.stdout, "✅ Pedido encolado #1\n");
  const [stored] = await readOrders(t.db);
  assert.deepEqual(
    { cliente: stored?.cliente, productos: stored?.productos, direccion: stored?.direccion },
    { cliente: "Bea", productos: ["sal", "azúcar"], direccion: "Avenida 9" },
  );
});

const scriptAvailable = await new Deno.Command("script", { args: ["--version"], stdout: "null" })
  .output().then((o) => o.success, () => false);

Deno.test({
  name: `the real client prompts through a pseudo-terminal${
    scriptAvailable ? "" : " (skipped: no script)"
  }`,
  ignore: !scriptAvailable,
  async fn() {
    await using t = await startTestServer();
    const command = `'${Deno.execPath()}' run -q -P=client client.ts --host ::1 --port ${t.port}`;
    const child = new Deno.Command("script", {
      args: ["-qfec", command, "/dev/null"],
      cwd: new URL(".", ROOT).pathname,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(encoder.encode("Ana\npan,leche\nCalle Falsa 123\n"));
    await writer.close();
    const output = await child.output();
    const text = decoder.decode(output.stdout);
    assert.equal(output.code, EXIT.ok, text + decoder.decode(output.stderr));
    assert.match(text, /Nombre del cliente: /);
    assert.match(text, /Productos \(separados por coma\): /);
    assert.match(text, /Dirección de entrega: /);
    assert.match(text, /✅ Pedido encolado #1/);
    assert.equal(
      await count(t.db, (o) => o.cliente === "Ana" && o.direccion === "Calle Falsa 123"),
      1,
    );
  },
});

// ── Batches ─────────────────────────────────────────────────────────────────

function ndjson(...orders: Record<string, unknown>[]): string {
  return orders.map((o) => JSON.stringify(o)).join("\n") + "\n";
}

Deno.test("a batch file gets one result per order and a summary; a rejection makes it exit 1", async () => {
  await using t = await startTestServer({ max: 2, workMs: 400 });
  const dir = await Deno.makeTempDir({ prefix: "pedidos-client-test-" });
  try {
    const file = `${dir}/pedidos.ndjson`;
    await Deno.writeTextFile(
      file,
      ndjson(order({ cliente: "A" }), order({ cliente: "B" })) + "\n" +
        ndjson(order({ cliente: "C" })),
    );
    const result = await client(["--host", "127.0.0.1", "--port", String(t.port), "--file", file]);
    assert.equal(result.code, EXIT.rechazado, result.stderr);
    assert.equal(
      result.stdout,
      [
        "línea 1: ✅ Pedido encolado #1",
        "línea 2: ✅ Pedido encolado #2",
        `línea 4: ${TEXTOS.limite}`,
        "Resumen: 3 pedidos · 2 aceptados · 1 rechazado (limite 1)",
        "",
      ].join("\n"),
    );
    assert.equal(await count(t.db), 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a batch from stdin keeps its keys, so sending it twice stores each order once", async () => {
  await using t = await startTestServer();
  const stdin = ndjson(order({ clave: "lote-1" }), order({ cliente: "Bea", clave: "lote-2" }));
  const args = ["--host", "::1", "--port", String(t.port), "--file", "-", "--json"];
  const first = await client(args, { stdin });
  assert.equal(first.code, EXIT.ok, first.stderr);
  const second = await client(args, { stdin });
  assert.equal(second.code, EXIT.ok, second.stderr);
  const lines = second.stdout.trim().split("\n").map((line) => JSON.parse(line));
  assert.deepEqual(lines.slice(0, 2).map((l) => [l.linea, l.id, l.duplicado, l.clave]), [
    [1, 1, true, "lote-1"],
    [2, 2, true, "lote-2"],
  ]);
  assert.deepEqual(lines[2], {
    resumen: { pedidos: 2, aceptados: 2, duplicados: 2, rechazados: {}, sin_respuesta: 0 },
  });
  assert.equal(await count(t.db), 2);
});

Deno.test("a batch with an invalid line sends nothing and exits 2, naming every bad line", async () => {
  await using t = await startTestServer();
  const stdin = ndjson(order(), order({ productos: [] })) + "{roto\n";
  const result = await client(["--port", String(t.port), "--file", "-"], { stdin });
  assert.equal(result.code, EXIT.uso);
  assert.match(result.stderr, /^pedidos-client: error: stdin, línea 2: productos debe tener/m);
  assert.match(result.stderr, /^pedidos-client: error: stdin, línea 3: JSON inválido/m);
  assert.match(result.stderr, /2 líneas inválidas en stdin; no se envió ningún pedido\n$/);
  assert.equal(await count(t.db), 0);
});

Deno.test("--file /dev/zero stops at the line limit: one error line, exit 2, nothing sent", async () => {
  const result = await client(["--port", String(freePort()), "--file", "/dev/zero"]);
  assert.equal(result.code, EXIT.uso);
  assert.equal(result.stdout, "");
  assert.equal(
    result.stderr,
    "pedidos-client: error: /dev/zero, línea 1: pasa de 1 MiB sin un salto de línea; " +
      "un pedido ocupa mucho menos\n",
  );
});

Deno.test("a stdin that does not end stops at the line-count limit: one error line, exit 2, nothing sent", async () => {
  const line = encoder.encode(JSON.stringify(order()) + "\n");
  let sent = 0;
  // Ends a little past the limit, so that a client without one fails instead of hanging.
  const stdin = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent++ > MAX_BATCH_LINES + 10) controller.close();
      else controller.enqueue(line);
    },
  });
  const result = await client(["--port", String(freePort()), "--file", "-"], { stdin });
  assert.equal(result.code, EXIT.uso, result.stderr.slice(0, 500));
  assert.equal(
    result.stderr,
    `pedidos-client: error: stdin tiene más de ${MAX_BATCH_LINES} líneas: divida el lote en varios\n`,
  );
});

Deno.test("an unreadable batch file exits 2", async () => {
  const result = await client(["--file", "/nonexistent/pedidos.ndjson"]);
  assert.equal(result.code, EXIT.uso);
  assert.match(
    result.stderr,
    /^pedidos-client: error: no se puede leer \/nonexistent\/pedidos\.ndjson: /,
  );
});

// ── Waiting, asking ─────────────────────────────────────────────────────────

Deno.test("--wait prints the order's start, end and duration once it is listo", async () => {
  await using t = await startTestServer({ workMs: 50 });
  const result = await client(["--host", "::1", "--port", String(t.port), "--wait", ...ANA]);
  assert.equal(result.code, EXIT.ok, result.stderr);
  const [row] = await readOrders(t.db);
  assert.match(
    result.stdout,
    new RegExp(
      [
        "^✅ Pedido encolado #1",
        "✅ Pedido #1 listo en \\d+\\.\\d{3} s",
        `   inicio:   ${row!.fecha_inicio}`,
        `   fin:      ${row!.fecha_fin}`,
        "   duración: \\d+\\.\\d{3} s\n$",
      ].join("\n"),
    ),
  );
});

Deno.test("--wait exits 1 when the order fails", async () => {
  await using t = await startTestServer({ workMs: 2000, timeoutMs: 50, retries: 0 });
  const result = await client(["--host", "127.0.0.1", "--port", String(t.port), "--wait", ...ANA]);
  assert.equal(result.code, EXIT.rechazado, result.stderr);
  assert.match(result.stdout, /^❌ Pedido #1 fallido: tiempo agotado/m);
});

Deno.test("--wait on a resent key follows the existing order by asking its status", async () => {
  await using t = await startTestServer({ workMs: 300 });
  const args = ["--host", "::1", "--port", String(t.port), "--clave", "k-espera", ...ANA];
  assert.equal((await client(args)).code, EXIT.ok);
  const result = await client([...args, "--wait"]);
  assert.equal(result.code, EXIT.ok, result.stderr);
  assert.match(result.stdout, /^✅ Pedido ya registrado #1\n✅ Pedido #1 listo en /);
  assert.equal(await count(t.db), 1);
});

Deno.test("a batch with --wait reports each order's end and counts them in the summary", async () => {
  await using t = await startTestServer({ workMs: 30 });
  const stdin = ndjson(order({ cliente: "A" }), order({ cliente: "B" }), order({ cliente: "C" }));
  const result = await client(["--port", String(t.port), "--file", "-", "--wait"], { stdin });
  assert.equal(result.code, EXIT.ok, result.stderr);
  for (const linea of [1, 2, 3]) {
    assert.match(result.stdout, new RegExp(`^línea ${linea}: ✅ Pedido #${linea} listo en `, "m"));
  }
  assert.match(
    result.stdout,
    /Resumen: 3 pedidos · 3 aceptados · 0 rechazados · 3 listos · 0 fallidos\n$/,
  );
});

Deno.test("--status shows the order's state and times, its data with --clave; an unknown id exits 1", async () => {
  await using t = await startTestServer();
  await using raw = await TestClient.open(t.port);
  assert.equal((await raw.request(order({ clave: "k-estado" }))).ok, true);
  const found = await client(["--port", String(t.port), "--status", "1"]);
  assert.equal(found.code, EXIT.ok);
  assert.match(found.stdout, /^📦 Pedido #1: (en cola|en proceso|listo)\n {3}recibido: +\d{4}-/);
  assert.doesNotMatch(found.stdout, /Ana|Calle/);
  assert.match(found.stdout, /datos del pedido: solo con su clave/);
  const owner = await client(["--port", String(t.port), "--status", "1", "--clave", "k-estado"]);
  assert.equal(owner.code, EXIT.ok, owner.stderr);
  assert.match(owner.stdout, /^📦 Pedido #1: (en cola|en proceso|listo)\n {3}cliente: +Ana\n/);
  assert.match(owner.stdout, /^ {3}recibido: +\d{4}-\d\d-\d\dT/m);
  const missing = await client(["--port", String(t.port), "--status", "99", "--json"]);
  assert.equal(missing.code, EXIT.rechazado);
  assert.equal(JSON.parse(missing.stdout).codigo, "no_encontrado");
});

Deno.test("--stats prints the server's report; with --json, the snapshot itself", async () => {
  await using t = await startTestServer();
  await using raw = await TestClient.open(t.port, "::1");
  await raw.request(order());
  await raw.request(order({ cliente: "" }));
  const human = await client(["--host", "::1", "--port", String(t.port), "--stats"]);
  assert.equal(human.code, EXIT.ok);
  assert.match(human.stdout, /^📊 Estadísticas de procesamiento \(/);
  assert.match(human.stdout, /^ {2}Pedidos: 1 recibido · /m);
  assert.match(human.stdout, /^ {2}Rechazos: pedido_invalido 1$/m);
  assert.match(human.stdout, /^ {2}Línea de tiempo:$/m, "the client asks for the intervals");
  const json = await client(["--host", "::1", "--port", String(t.port), "--stats", "--json"]);
  const { estadisticas } = JSON.parse(json.stdout);
  assert.equal(estadisticas.recibidos, 1);
  assert.deepEqual(estadisticas.rechazos, { pedido_invalido: 1 });
  assert.ok(Array.isArray(estadisticas.intervalos));
});

// ── Retrying ────────────────────────────────────────────────────────────────

Deno.test("without --retry a full server is a rejection in the server's words: exit 1", async () => {
  await using t = await startTestServer({ max: 1, workMs: 400 });
  await using raw = await TestClient.open(t.port);
  assert.equal((await raw.request(order())).ok, true);
  const result = await client(["--port", String(t.port), ...ANA]);
  assert.equal(result.code, EXIT.rechazado);
  assert.equal(result.stdout, `${TEXTOS.limite}\n`);
});

Deno.test("--retry against a full semaphore that frees up: accepted once, never twice", async () => {
  await using t = await startTestServer({ max: 1, workMs: 300 });
  await using raw = await TestClient.open(t.port, "::1");
  assert.equal((await raw.request(order({ cliente: "Primero" }))).ok, true);
  const result = await client([
    "--host",
    "::1",
    "--port",
    String(t.port),
    "--retry",
    "8",
    "--clave",
    "k-reintento",
    ...ANA,
  ]);
  assert.equal(result.code, EXIT.ok, result.stderr);
  assert.equal(result.stdout, "✅ Pedido encolado #2\n");
  assert.match(
    result.stderr,
    /^pedidos-client: aviso: ❌ Límite de pedidos alcanzado\. Intente más tarde\. → reintento 1 de 8 en \d+ ms$/m,
  );
  assert.equal(await count(t.db, (o) => o.clave === "k-reintento"), 1);
  assert.equal(await count(t.db), 2);
});

Deno.test("--retry waits for a server that is not listening yet", async () => {
  const port = freePort();
  const sending = client(["--host", "127.0.0.1", "--port", String(port), "--retry", "8", ...ANA]);
  await new Promise((resolve) => setTimeout(resolve, 250));
  await using t = await startTestServer({ port });
  const result = await sending;
  assert.equal(result.code, EXIT.ok, result.stderr);
  assert.match(result.stderr, /conexión rechazada → reintento 1 de 8/);
  assert.equal(await count(t.db), 1);
});

/**
 * A proxy in front of the server whose first connection forwards the greeting
 * and one request, then drops as soon as the server has replied (or, with
 * `hold`, keeps the connection open and silent until the client closes it):
 * the order is stored but its reply is lost. Later connections pass through
 * untouched.
 */
function lossyProxy(target: number, { hold = false } = {}) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const handlers: Promise<unknown>[] = [];
  const readLine = async (conn: Deno.Conn) => {
    const buffer = new Uint8Array(4096);
    let text = "";
    while (!text.endsWith("\n")) {
      const count = await conn.read(buffer);
      if (count === null) break;
      text += decoder.decode(buffer.subarray(0, count));
    }
    return encoder.encode(text);
  };
  const accepting = (async () => {
    let connections = 0;
    for await (const downstream of listener) {
      const first = ++connections === 1;
      handlers.push((async () => {
        const upstream = await Deno.connect({ hostname: "127.0.0.1", port: target });
        const closeBoth = () => {
          for (const conn of [downstream, upstream]) {
            try {
              conn.close();
            } catch {
              // Already closed.
            }
          }
        };
        if (first) {
          try {
            await downstream.write(await readLine(upstream)); // greeting
            await upstream.write(await readLine(downstream)); // the order
            await readLine(upstream); // its reply, never delivered
            if (hold) await readLine(downstream); // until the client gives up
          } finally {
            closeBoth();
          }
          return;
        }
        const pipes = [
          downstream.readable.pipeTo(upstream.writable, { preventClose: true }),
          upstream.readable.pipeTo(downstream.writable, { preventClose: true }),
        ];
        // Whichever side ends first ends the other, as a real proxy would.
        await Promise.race(pipes).catch(() => {});
        closeBoth();
        await Promise.allSettled(pipes);
      })());
    }
  })();
  return {
    port: listener.addr.port,
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepting;
      await Promise.allSettled(handlers);
    },
  };
}

Deno.test("a reply lost with its connection is retried with the same key and stores one order", async () => {
  await using t = await startTestServer();
  await using proxy = lossyProxy(t.port);
  const result = await client([
    "--host",
    "127.0.0.1",
    "--port",
    String(proxy.port),
    "--retry",
    "3",
    "--clave",
    "k-perdida",
    ...ANA,
  ]);
  assert.equal(result.code, EXIT.ok, result.stderr);
  assert.match(result.stderr, /cerró la conexión → reintento 1 de 3/);
  assert.equal(result.stdout, "✅ Pedido ya registrado #1\n");
  assert.equal(await count(t.db, (o) => o.clave === "k-perdida"), 1);
  assert.equal(await count(t.db), 1);
});

/** Runs a command line the client printed, with the real client in place of `pedidos-client`. */
async function shell(command: string): Promise<RunResult> {
  const real = `${shellQuote(Deno.execPath())} run -q -P=client client.ts `;
  const output = await new Deno.Command("sh", {
    args: ["-c", command.replace("pedidos-client ", real)],
    cwd: new URL(".", ROOT).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

Deno.test("a reply that never comes exits 3 and shows the key and the command that resends the order safely", async () => {
  await using t = await startTestServer();
  await using proxy = lossyProxy(t.port, { hold: true });
  const port = String(proxy.port);
  const result = await client([
    "--host",
    "127.0.0.1",
    "--port",
    port,
    "--timeout-ms",
    "300",
    ...ANA,
  ]);
  assert.equal(result.code, EXIT.conexion);
  assert.equal(result.stdout, "");
  const [clave] = (await readOrders(t.db)).map((r) => r.clave);
  const lines = result.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 2, result.stderr);
  assert.equal(lines[0], `pedidos-client: error: 127.0.0.1:${port} no respondió en 300 ms`);
  const hint = "pedidos-client: aviso: sin respuesta: no se sabe si el pedido quedó registrado " +
    `(clave ${clave}); para reenviarlo sin duplicarlo: `;
  assert.ok(lines[1]!.startsWith(hint), lines[1]);
  const command = lines[1]!.slice(hint.length);
  assert.equal(
    command,
    `pedidos-client --host 127.0.0.1 --port ${port} --cliente=Ana --productos=pan,leche ` +
      `--direccion='Calle Falsa 123' --clave=${clave}`,
  );
  const resent = await shell(command);
  assert.equal(resent.code, EXIT.ok, resent.stderr);
  assert.equal(resent.stdout, "✅ Pedido ya registrado #1\n");
  assert.equal(await count(t.db), 1);
});

Deno.test("with --json, each order of a batch left without a reply is a line with its key and the command to resend it", async () => {
  await using t = await startTestServer();
  await using proxy = lossyProxy(t.port, { hold: true });
  const batch = [
    order({ cliente: "O'Higgins" }),
    order({ productos: ["pan, integral", "leche"] }),
  ].map((o) => JSON.stringify(o)).join("\n");
  const result = await client(
    [
      "--host",
      "127.0.0.1",
      "--port",
      String(proxy.port),
      "--timeout-ms",
      "300",
      "--json",
      "-f",
      "-",
    ],
    { stdin: batch },
  );
  assert.equal(result.code, EXIT.conexion);
  const [first, second, summary] = result.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(Object.keys(first), ["linea", "sin_respuesta", "mensaje", "clave", "reintento"]);
  assert.deepEqual([first.linea, second.linea], [1, 2]);
  // The proxy forwards what arrives with the first line, so some are stored, but
  // none was answered; the keys shown are the ones sent.
  const stored = (await readOrders(t.db)).map((r) => r.clave);
  assert.ok(stored.length >= 1);
  for (const clave of stored) assert.ok([first.clave, second.clave].includes(clave), String(clave));
  assert.match(second.clave, /^[0-9a-f-]{36}$/);
  assert.equal(summary.resumen.sin_respuesta, 2);
  assert.match(result.stderr, new RegExp(`línea 2: sin respuesta.*clave ${second.clave}`));
  for (const { reintento } of [first, second]) {
    const resent = await shell(reintento);
    assert.equal(resent.code, EXIT.ok, `${reintento}\n${resent.stderr}`);
  }
  const rows = await readOrders(t.db);
  assert.deepEqual(rows.map(({ cliente, productos, clave }) => ({ cliente, productos, clave })), [
    { cliente: "O'Higgins", productos: ["pan", "leche"], clave: first.clave },
    { cliente: "Ana", productos: ["pan, integral", "leche"], clave: second.clave },
  ]);
});

// ── The real process ────────────────────────────────────────────────────────

Deno.test("the real client: --help exits 0 and lists every flag with its default", async () => {
  const result = await clientProcess(["--help"]);
  assert.equal(result.code, EXIT.ok);
  for (const flag of CLIENT_FLAGS) {
    assert.match(result.stdout, new RegExp(`--${flag.name}\\b`));
    if (flag.default) assert.ok(result.stdout.includes(`por defecto: ${flag.default}`), flag.name);
  }
  assert.match(result.stdout, /Códigos de salida:/);
  const version = await clientProcess(["--version"]);
  assert.equal(version.code, EXIT.ok);
  assert.match(version.stdout, /^pedidos-client \d+\.\d+\.\d+ \(Deno \d+\.\d+\.\d+\)\n$/);
});

Deno.test("the real client: a bad flag exits 2 with one line and a hint", async () => {
  const result = await clientProcess(["--prioridad", "alta"]);
  assert.equal(result.code, EXIT.uso);
  assert.equal(
    result.stderr,
    "pedidos-client: error: opción desconocida: --prioridad (pruebe 'pedidos-client --help')\n",
  );
});

Deno.test("the real client: no listener exits 3 with one line, no stack trace", async () => {
  const port = freePort();
  const result = await clientProcess(["--port", String(port), ...ANA]);
  assert.equal(result.code, EXIT.conexion);
  assert.equal(
    result.stderr,
    `pedidos-client: error: no se pudo conectar a localhost:${port}: ::1: conexión rechazada; 127.0.0.1: conexión rechazada\n`,
  );
});

Deno.test("the real client reads PEDIDOS_PORT with the client permission set", async () => {
  await using t = await startTestServer();
  const result = await clientProcess([...ANA, "--json"], { PEDIDOS_PORT: String(t.port) });
  assert.equal(result.code, EXIT.ok, result.stderr);
  assert.equal(JSON.parse(result.stdout).id, 1);
});
