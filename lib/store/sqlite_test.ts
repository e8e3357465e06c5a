/**
 * What only the SQLite backend has: the file's format (schema version, WAL,
 * the seed's columns), its statements, its lock and how it refuses files it
 * does not own. What every backend must do is in `sqlite_contract_test.ts`.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  openSqliteReader,
  openSqliteStore,
  SCHEMA_VERSION,
  sqliteIntegrityCheck,
} from "./sqlite.ts";
import { DatabaseInUseError } from "./sqlite_lock.ts";

async function withDb(run: (path: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "pedidos-store-" });
  try {
    await run(`${dir}/pedidos.db`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const T0 = Date.UTC(2026, 10, 28, 10, 0, 0, 0);
const pan = { cliente: "Ana", productos: ["pan", "leche"], direccion: "Calle 1", recibido: T0 };

Deno.test("a new database gets the seed's columns, WAL mode and user_version", () =>
  withDb(async (path) => {
    await (await openSqliteStore(path, "full")).close();
    const db = new DatabaseSync(path);
    const pragma = (name: string) => Object.values(db.prepare(`PRAGMA ${name}`).get()!)[0];
    assert.equal(pragma("user_version"), SCHEMA_VERSION);
    assert.equal(pragma("journal_mode"), "wal");
    const columns = db.prepare("PRAGMA table_info(pedidos)").all().map((c) => c.name);
    db.close();
    assert.deepEqual(columns, [
      "id",
      "cliente",
      "productos",
      "direccion",
      "estado",
      "fecha_recibido",
      "fecha_inicio",
      "fecha_fin",
      "duracion",
      "worker",
      "intentos",
      "motivo_fallo",
      "clave",
      "resultado",
    ]);
    assert.equal(sqliteIntegrityCheck(path), "ok");
  }));

Deno.test("every column is stored as the seed's tools read it: ISO dates, JSON products, seconds", () =>
  withDb(async (path) => {
    const store = await openSqliteStore(path, "normal");
    await store.commit([pan], [
      { tipo: "inicio", id: 1, worker: 3, inicio: T0 + 10 },
      { tipo: "fin", id: 1, worker: 3, inicio: T0 + 10, fin: T0 + 2011 },
    ]);
    await store.close();
    const db = new DatabaseSync(path, { readOnly: true });
    const row = { ...db.prepare("SELECT * FROM pedidos").get() };
    db.close();
    assert.deepEqual(row, {
      id: 1,
      cliente: "Ana",
      productos: '["pan","leche"]',
      direccion: "Calle 1",
      estado: "listo",
      fecha_recibido: "2026-11-28T10:00:00.000Z",
      fecha_inicio: "2026-11-28T10:00:00.010Z",
      fecha_fin: "2026-11-28T10:00:02.011Z",
      duracion: 2.001,
      worker: 3,
      intentos: 1,
      motivo_fallo: null,
      clave: null,
      resultado: null,
    });
  }));

Deno.test("a version 1 database gains the resultado column and keeps its orders", () =>
  withDb(async (path) => {
    const db = new DatabaseSync(path);
    db.exec(`
      CREATE TABLE pedidos (
        id INTEGER PRIMARY KEY, cliente TEXT NOT NULL, productos TEXT NOT NULL,
        direccion TEXT NOT NULL, estado TEXT NOT NULL DEFAULT 'en cola',
        fecha_recibido TEXT NOT NULL, fecha_inicio TEXT, fecha_fin TEXT, duracion REAL,
        worker INTEGER, intentos INTEGER NOT NULL DEFAULT 0, motivo_fallo TEXT,
        clave TEXT UNIQUE
      );
      INSERT INTO pedidos (cliente, productos, direccion, estado, fecha_recibido)
        VALUES ('Ana', '["pan"]', 'Calle 1', 'listo', '2026-11-28T10:00:00.000Z');
      PRAGMA user_version = 1;
    `);
    db.close();
    const store = await openSqliteStore(path, "normal");
    assert.equal(store.schemaVersion, 2);
    const old = (await store.findById(1))!;
    assert.equal(old.cliente, "Ana");
    assert.equal(old.resultado, null);
    await store.close();
  }));

Deno.test("strings are stored through bound parameters, exactly as given", () =>
  withDb(async (path) => {
    const store = await openSqliteStore(path, "normal");
    const tricky = "Robert'); DROP TABLE pedidos;-- \u200f🍕 e\u0301";
    const [inserted] = await store.commit(
      [{ ...pan, cliente: tricky, productos: [tricky, '"'] }],
      [],
    );
    const stored = (await store.findById(inserted!.id!))!;
    assert.equal(stored.cliente, tricky);
    assert.deepEqual(stored.productos, [tricky, '"']);
    await store.close();
  }));

Deno.test("a prefix filter matches exactly: no LIKE wildcards, no case folding", () =>
  withDb(async (path) => {
    const store = await openSqliteStore(path, "normal");
    await store.commit(
      ["a%b-1", "aXb-2", "A%B-3", "a%b-4"].map((cliente) => ({ ...pan, cliente })),
      [],
    );
    const found = await Array.fromAsync(store.orders({ clientePrefix: "a%b-" }));
    assert.deepEqual(found.map((order) => order.cliente), ["a%b-1", "a%b-4"]);
    assert.equal(await store.count({ clientePrefix: "a_b" }), 0);
    await store.close();
  }));

Deno.test("a second writer on the same file is refused until the first closes", () =>
  withDb(async (path) => {
    const first = await openSqliteStore(path, "normal");
    await assert.rejects(openSqliteStore(path, "normal"), DatabaseInUseError);
    await first.close();
    await first.close();
    await (await openSqliteStore(path, "normal")).close();
  }));

Deno.test("the reader refuses a missing file and a foreign database", () =>
  withDb(async (path) => {
    await assert.rejects(openSqliteReader(path));
    const db = new DatabaseSync(path);
    db.exec("CREATE TABLE x (y)");
    db.close();
    await assert.rejects(openSqliteReader(path), /no es una base de datos de pedidos/);
  }));

Deno.test("a database from a newer version is refused rather than misread", () =>
  withDb(async (path) => {
    const db = new DatabaseSync(path);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    await assert.rejects(openSqliteStore(path, "full"), /más nuevo/);
    await assert.rejects(openSqliteReader(path), /más nuevo/);
  }));
