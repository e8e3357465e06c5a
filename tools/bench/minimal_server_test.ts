import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { writeAll } from "../../lib/util/net.ts";
import { LineReader } from "../../lib/wire/lines.ts";
import { runScript, tempDir } from "../../tests/helpers.ts";
import { OrderGenerator } from "../load/orders.ts";
import { startMinimalServer } from "./minimal_server.ts";

const HOST = "127.0.0.1";
const encoder = new TextEncoder();
const PERMISSIONS = ["--allow-net", "--allow-read", "--allow-write"];

interface StoredRow {
  id: number;
  cliente: string;
  productos: string;
  direccion: string;
  fecha_recibido: string;
}

function rows(db: string): StoredRow[] {
  const reader = new DatabaseSync(db, { readOnly: true });
  try {
    return reader.prepare("SELECT * FROM pedidos ORDER BY id").all() as unknown as StoredRow[];
  } finally {
    reader.close();
  }
}

/** A connection past its greeting. */
async function connect(port: number) {
  const conn = await Deno.connect({ hostname: HOST, port });
  const lines = new LineReader(conn);
  const greeting = JSON.parse((await lines.readLine())!);
  return { conn, lines, greeting };
}

Deno.test("the minimal server greets like the real one, and answers each line in order with an id or its code", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/m.db`;
  {
    await using server = startMinimalServer({ hostname: HOST, port: 0, db });
    const { conn, lines, greeting } = await connect(server.port);
    using _ = conn;
    assert.equal(greeting.ok, true);
    assert.equal(greeting.tipo, "bienvenida");
    const orders = new OrderGenerator("minimo");
    await writeAll(
      conn,
      encoder.encode(
        orders.line(0) +
          '{"cliente":"Ana",,}\n' +
          orders.line(1) +
          '{"cliente":"Ana","productos":[],"direccion":"Calle 1"}\n' +
          "[1,2]\n" +
          '{"cliente":" Eva ","productos":["pan"],"dirección":"Calle 2"}\n',
      ),
    );
    const replies = [];
    for (let i = 0; i < 6; i++) replies.push(JSON.parse((await lines.readLine())!));
    assert.deepEqual(replies.map((r) => r.ok ? r.id : r.codigo), [
      1,
      "json_invalido",
      2,
      "pedido_invalido",
      "json_invalido",
      3,
    ]);
    assert.equal(replies[0].mensaje, "✅ Pedido encolado #1");
    assert.deepEqual(replies[3].errores, {
      productos: "productos debe tener al menos un producto",
    });
    // Each ok came after its commit: another reader of the file sees the orders now.
    const stored = rows(db);
    assert.deepEqual(
      stored.map(({ id, cliente, productos, direccion }) => [id, cliente, productos, direccion]),
      [
        [1, orders.content(0).cliente, JSON.stringify(orders.content(0).productos), "Calle 1 nº 0"],
        [2, orders.content(1).cliente, JSON.stringify(orders.content(1).productos), "Calle 2 nº 1"],
        [3, "Eva", '["pan"]', "Calle 2"],
      ],
    );
    assert.ok(!Number.isNaN(Date.parse(stored[0]!.fecha_recibido)));
  }
  // The file is in WAL mode (synchronous=FULL belongs to the writer's connection alone).
  const check = new DatabaseSync(db, { readOnly: true });
  try {
    assert.equal(check.prepare("PRAGMA journal_mode").get()?.journal_mode, "wal");
  } finally {
    check.close();
  }
});

Deno.test("orders from many connections in one turn share a commit, and ids continue after a restart", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/m.db`;
  const orders = new OrderGenerator("lote");
  const send = async (port: number, first: number) => {
    const clients = await Promise.all(Array.from({ length: 4 }, () => connect(port)));
    // Each connection sends 300 orders at once: more than one INSERT's rows in a turn.
    await Promise.all(clients.map(({ conn }, c) => {
      let text = "";
      for (let i = 0; i < 300; i++) text += orders.line(first + c * 300 + i);
      return writeAll(conn, encoder.encode(text));
    }));
    const ids: number[] = [];
    for (const { conn, lines } of clients) {
      for (let i = 0; i < 300; i++) {
        const reply = JSON.parse((await lines.readLine())!);
        assert.equal(reply.ok, true, JSON.stringify(reply));
        ids.push(reply.id);
      }
      conn.close();
    }
    return ids;
  };
  {
    await using server = startMinimalServer({ hostname: HOST, port: 0, db });
    const ids = await send(server.port, 0);
    assert.deepEqual(ids.toSorted((a, b) => a - b), Array.from({ length: 1200 }, (_, i) => i + 1));
  }
  await using server = startMinimalServer({ hostname: HOST, port: 0, db });
  const ids = await send(server.port, 1200);
  assert.equal(Math.min(...ids), 1201);
  const stored = rows(db);
  assert.equal(stored.length, 2400);
  for (const row of stored.slice(1200, 1210)) {
    assert.equal(
      orders.indexOf(row.cliente),
      row.id - 1,
      "the order behind each id was the one sent",
    );
  }
});

Deno.test("an overlong line is answered demasiado_grande and closes that connection alone", async () => {
  await using dir = await tempDir();
  await using server = startMinimalServer({ hostname: HOST, port: 0, db: `${dir.path}/m.db` });
  const other = await connect(server.port);
  using _other = other.conn;
  const big = await connect(server.port);
  using _big = big.conn;
  await writeAll(big.conn, encoder.encode(new OrderGenerator("a").line(0) + "x".repeat(70_000)));
  assert.equal(JSON.parse((await big.lines.readLine())!).ok, true);
  assert.equal(JSON.parse((await big.lines.readLine())!).codigo, "demasiado_grande");
  assert.equal(await big.lines.readLine(), null);
  await writeAll(other.conn, encoder.encode(new OrderGenerator("b").line(0)));
  assert.equal(JSON.parse((await other.lines.readLine())!).id, 2);
});

Deno.test("the minimal server's --help and a bad command line are one clear answer each", async () => {
  const help = await runScript("tools/bench/minimal_server.ts", ["--help"], PERMISSIONS);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--db RUTA/);
  const missing = await runScript("tools/bench/minimal_server.ts", ["--port", "0"], PERMISSIONS);
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr.trim().split("\n").length, 1, missing.stderr);
  assert.match(missing.stderr, /--db: falta la base de datos/);
  const port = await runScript("tools/bench/minimal_server.ts", ["--port", "x", "--db", "m"], [
    ...PERMISSIONS,
  ]);
  assert.equal(port.code, 2);
  assert.match(port.stderr, /--port: debe ser un entero entre 0 y 65535/);
});

Deno.test("a database file that is not one stops the minimal server at start with one line", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/no.db`;
  await Deno.writeTextFile(
    db,
    "esto no es una base de datos, pero es lo bastante largo ".repeat(10),
  );
  const run = await runScript("tools/bench/minimal_server.ts", ["--db", db], PERMISSIONS);
  assert.equal(run.code, 1);
  assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
  assert.match(run.stderr, /^servidor mínimo: /);
});
