import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openReadOnlyStore, openSqliteStore, SCHEMA_VERSION } from "./sqlite.ts";

async function withDb(run: (path: string) => void | Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "pedidos-store-" });
  try {
    await run(`${dir}/pedidos.db`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const T0 = Date.UTC(2026, 10, 28, 10, 0, 0, 0);
const pan = { cliente: "Ana", productos: ["pan", "leche"], direccion: "Calle 1", recibido: T0 };

Deno.test("a new database gets the schema, WAL mode and user_version", () =>
  withDb((path) => {
    openSqliteStore(path, "full").close();
    const db = new DatabaseSync(path);
    const pragma = (name: string) => Object.values(db.prepare(`PRAGMA ${name}`).get()!)[0];
    assert.equal(pragma("user_version"), SCHEMA_VERSION);
    assert.equal(pragma("journal_mode"), "wal");
    db.close();
  }));

Deno.test("inserts and state changes commit together and read back as stored", () =>
  withDb((path) => {
    const store = openSqliteStore(path, "normal");
    const ids = store.commit([pan, { ...pan, cliente: "Bruno", clave: "k1" }], []);
    assert.deepEqual(ids, [1, 2]);
    store.commit([], [{ tipo: "inicio", id: 1, worker: 3, inicio: T0 + 10 }]);
    assert.deepEqual(store.findById(1), {
      id: 1,
      cliente: "Ana",
      productos: ["pan", "leche"],
      direccion: "Calle 1",
      estado: "en proceso",
      fecha_recibido: "2026-11-28T10:00:00.000Z",
      fecha_inicio: "2026-11-28T10:00:00.010Z",
      fecha_fin: null,
      duracion: null,
      worker: 3,
      intentos: 1,
      motivo_fallo: null,
    });
    store.commit([], [{ tipo: "fin", id: 1, worker: 3, inicio: T0 + 10, fin: T0 + 2011 }]);
    const done = store.findById(1)!;
    assert.equal(done.estado, "listo");
    assert.equal(done.fecha_fin, "2026-11-28T10:00:02.011Z");
    assert.equal(done.duracion, 2.001);
    assert.equal(store.findIdByKey("k1"), 2);
    assert.equal(store.findIdByKey("nope"), undefined);
    assert.deepEqual(store.unfinished().map((o) => o.id), [2]);
    store.close();
  }));

Deno.test("a retry goes back to en cola and a failure records its reason and duration", () =>
  withDb((path) => {
    const store = openSqliteStore(path, "normal");
    store.commit([pan], [{ tipo: "inicio", id: 1, worker: 1, inicio: T0 }]);
    store.commit([], [{ tipo: "reintento", id: 1, motivo: "el worker falló" }]);
    assert.equal(store.findById(1)!.estado, "en cola");
    store.commit([], [
      { tipo: "inicio", id: 1, worker: 2, inicio: T0 + 1000 },
      { tipo: "fallo", id: 1, motivo: "tiempo agotado", fin: T0 + 1500 },
    ]);
    const failed = store.findById(1)!;
    assert.equal(failed.estado, "fallido");
    assert.equal(failed.intentos, 2);
    assert.equal(failed.motivo_fallo, "tiempo agotado");
    assert.equal(failed.duracion, 0.5);
    assert.deepEqual(store.unfinished(), []);
    store.close();
  }));

Deno.test("a failing batch rolls back entirely: no partial order is left", () =>
  withDb((path) => {
    const store = openSqliteStore(path, "normal");
    store.commit([{ ...pan, clave: "k" }], []);
    assert.throws(() => store.commit([pan, { ...pan, clave: "k" }], []), /UNIQUE/);
    assert.deepEqual([...store.rows()].map((row) => row.id), [1]);
    store.close();
  }));

Deno.test("strings are stored through bound parameters, exactly as given", () =>
  withDb((path) => {
    const store = openSqliteStore(path, "normal");
    const tricky = "Robert'); DROP TABLE pedidos;-- \u200f🍕 e\u0301";
    const [id] = store.commit([{ ...pan, cliente: tricky, productos: [tricky, '"'] }], []);
    const stored = store.findById(id!)!;
    assert.equal(stored.cliente, tricky);
    assert.deepEqual(stored.productos, [tricky, '"']);
    store.close();
  }));

Deno.test("the read-only store reads while a writer is open, and refuses a foreign file", () =>
  withDb(async (path) => {
    const store = openSqliteStore(path, "full");
    store.commit([pan, pan], []);
    const reader = openReadOnlyStore(path);
    assert.equal([...reader.rows()].length, 2);
    reader.close();
    store.close();
    const other = path.replace("pedidos.db", "otra.db");
    const db = new DatabaseSync(other);
    db.exec("CREATE TABLE x (y)");
    db.close();
    assert.throws(() => openReadOnlyStore(other), /no es una base de datos de pedidos/);
    await Deno.remove(other);
  }));

Deno.test("a database from a newer version is refused rather than misread", () =>
  withDb((path) => {
    const db = new DatabaseSync(path);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(() => openSqliteStore(path, "full"), /más nuevo/);
  }));
