/**
 * The wire protocol end to end, over real sockets on both loopbacks: the
 * greeting, the legacy client, every framing variant, validation, status,
 * statistics, completion events and reply order.
 *
 * @module
 */
import assert from "node:assert/strict";
import { LOOPBACKS, order, readOrders, startTestServer, TestClient, waitFor } from "./helpers.ts";
import { jsonBytes, orderOfSize, readUntilClosed, row, rows } from "./server_helpers.ts";
import { sqliteExec } from "./sqlite_helpers.ts";

const encoder = new TextEncoder();

for (const host of LOOPBACKS) {
  Deno.test(`the greeting over ${host} is one JSON line under 1024 bytes with the capacity`, async () => {
    await using t = await startTestServer({ max: 4 });
    await using client = await TestClient.connect(t.port, host);
    const line = await client.readLine();
    assert.ok(line !== null);
    assert.ok(encoder.encode(line + "\n").length < 1024, `greeting of ${line.length} chars`);
    const greeting = JSON.parse(line);
    assert.equal(greeting.ok, true);
    assert.equal(greeting.tipo, "bienvenida");
    assert.equal(typeof greeting.mensaje, "string");
    assert.equal(typeof greeting.version, "string");
    assert.deepEqual(greeting.capacidad, { max: 4, libres: 4 });
  });

  Deno.test(`a legacy client over ${host} reads the greeting in one 1024-byte read and gets one reply to a raw object`, async () => {
    await using t = await startTestServer();
    await using client = await TestClient.connect(t.port, host);
    const buffer = new Uint8Array(1024);
    const count = await client.conn.read(buffer);
    assert.ok(count !== null && count < 1024);
    const text = new TextDecoder().decode(buffer.subarray(0, count));
    assert.ok(text.endsWith("\n"), "the whole greeting line arrives in the first read");
    assert.equal(text.indexOf("\n"), text.length - 1, "exactly one line");
    assert.equal(JSON.parse(text).tipo, "bienvenida");

    // The seed's client: the raw object, no newline, then one read of the reply.
    await client.send(JSON.stringify(order({ cliente: "Legado" })));
    const reply = JSON.parse((await client.readLine())!);
    assert.equal(reply.ok, true);
    assert.equal(typeof reply.id, "number");
    assert.equal((await row(t.db, reply.id))?.cliente, "Legado");
  });

  Deno.test(`pipelined NDJSON orders over ${host} get one reply each, in order`, async () => {
    await using t = await startTestServer();
    await using client = await TestClient.open(t.port, host);
    const names = ["Uno", "Dos", "Tres", "Cuatro"];
    await client.send(names.map((cliente) => JSON.stringify(order({ cliente })) + "\n").join(""));
    const replies = await client.readJsons(names.length);
    assert.ok(replies.every((reply) => reply.ok === true));
    const ids = replies.map((reply) => reply.id as number);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b), "ids in request order");
    const stored = await rows(t.db);
    assert.deepEqual(ids.map((id) => stored.find((r) => r.id === id)?.cliente), names);
  });

  Deno.test(`CRLF line ends and blank lines over ${host} are accepted, as telnet sends them`, async () => {
    await using t = await startTestServer();
    await using client = await TestClient.open(t.port, host);
    await client.send(
      "\r\n\r\n" + JSON.stringify(order()) + "\r\n  \r\n" + JSON.stringify(order()) + "\r\n",
    );
    const replies = await client.readJsons(2);
    assert.ok(replies.every((reply) => reply.ok === true), JSON.stringify(replies));
    assert.equal((await rows(t.db)).length, 2);
  });

  Deno.test(`two objects on one line over ${host} are two requests`, async () => {
    await using t = await startTestServer();
    await using client = await TestClient.open(t.port, host);
    await client.send(
      JSON.stringify(order({ cliente: "A" })) + JSON.stringify(order({ cliente: "B" })) + "\n",
    );
    const [a, b] = await client.readJsons(2);
    assert.equal((await row(t.db, a!.id as number))?.cliente, "A");
    assert.equal((await row(t.db, b!.id as number))?.cliente, "B");
  });

  Deno.test(`a pretty-printed multi-line object over ${host} is one request`, async () => {
    await using t = await startTestServer();
    await using client = await TestClient.open(t.port, host);
    await client.send(JSON.stringify(order({ cliente: "Varias líneas" }), null, 2) + "\n");
    const reply = await client.readJson();
    assert.equal(reply.ok, true);
    assert.equal((await row(t.db, reply.id as number))?.cliente, "Varias líneas");
    // Nothing else was answered: the next reply belongs to the next request.
    const next = await client.request({ tipo: "estado", id: reply.id });
    assert.equal(next.ok, true);
  });

  Deno.test(`an order split into single-byte TCP writes over ${host} arrives intact, multi-byte characters included`, async () => {
    await using t = await startTestServer();
    await using client = await TestClient.open(t.port, host);
    client.conn.setNoDelay(true);
    const cliente = "Begoña Ñandú 🍞 שלום";
    const bytes = encoder.encode(JSON.stringify(order({ cliente, productos: ["café", "té"] })));
    for (let i = 0; i < bytes.length; i++) {
      await client.send(bytes.subarray(i, i + 1));
      // Let some bytes go out as separate segments, not all coalesced.
      if (i % 16 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const reply = await client.readJson();
    assert.equal(reply.ok, true, JSON.stringify(reply));
    const stored = (await row(t.db, reply.id as number))!;
    assert.equal(stored.cliente, cliente);
    assert.deepEqual(stored.productos, ["café", "té"]);
  });

  Deno.test(`garbage then a valid order over ${host}: one json_invalido, then the order`, async () => {
    await using t = await startTestServer();
    await using client = await TestClient.open(t.port, host);
    await client.send("hola, ¿esto es JSON?\n" + JSON.stringify(order()) + "\n");
    const [garbage, valid] = await client.readJsons(2);
    assert.equal(garbage!.ok, false);
    assert.equal(garbage!.codigo, "json_invalido");
    assert.equal(typeof garbage!.mensaje, "string");
    assert.equal(valid!.ok, true);
    assert.equal((await rows(t.db)).length, 1);
  });

  Deno.test(`a truncated message over ${host} does not swallow the next line's order`, async () => {
    await using t = await startTestServer();
    await using client = await TestClient.open(t.port, host);
    await client.send('{"cliente": "Ana", "productos": ["pan"\n' + JSON.stringify(order()) + "\n");
    const [truncated, valid] = await client.readJsons(2);
    assert.equal(truncated!.codigo, "json_invalido");
    assert.equal(valid!.ok, true);
  });

  Deno.test(`a line cut off over ${host} is one json_invalido and the next two orders are both stored`, async () => {
    // Room for every order at once: admission limits are not under test here.
    await using t = await startTestServer({ max: 100 });
    await using client = await TestClient.open(t.port, host);
    const cuts = [
      '{"cliente":',
      '{"cliente": "Ana", "productos": [',
      '{"cliente": "Ana", "productos": ["pan",',
      '{"x": {"y":',
    ];
    for (const [index, cut] of cuts.entries()) {
      const b = order({ cliente: `B${index}` });
      const c = order({ cliente: `C${index}` });
      await client.send(`${cut}\n${JSON.stringify(b)}\n${JSON.stringify(c)}\n`);
      const [cutReply, bReply, cReply] = await client.readJsons(3);
      assert.equal(cutReply!.codigo, "json_invalido", cut);
      assert.equal(bReply!.ok, true, `${cut} ${JSON.stringify(bReply)}`);
      assert.equal(cReply!.ok, true, `${cut} ${JSON.stringify(cReply)}`);
      const id = bReply!.id as number;
      assert.equal(cReply!.id, id + 1, cut);
      assert.equal((await row(t.db, id))?.cliente, b.cliente);
      assert.equal((await row(t.db, id + 1))?.cliente, c.cliente);
    }
    assert.deepEqual(
      (await rows(t.db)).map((stored) => stored.cliente),
      cuts.flatMap((_, index) => [`B${index}`, `C${index}`]),
    );
  });

  Deno.test(`non-objects and invalid UTF-8 over ${host} are json_invalido and the connection goes on`, async () => {
    await using t = await startTestServer();
    await using client = await TestClient.open(t.port, host);
    const invalidUtf8 = new Uint8Array([
      ...encoder.encode('{"cliente": "'),
      0xff,
      0xfe,
      ...encoder.encode('", "productos": ["pan"], "direccion": "C"}\n'),
    ]);
    await client.send("[1, 2]\n");
    await client.send('"texto"\n');
    await client.send("{\"cliente\": 'comillas simples'}\n");
    await client.send(invalidUtf8);
    // Valid JSON, but nested deeper than the framer allows.
    await client.send('{"a":' + "[".repeat(40) + "]".repeat(40) + "}\n");
    const replies = await client.readJsons(5);
    assert.deepEqual(replies.map((reply) => reply.codigo), Array(5).fill("json_invalido"));
    assert.equal((await client.request(order())).ok, true);
  });

  Deno.test(`replies over ${host} come in request order for a pipelined mix of requests`, async () => {
    await using t = await startTestServer();
    await using client = await TestClient.open(t.port, host);
    const batch = [
      JSON.stringify(order({ cliente: "Primera" })),
      JSON.stringify({ tipo: "estado", id: 999_999 }),
      "esto no es JSON",
      JSON.stringify(order({ cliente: "" })),
      JSON.stringify({ tipo: "estadisticas" }),
      JSON.stringify({ tipo: "desconocido" }),
      JSON.stringify(order({ cliente: "Segunda" })),
    ].join("\n") + "\n";
    await client.send(batch);
    const replies = await client.readJsons(7);
    assert.deepEqual(replies.map((reply) => reply.ok === true ? "ok" : reply.codigo), [
      "ok",
      "no_encontrado",
      "json_invalido",
      "pedido_invalido",
      "ok",
      "pedido_invalido",
      "ok",
    ]);
    assert.equal((await row(t.db, replies[0]!.id as number))?.cliente, "Primera");
    assert.ok(replies[4]!.estadisticas, "the fifth reply is the statistics");
    assert.equal((await row(t.db, replies[6]!.id as number))?.cliente, "Segunda");
  });
}

Deno.test("an order reaches the same database over IPv4 and IPv6", async () => {
  await using t = await startTestServer();
  await using v4 = await TestClient.open(t.port, "127.0.0.1");
  await using v6 = await TestClient.open(t.port, "::1");
  const reply = await v4.request(order({ cliente: "Cuatro", clave: "cuatro-seis" }));
  const status = await v6.request({ tipo: "estado", id: reply.id, clave: "cuatro-seis" });
  assert.equal(status.ok, true);
  assert.equal((status.pedido as { cliente: string }).cliente, "Cuatro");
});

Deno.test("dirección with the accent is accepted as direccion, but not both at once", async () => {
  await using t = await startTestServer();
  await using client = await TestClient.open(t.port, "::1");
  const seed = { cliente: "Ana", productos: ["pan"], "dirección": "Calle Ñ 1" };
  const reply = await client.request(seed);
  assert.equal(reply.ok, true, JSON.stringify(reply));
  assert.equal((await row(t.db, reply.id as number))?.direccion, "Calle Ñ 1");

  const both = await client.request({ ...seed, direccion: "Calle 2" });
  assert.equal(both.codigo, "pedido_invalido");
  assert.ok((both.errores as Record<string, string>).direccion);
  assert.equal((await rows(t.db)).length, 1);
});

Deno.test("unknown fields are refused, each named in errores", async () => {
  await using t = await startTestServer();
  await using client = await TestClient.open(t.port);
  const reply = await client.request(order({ precio: 3, urgente: true }));
  assert.equal(reply.ok, false);
  assert.equal(reply.codigo, "pedido_invalido");
  const errores = reply.errores as Record<string, string>;
  assert.ok(errores.precio, JSON.stringify(errores));
  assert.ok(errores.urgente, JSON.stringify(errores));
  assert.equal((await rows(t.db)).length, 0);
});

Deno.test("strings are trimmed before they are stored", async () => {
  await using t = await startTestServer();
  await using client = await TestClient.open(t.port);
  const reply = await client.request({
    cliente: "  Ana  ",
    productos: [" pan ", "\tleche "],
    direccion: " Calle Falsa 123 ",
    clave: " k-1 ",
  });
  assert.equal(reply.ok, true);
  const stored = (await row(t.db, reply.id as number))!;
  assert.equal(stored.cliente, "Ana");
  assert.deepEqual(stored.productos, ["pan", "leche"]);
  assert.equal(stored.direccion, "Calle Falsa 123");
  assert.equal(stored.clave, "k-1");
});

Deno.test("invalid orders are pedido_invalido with the offending field named", async () => {
  await using t = await startTestServer();
  await using client = await TestClient.open(t.port);
  const cases: [Record<string, unknown>, string][] = [
    [{ productos: ["pan"], direccion: "C" }, "cliente"],
    [order({ cliente: "   " }), "cliente"],
    [order({ cliente: 42 }), "cliente"],
    [order({ cliente: "a".repeat(201) }), "cliente"],
    [order({ cliente: "Ana\u001b[2J" }), "cliente"],
    [order({ productos: [] }), "productos"],
    [order({ productos: Array.from({ length: 101 }, (_, i) => `p${i}`) }), "productos"],
    [order({ productos: "pan" }), "productos"],
    [order({ productos: ["pan", ""] }), "productos.1"],
    [order({ direccion: undefined }), "direccion"],
    [order({ avisar: "sí" }), "avisar"],
    [order({ clave: "" }), "clave"],
    [{ tipo: "estado", id: "1" }, "id"],
    [{ tipo: "estado", id: 1.5 }, "id"],
    [{ tipo: "estado", id: 0 }, "id"],
    [{ tipo: "compra" }, "tipo"],
  ];
  for (const [message, field] of cases) {
    const reply = await client.request(message);
    assert.equal(reply.codigo, "pedido_invalido", JSON.stringify(message));
    assert.equal(typeof reply.mensaje, "string");
    const errores = reply.errores as Record<string, string>;
    assert.ok(errores[field], `${JSON.stringify(message)} → ${JSON.stringify(errores)}`);
  }
  assert.equal((await rows(t.db)).length, 0);
});

Deno.test("an order of 100 products is accepted and one of 101 is not", async () => {
  await using t = await startTestServer();
  await using client = await TestClient.open(t.port);
  const products = (n: number) => Array.from({ length: n }, (_, i) => `producto ${i}`);
  const hundred = await client.request(order({ productos: products(100) }));
  assert.equal(hundred.ok, true);
  assert.equal((await row(t.db, hundred.id as number))!.productos.length, 100);
  const zero = await client.request(order({ productos: [] }));
  assert.equal(zero.codigo, "pedido_invalido");
  const hundredOne = await client.request(order({ productos: products(101) }));
  assert.equal(hundredOne.codigo, "pedido_invalido");
  assert.equal((await rows(t.db)).length, 1);
});

Deno.test("estado with the order's key returns the stored order, and no_encontrado for an unknown id", async () => {
  await using t = await startTestServer({ workMs: 10 });
  await using client = await TestClient.open(t.port, "::1");
  const reply = await client.request(order({ cliente: "Consulta", avisar: true, clave: "k-c" }));
  await client.readJson(); // the completion event
  const status = await client.request({ tipo: "estado", id: reply.id, clave: "k-c" });
  assert.equal(status.ok, true);
  const pedido = status.pedido as Record<string, unknown>;
  assert.equal(pedido.id, reply.id);
  assert.equal(pedido.cliente, "Consulta");
  assert.deepEqual(pedido.productos, ["pan", "leche"]);
  assert.equal(pedido.estado, "listo");
  assert.equal(pedido.intentos, 1);
  const stored = (await row(t.db, reply.id as number))!;
  assert.equal(pedido.fecha_inicio, stored.fecha_inicio);
  assert.equal(pedido.fecha_fin, stored.fecha_fin);
  assert.equal(pedido.duracion, stored.duracion);
  assert.equal(pedido.worker, stored.worker);

  const missing = await client.request({ tipo: "estado", id: 424_242 });
  assert.equal(missing.ok, false);
  assert.equal(missing.codigo, "no_encontrado");
});

Deno.test("estadisticas reports this run's counts and rejections", async () => {
  await using t = await startTestServer({ workMs: 10 });
  await using client = await TestClient.open(t.port);
  await client.request(order({ avisar: true }));
  await client.readJson(); // finished
  await client.request(order({ cliente: "" }));
  await client.send("basura\n");
  await client.readJson();
  const reply = await client.request({ tipo: "estadisticas" });
  assert.equal(reply.ok, true);
  const stats = reply.estadisticas as Record<string, unknown>;
  assert.equal(stats.recibidos, 1);
  assert.equal(stats.listos, 1);
  assert.equal(stats.fallidos, 0);
  assert.deepEqual(stats.rechazos, { pedido_invalido: 1, json_invalido: 1 });
  assert.ok(stats.duracion !== null);
  assert.equal(Object.values(stats.porWorker as Record<string, number>).reduce((a, b) => a + b), 1);
});

Deno.test("estadisticas carries the processing intervals only when asked for them", async () => {
  await using t = await startTestServer({ workMs: 10 });
  await using client = await TestClient.open(t.port);
  await client.request(order({ avisar: true }));
  await client.readJson(); // finished
  const plain = await client.request({ tipo: "estadisticas" });
  assert.equal((plain.estadisticas as Record<string, unknown>).listos, 1);
  assert.equal("intervalos" in (plain.estadisticas as object), false);
  const full = await client.request({ tipo: "estadisticas", intervalos: true });
  const intervalos = (full.estadisticas as { intervalos: { worker: number }[] }).intervalos;
  assert.equal(intervalos.length, 1);
  assert.equal(typeof intervalos[0]!.worker, "number");
  const bad = await client.request({ tipo: "estadisticas", intervalos: 1 });
  assert.equal(bad.codigo, "pedido_invalido");
});

Deno.test("avisar sends a terminado event without ok after the reply", async () => {
  await using t = await startTestServer({ workMs: 50 });
  await using client = await TestClient.open(t.port, "::1");
  await client.sendLine(order({ cliente: "Avisada", avisar: true }));
  const reply = await client.readJson();
  assert.equal(reply.ok, true);
  assert.equal(typeof reply.id, "number");
  const event = await client.readJson();
  assert.equal(event.evento, "terminado");
  assert.equal(Object.hasOwn(event, "ok"), false, "events never carry ok");
  assert.equal(event.id, reply.id);
  assert.equal(event.estado, "listo");
  assert.equal(typeof event.mensaje, "string");
  const pedido = event.pedido as Record<string, unknown>;
  assert.equal(pedido.estado, "listo");
  assert.equal(pedido.cliente, "Avisada");
  // Sent after the final state was committed: the database already says so.
  assert.equal((await row(t.db, reply.id as number))?.estado, "listo");

  // Without avisar there is no event: the next line is the next reply.
  await client.sendLine(order({ cliente: "Sin aviso" }));
  const second = await client.readJson();
  assert.equal(second.ok, true);
  await waitFor(
    async () => (await row(t.db, second.id as number))?.estado === "listo",
    "the second order",
  );
  const status = await client.request({ tipo: "estado", id: second.id });
  assert.equal(status.ok, true, "the line after the reply is the status reply, not an event");
});

Deno.test("a message over maxBytes gets demasiado_grande and its connection alone is closed", async () => {
  await using t = await startTestServer({ maxBytes: 1024 });
  await using bystander = await TestClient.open(t.port, "::1");
  await using client = await TestClient.open(t.port);
  // A valid order first, in the same write: it is still answered.
  await client.send(
    JSON.stringify(order({ cliente: "Antes" })) + "\n" + JSON.stringify(orderOfSize(2000)) + "\n",
  );
  const first = await client.readJson();
  assert.equal(first.ok, true);
  const tooBig = await client.readJson();
  assert.equal(tooBig.ok, false);
  assert.equal(tooBig.codigo, "demasiado_grande");
  assert.deepEqual(await readUntilClosed(client), [], "closed right after the reply");

  assert.equal((await bystander.request(order({ cliente: "Otro" }))).ok, true);
  assert.deepEqual((await rows(t.db)).map((r) => r.cliente), ["Antes", "Otro"]);
});

Deno.test("a message of exactly maxBytes is accepted and one byte more is demasiado_grande", async () => {
  await using t = await startTestServer({ maxBytes: 1024 });
  const exact = orderOfSize(1024, "Exacto");
  assert.equal(jsonBytes(exact), 1024);
  await using client = await TestClient.open(t.port);
  assert.equal((await client.request(exact)).ok, true);
  // Raw, without a newline, as a legacy client sends it.
  await client.send(JSON.stringify(orderOfSize(1025, "Excede")));
  assert.equal((await client.readJson()).codigo, "demasiado_grande");
  await readUntilClosed(client);
  assert.deepEqual((await rows(t.db)).map((r) => r.cliente), ["Exacto"]);
});

Deno.test("a garbage line longer than maxBytes is demasiado_grande too", async () => {
  await using t = await startTestServer({ maxBytes: 1024 });
  await using client = await TestClient.open(t.port);
  await client.send("x".repeat(3000));
  assert.equal((await client.readJson()).codigo, "demasiado_grande");
  await readUntilClosed(client);
});

Deno.test("an unexpected error answering a request is interno for that request only (SQLite: a row written badly from outside)", async () => {
  await using t = await startTestServer();
  await using client = await TestClient.open(t.port);
  await using other = await TestClient.open(t.port, "::1");
  // A row another tool wrote badly: its productos are not JSON, so reading it fails.
  sqliteExec(
    t.db,
    `INSERT INTO pedidos (id, cliente, productos, direccion, fecha_recibido)
     VALUES (77, 'Roto', 'esto no es JSON', 'Calle 1', '2026-01-01T00:00:00.000Z')`,
  );
  const reply = await client.request({ tipo: "estado", id: 77 });
  assert.equal(reply.ok, false);
  assert.equal(reply.codigo, "interno");
  assert.ok(t.log.lines.some((line) => line.includes("error inesperado")), "logged once");
  // The same connection and the others go on.
  assert.equal((await client.request(order())).ok, true);
  assert.equal((await other.request({ tipo: "estadisticas" })).ok, true);
});

Deno.test("an order the database refuses to store is interno, unacknowledged and not kept (SQLite: a trigger refuses it)", async () => {
  await using t = await startTestServer({ max: 2 });
  sqliteExec(
    t.db,
    `CREATE TRIGGER rechaza BEFORE INSERT ON pedidos WHEN NEW.cliente = 'Rechazado'
     BEGIN SELECT RAISE(ABORT, 'rechazado por la prueba'); END`,
  );
  await using client = await TestClient.open(t.port);
  const refused = await client.request(order({ cliente: "Rechazado" }));
  assert.equal(refused.ok, false);
  assert.equal(refused.codigo, "interno");
  assert.equal(Object.hasOwn(refused, "id"), false);
  assert.deepEqual(await readOrders(t.db, { clientePrefix: "Rechazado" }), []);
  assert.ok(t.log.lines.some((line) => line.includes("no se pudo escribir")));
  // Its permit came back: both permits admit orders.
  await using fresh = await TestClient.open(t.port);
  assert.deepEqual(fresh.bienvenida.capacidad, { max: 2, libres: 2 });
  assert.equal((await client.request(order())).ok, true);
  assert.equal((await client.request(order())).ok, true);
});
