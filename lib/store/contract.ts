/**
 * The store contract: the tests every backend of {@linkcode OrderStore}
 * passes, registered for one backend by {@linkcode storeContract}. A backend
 * provides fresh, empty places to open stores in, and a way to make its
 * transactions fail from the inside; the suite does the rest through the
 * interface alone.
 *
 * @example
 * ```ts
 * storeContract({ name: "SQLite", create: () => sqliteFixture() });
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import type { NewOrder, OrderReader, OrderStore, OrderUpdate, StoredOrder } from "./types.ts";

/** One fresh, empty place for a store of the backend under test. */
export interface StoreFixture extends AsyncDisposable {
  /** Opens the store for writing, as a server does (again after a close, for recovery). */
  open(): Promise<OrderStore>;
  /** Opens the read side alone, as the tools do next to a running server. */
  openReader(): Promise<OrderReader>;
  /**
   * Makes the backend itself refuse, inside its transaction, every later
   * insert or update of an order whose `cliente` is `cliente` (a trigger,
   * for instance), so that a commit fails part-way through.
   */
  refuse(cliente: string): Promise<void>;
}

/** A backend under test. */
export interface StoreBackend {
  /** Names the backend in every test name. */
  name: string;
  create(): Promise<StoreFixture>;
  /** Set when the backend cannot run here; its tests are then ignored, printing this reason. */
  unavailable?: string | undefined;
}

const T0 = Date.UTC(2026, 10, 28, 10, 0, 0, 0);

function pedido(cliente: string, extra: Partial<NewOrder> = {}): NewOrder {
  return { cliente, productos: ["pan", "leche"], direccion: "Calle 1", recibido: T0, ...extra };
}

const listo = (id: number, inicio: number, fin: number, worker = 1): OrderUpdate => ({
  tipo: "fin",
  id,
  worker,
  inicio,
  fin,
});

/** Commits and returns the new ids, asserting none of them was a known key. */
async function insertIds(store: OrderStore, orders: NewOrder[]): Promise<number[]> {
  const inserted = await store.commit(orders, []);
  return inserted.map((one) => {
    assert.equal(one.existing, false, "all new");
    return one.id!;
  });
}

async function all(reader: OrderReader): Promise<StoredOrder[]> {
  return await Array.fromAsync(reader.orders());
}

/**
 * Registers the contract's tests for `backend`, each with a fresh fixture
 * and Deno's sanitizers on.
 */
export function storeContract(backend: StoreBackend): void {
  if (backend.unavailable) {
    console.log(`${backend.name}: contract tests ignored: ${backend.unavailable}`);
  }
  const test = (name: string, fn: (fixture: StoreFixture) => Promise<void>) => {
    Deno.test({
      name: `${backend.name} store: ${name}`,
      ignore: backend.unavailable !== undefined,
      async fn() {
        await using fixture = await backend.create();
        await fn(fixture);
      },
    });
  };
  const withStore = (
    name: string,
    fn: (store: OrderStore, fixture: StoreFixture) => Promise<void>,
  ) =>
    test(name, async (fixture) => {
      const store = await fixture.open();
      try {
        await fn(store, fixture);
      } finally {
        await store.close();
      }
    });

  withStore(
    "ids are given in arrival order, within a batch and from one batch to the next",
    async (store) => {
      const first = await insertIds(store, [pedido("A"), pedido("B"), pedido("C")]);
      const second = await insertIds(store, [pedido("D")]);
      const third = await insertIds(store, Array.from({ length: 150 }, (_, i) => pedido(`E${i}`)));
      const ids = [...first, ...second, ...third];
      for (let i = 1; i < ids.length; i++) assert.ok(ids[i]! > ids[i - 1]!, `id ${i} increases`);
      const stored = await all(store);
      assert.deepEqual(stored.map((order) => order.id), ids);
      assert.deepEqual(
        stored.slice(0, 4).map((order) => order.cliente),
        ["A", "B", "C", "D"],
      );
      assert.deepEqual(await store.commit([], []), []);
    },
  );

  withStore(
    "a new order reads back as sent, en cola, with no times, worker or attempts",
    async (store) => {
      const [id] = await insertIds(store, [pedido("Ana", { productos: ["pan", "café ☕"] })]);
      assert.deepEqual(await store.findById(id!), {
        id,
        cliente: "Ana",
        productos: ["pan", "café ☕"],
        direccion: "Calle 1",
        estado: "en cola",
        fecha_recibido: "2026-11-28T10:00:00.000Z",
        fecha_inicio: null,
        fecha_fin: null,
        duracion: null,
        worker: null,
        intentos: 0,
        motivo_fallo: null,
        resultado: null,
      });
      assert.equal(await store.findById(id! + 1000), undefined);
    },
  );

  withStore(
    "a commit is all or nothing: a refused row rejects the batch and keeps none of it",
    async (store, fixture) => {
      const [a, b] = await insertIds(store, [pedido("A"), pedido("B")]);
      await fixture.refuse("Rechazado");
      await assert.rejects(
        store.commit(
          [pedido("Nuevo"), pedido("Rechazado"), pedido("Otro", { clave: "k" })],
          [
            { tipo: "inicio", id: a!, worker: 1, inicio: T0 + 1 },
            listo(b!, T0 + 1, T0 + 2),
          ],
        ),
      );
      const stored = await all(store);
      assert.deepEqual(stored.map((order) => [order.cliente, order.estado]), [
        ["A", "en cola"],
        ["B", "en cola"],
      ]);
      assert.equal(await store.findIdByKey("k"), undefined, "the failed batch's key is free");
      // The store goes on: the next batch commits, with ids still increasing.
      const [c] = await insertIds(store, [pedido("C", { clave: "k" })]);
      assert.ok(c! > b!);
      assert.equal(await store.findIdByKey("k"), c);
    },
  );

  withStore(
    "a refused state change rejects its batch, inserts included, and leaves the order as it was",
    async (store, fixture) => {
      const [refused, other] = await insertIds(store, [pedido("Rechazado"), pedido("Otro")]);
      await fixture.refuse("Rechazado");
      await assert.rejects(
        store.commit([pedido("Nuevo")], [
          listo(other!, T0 + 1, T0 + 2),
          listo(refused!, T0 + 1, T0 + 2),
        ]),
      );
      const stored = await all(store);
      assert.deepEqual(stored.map((order) => [order.cliente, order.estado]), [
        ["Rechazado", "en cola"],
        ["Otro", "en cola"],
      ]);
    },
  );

  withStore(
    "at most one order per idempotency key, in one batch and across batches",
    async (store) => {
      const first = await store.commit(
        [pedido("A", { clave: "k1" }), pedido("B", { clave: "k1" })],
        [],
      );
      assert.equal(first[0]!.existing, false);
      assert.deepEqual(first[1], { id: first[0]!.id, existing: true });
      const [again, fresh, none] = await store.commit([
        pedido("C", { clave: "k1" }),
        pedido("D", { clave: "k2" }),
        pedido("E"),
      ], []);
      assert.deepEqual(again, { id: first[0]!.id, existing: true });
      assert.equal(fresh!.existing, false);
      assert.equal(none!.existing, false);
      assert.ok(fresh!.id > first[0]!.id && none!.id > fresh!.id);
      assert.equal(await store.findIdByKey("k1"), first[0]!.id);
      assert.equal(await store.findIdByKey("k2"), fresh!.id);
      assert.equal(await store.findIdByKey("k3"), undefined);
      const stored = await all(store);
      assert.deepEqual(stored.map((order) => [order.cliente, order.clave]), [
        ["A", "k1"],
        ["D", "k2"],
        ["E", null],
      ]);
    },
  );

  withStore(
    "en cola → en proceso → listo records start, worker, attempts, end and duration",
    async (store) => {
      const [id] = await insertIds(store, [pedido("A")]);
      await store.commit([], [{ tipo: "inicio", id: id!, worker: 3, inicio: T0 + 10 }]);
      const started = (await store.findById(id!))!;
      assert.equal(started.estado, "en proceso");
      assert.equal(started.fecha_inicio, "2026-11-28T10:00:00.010Z");
      assert.equal(started.fecha_fin, null);
      assert.equal(started.duracion, null);
      assert.equal(started.worker, 3);
      assert.equal(started.intentos, 1);
      await store.commit([], [listo(id!, T0 + 10, T0 + 2011, 3)]);
      const done = (await store.findById(id!))!;
      assert.equal(done.estado, "listo");
      assert.equal(done.fecha_inicio, "2026-11-28T10:00:00.010Z");
      assert.equal(done.fecha_fin, "2026-11-28T10:00:02.011Z");
      assert.equal(done.duracion, 2.001);
      assert.equal(done.worker, 3);
      assert.equal(done.intentos, 1);
      assert.equal(done.motivo_fallo, null);
    },
  );

  withStore(
    "a start and its end in one batch are one attempt; changes apply in the order given",
    async (store) => {
      const [a, b] = await insertIds(store, [pedido("A"), pedido("B")]);
      await store.commit([], [
        { tipo: "inicio", id: a!, worker: 1, inicio: T0 },
        { tipo: "inicio", id: b!, worker: 2, inicio: T0 },
        listo(a!, T0, T0 + 500),
        { tipo: "reintento", id: b!, motivo: "el worker falló" },
        { tipo: "inicio", id: b!, worker: 1, inicio: T0 + 600 },
      ]);
      const [first, second] = [(await store.findById(a!))!, (await store.findById(b!))!];
      assert.deepEqual([first.estado, first.intentos, first.duracion], ["listo", 1, 0.5]);
      assert.deepEqual(
        [second.estado, second.intentos, second.worker, second.fecha_inicio],
        ["en proceso", 2, 1, "2026-11-28T10:00:00.600Z"],
      );
    },
  );

  withStore(
    "a processor's result is stored with the end, any JSON value, with its start in the batch or not",
    async (store) => {
      const [a, b, c] = await insertIds(store, [pedido("A"), pedido("B"), pedido("C")]);
      await store.commit([], [{ tipo: "inicio", id: a!, worker: 1, inicio: T0 }]);
      const recibo = { pago: "p-1", "línea": "a\nb", total: 3.5, lista: [1, null] };
      await store.commit([], [
        {
          tipo: "fin",
          id: a!,
          worker: 1,
          inicio: T0,
          fin: T0 + 5,
          resultado: JSON.stringify(recibo),
        },
        { tipo: "inicio", id: b!, worker: 2, inicio: T0 },
        { tipo: "fin", id: b!, worker: 2, inicio: T0, fin: T0 + 5, resultado: '"hecho"' },
        { tipo: "inicio", id: c!, worker: 3, inicio: T0 },
        listo(c!, T0, T0 + 5, 3),
      ]);
      assert.deepEqual((await store.findById(a!))!.resultado, recibo);
      assert.equal((await store.findById(b!))!.resultado, "hecho");
      assert.equal((await store.findById(c!))!.resultado, null);
      const read = await all(store);
      assert.deepEqual(read.map((order) => order.resultado), [recibo, "hecho", null]);
    },
  );

  withStore(
    "a retry goes back to en cola with its reason; a failure records end, reason and duration from the last start",
    async (store) => {
      const [id] = await insertIds(store, [pedido("A")]);
      await store.commit([], [{ tipo: "inicio", id: id!, worker: 1, inicio: T0 }]);
      await store.commit([], [{ tipo: "reintento", id: id!, motivo: "el worker falló" }]);
      const retried = (await store.findById(id!))!;
      assert.equal(retried.estado, "en cola");
      assert.equal(retried.motivo_fallo, "el worker falló");
      await store.commit([], [
        { tipo: "inicio", id: id!, worker: 2, inicio: T0 + 1000 },
        { tipo: "fallo", id: id!, motivo: "tiempo agotado", fin: T0 + 1500 },
      ]);
      const failed = (await store.findById(id!))!;
      assert.equal(failed.estado, "fallido");
      assert.equal(failed.intentos, 2);
      assert.equal(failed.worker, 2);
      assert.equal(failed.motivo_fallo, "tiempo agotado");
      assert.equal(failed.fecha_fin, "2026-11-28T10:00:01.500Z");
      assert.equal(failed.duracion, 0.5);
    },
  );

  withStore(
    "an order that fails without ever starting has an end but no duration",
    async (store) => {
      const [id] = await insertIds(store, [pedido("A")]);
      await store.commit([], [{ tipo: "fallo", id: id!, motivo: "sin worker", fin: T0 + 5 }]);
      const failed = (await store.findById(id!))!;
      assert.deepEqual(
        [failed.estado, failed.fecha_inicio, failed.fecha_fin, failed.duracion, failed.intentos],
        ["fallido", null, "2026-11-28T10:00:00.005Z", null, 0],
      );
    },
  );

  withStore("an empty store has no backlog, and finished orders leave it", async (store) => {
    assert.deepEqual(await store.backlog(), { count: 0, newestId: 0 });
    const [first, second] = await insertIds(store, [pedido("A"), pedido("B")]);
    assert.deepEqual(await store.backlog(), { count: 2, newestId: second });
    await store.commit([], [{ tipo: "fallo", id: second!, motivo: "x", fin: T0 }]);
    assert.deepEqual(await store.backlog(), { count: 1, newestId: first });
  });

  test("orders left en cola or en proceso are the backlog after reopening, read by id in ranges, with their attempts", async (fixture) => {
    const store = await fixture.open();
    const [queued, running, done, failed, retried] = await insertIds(
      store,
      ["en cola", "en proceso", "listo", "fallido", "reintentado"].map((name) => pedido(name)),
    );
    await store.commit([], [
      { tipo: "inicio", id: running!, worker: 1, inicio: T0 },
      { tipo: "inicio", id: done!, worker: 2, inicio: T0 },
      listo(done!, T0, T0 + 1, 2),
      { tipo: "fallo", id: failed!, motivo: "x", fin: T0 },
      { tipo: "inicio", id: retried!, worker: 1, inicio: T0 },
      { tipo: "reintento", id: retried!, motivo: "y" },
    ]);
    await store.close();
    const reopened = await fixture.open();
    try {
      assert.deepEqual(await reopened.backlog(), { count: 3, newestId: retried });
      const all = { after: 0, through: retried!, limit: 10 };
      const unfinished = await reopened.unfinished(all);
      assert.deepEqual(unfinished.map((order) => order.id), [queued, running, retried]);
      const firstTwo = await reopened.unfinished({ ...all, limit: 2 });
      assert.deepEqual(firstTwo.map((order) => order.id), [queued, running]);
      const rest = await reopened.unfinished({ ...all, after: running! });
      assert.deepEqual(rest.map((order) => order.id), [retried], "after skips what was read");
      const bounded = await reopened.unfinished({ ...all, through: running! });
      assert.deepEqual(bounded.map((order) => order.id), [queued, running], "through bounds it");
      assert.deepEqual(unfinished.map((order) => order.intentos), [0, 1, 1]);
      assert.deepEqual(unfinished.map((order) => order.productos), [
        ["pan", "leche"],
        ["pan", "leche"],
        ["pan", "leche"],
      ]);
      // New orders after a restart still get greater ids.
      const [next] = await insertIds(reopened, [pedido("después")]);
      assert.ok(next! > retried!);
    } finally {
      await reopened.close();
    }
  });

  withStore(
    "the read side filters by id, key, client prefix and state, counts, and streams statistics rows",
    async (store) => {
      const [a, b, c] = await insertIds(store, [
        pedido("carga-1"),
        pedido("carga-2", { clave: "k" }),
        pedido("otra-1"),
      ]);
      await store.commit([], [
        { tipo: "inicio", id: a!, worker: 1, inicio: T0 },
        listo(a!, T0, T0 + 1000),
        { tipo: "inicio", id: c!, worker: 2, inicio: T0 + 5 },
      ]);
      const names = async (filter: Parameters<OrderReader["orders"]>[0]) =>
        (await Array.fromAsync(store.orders(filter))).map((order) => order.cliente);
      assert.deepEqual(await names({ clientePrefix: "carga-" }), ["carga-1", "carga-2"]);
      assert.deepEqual(await names({ id: c! }), ["otra-1"]);
      assert.deepEqual(await names({ clave: "k" }), ["carga-2"]);
      assert.deepEqual(await names({ estados: ["en cola", "en proceso"] }), ["carga-2", "otra-1"]);
      assert.deepEqual(await names({ clientePrefix: "carga-", estados: ["listo"] }), ["carga-1"]);
      assert.deepEqual(await names({ estados: [] }), []);
      assert.equal(await store.count(), 3);
      assert.equal(await store.count({ estados: ["en proceso"] }), 1);
      assert.deepEqual(await Array.fromAsync(store.statsRows()), [
        {
          id: a,
          estado: "listo",
          worker: 1,
          fecha_inicio: "2026-11-28T10:00:00.000Z",
          fecha_fin: "2026-11-28T10:00:01.000Z",
        },
        { id: b, estado: "en cola", worker: null, fecha_inicio: null, fecha_fin: null },
        {
          id: c,
          estado: "en proceso",
          worker: 2,
          fecha_inicio: "2026-11-28T10:00:00.005Z",
          fecha_fin: null,
        },
      ]);
    },
  );

  withStore(
    "a reader opened beside the writer sees every committed change",
    async (store, fixture) => {
      const [id] = await insertIds(store, [pedido("A")]);
      const reader = await fixture.openReader();
      try {
        assert.deepEqual((await all(reader)).map((order) => order.estado), ["en cola"]);
        await store.commit([pedido("B")], [listo(id!, T0, T0 + 1)]);
        assert.deepEqual((await all(reader)).map((order) => order.estado), ["listo", "en cola"]);
        assert.equal(await reader.count({ estados: ["listo"] }), 1);
      } finally {
        await reader.close();
      }
    },
  );
}
