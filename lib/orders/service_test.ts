/**
 * The order service with plain fakes around it: an in-memory store, a
 * committer whose batches commit when the test says so, a pool that only
 * records what it is given, and a semaphore that counts its releases.
 */
import assert from "node:assert/strict";
import { createLogger } from "../util/log.ts";
import type { FinishedEvent, OrderView, Reply } from "../wire/protocol.ts";
import type { Inserted, NewOrder, OrderUpdate } from "../store/types.ts";
import type { PoolEvents, PoolJob } from "./pool.ts";
import { AdmissionSemaphore } from "./semaphore.ts";
import {
  type DrainedPool,
  type OrderCommitter,
  type OrderListener,
  type OrderPool,
  OrderService,
} from "./service.ts";

const T0 = Date.UTC(2026, 10, 28, 10, 0, 0, 0);
const ORDER = { cliente: "Ana", productos: ["pan"], direccion: "Calle 1" };

/** Orders in memory, as the committer left them. */
class FakeStore {
  readonly orders = new Map<number, OrderView>();
  readonly keys = new Map<string, number>();
  lookups = 0;
  /** While set, key lookups wait for it. */
  gate: Promise<void> | undefined;

  findById(id: number): Promise<OrderView | undefined> {
    const order = this.orders.get(id);
    return Promise.resolve(order && structuredClone(order));
  }

  async findIdByKey(clave: string): Promise<number | undefined> {
    this.lookups++;
    await this.gate;
    return this.keys.get(clave);
  }

  /** Stores an order as a previous run would have left it. */
  put(id: number, changes: Partial<OrderView> = {}, clave?: string): void {
    this.orders.set(id, {
      id,
      ...ORDER,
      estado: "en cola",
      fecha_recibido: new Date(T0).toISOString(),
      fecha_inicio: null,
      fecha_fin: null,
      duracion: null,
      worker: null,
      intentos: 0,
      motivo_fallo: null,
      resultado: null,
      ...changes,
    });
    if (clave !== undefined) this.keys.set(clave, id);
  }
}

interface Pending<T, R> {
  value: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/** Group commit by hand: writes wait until `commit()` applies them to the store. */
class FakeCommitter implements OrderCommitter {
  readonly #store: FakeStore;
  #nextId = 1;
  inserts: Pending<NewOrder, Inserted>[] = [];
  updates: Pending<OrderUpdate, void>[] = [];
  batches = 0;
  /** Clients whose orders the store refuses, as a cluster's full limit would. */
  readonly refusing = new Set<string>();

  constructor(store: FakeStore) {
    this.#store = store;
  }

  insert(value: NewOrder): Promise<Inserted> {
    const { promise, resolve, reject } = Promise.withResolvers<Inserted>();
    this.inserts.push({ value, resolve, reject });
    return promise;
  }

  update(value: OrderUpdate): Promise<void> {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.updates.push({ value, resolve, reject });
    return promise;
  }

  /** Commits every pending write as one batch, then lets the service react. */
  async commit(): Promise<void> {
    const [inserts, updates] = [this.inserts, this.updates];
    this.inserts = [];
    this.updates = [];
    this.batches++;
    const results = inserts.map(({ value }): Inserted => {
      if (this.refusing.has(value.cliente)) return { refused: "limite" };
      const known = value.clave === undefined ? undefined : this.#store.keys.get(value.clave);
      if (known !== undefined) return { id: known, existing: true };
      const id = this.#nextId++;
      this.#store.put(id, { cliente: value.cliente }, value.clave);
      return { id, existing: false };
    });
    for (const { value } of updates) this.#apply(value);
    inserts.forEach((pending, i) => pending.resolve(results[i]!));
    for (const pending of updates) pending.resolve();
    await settle();
  }

  /** Fails the pending inserts (a real committer would retry the updates). */
  async failInserts(): Promise<void> {
    for (const pending of this.inserts) pending.reject(new Error("disco lleno"));
    this.inserts = [];
    await settle();
  }

  close(): Promise<number> {
    const lost = this.updates.length;
    for (const pending of this.updates) pending.reject(new Error("cerrada"));
    this.updates = [];
    return Promise.resolve(lost);
  }

  #apply(update: OrderUpdate) {
    const order = this.#store.orders.get(update.id)!;
    switch (update.tipo) {
      case "inicio":
        Object.assign(order, { estado: "en proceso", worker: update.worker });
        order.intentos++;
        return;
      case "fin":
        Object.assign(order, {
          estado: "listo",
          fecha_fin: new Date(update.fin).toISOString(),
          duracion: (update.fin - update.inicio) / 1000,
          resultado: update.resultado === undefined ? null : JSON.parse(update.resultado),
        });
        return;
      case "reintento":
        Object.assign(order, { estado: "en cola", motivo_fallo: update.motivo });
        return;
      case "fallo":
        Object.assign(order, { estado: "fallido", motivo_fallo: update.motivo });
        return;
    }
  }
}

/** A pool that records its jobs; the test plays the workers through `events`. */
class FakePool implements OrderPool {
  readonly jobs: PoolJob[] = [];
  events!: PoolEvents;
  busy = 0;
  queued = 0;
  busyWorkers = 0;
  size = 1;
  /** What `recover` finds: orders a previous run left unfinished. */
  left = 0;

  submit(job: PoolJob): void {
    this.jobs.push(job);
  }

  recover(): Promise<number> {
    return Promise.resolve(this.left);
  }

  drain(): Promise<DrainedPool> {
    return Promise.resolve({ abandoned: 0, queued: 0 });
  }

  /** Runs job `id` to `listo` on worker 1. */
  finish(id: number): void {
    const job = this.jobs.find((job) => job.id === id)!;
    this.events.onStart(job, 1, T0);
    this.events.onDone(job, 1, { id, inicio: T0, fin: T0 + 20 });
  }
}

/** A listener that behaves as a connection does: one notice per order. */
class FakeListener implements OrderListener {
  open = true;
  readonly watched: number[] = [];
  readonly events: FinishedEvent[] = [];

  wants(id: number): boolean {
    return !this.watched.includes(id) && !this.events.some((event) => event.id === id);
  }

  watch(id: number): void {
    this.watched.push(id);
  }

  notify(event: FinishedEvent): void {
    this.events.push(event);
  }
}

/** Lets every promise chain that can run, run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

const CLUSTER_FIGURES = {
  instancia: "a",
  instancias: ["a"],
  limite: 2,
  enUso: 0,
  enCola: 0,
  enProceso: 0,
};

/** The real semaphore, counting how many permits were given back. */
class CountedSemaphore extends AdmissionSemaphore {
  released = 0;

  override release(): void {
    super.release();
    this.released++;
  }
}

/** The service with fakes around it; with `cluster`, as a server of a cluster sees it. */
function setup(max = 2, options: { cluster?: boolean } = {}) {
  const store = new FakeStore();
  const committer = new FakeCommitter(store);
  const pool = new FakePool();
  const semaphore = new CountedSemaphore(max);
  const lines: string[] = [];
  const service = new OrderService({
    store,
    committer,
    semaphore,
    createPool: (events) => {
      pool.events = events;
      return pool;
    },
    log: createLogger("normal", "prueba", (line) => lines.push(line)),
    ...(options.cluster ? { cluster: { figures: () => CLUSTER_FIGURES } } : {}),
  });
  const released = () => semaphore.released;
  return { service, store, committer, pool, released, lines };
}

/** Whether a promise has settled yet. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(() => done = true, () => done = true);
  await settle();
  return done;
}

Deno.test("an order is answered only after its insert commits, then queued with the store's id", async () => {
  const { service, committer, pool } = setup();
  const reply = service.submit(ORDER);
  assert.equal(await settled(reply), false, "no reply before the commit");
  assert.equal(pool.jobs.length, 0, "nothing queued before the commit");
  const { recibido } = committer.inserts[0]!.value;
  await committer.commit();
  assert.deepEqual(await reply, { ok: true, id: 1, mensaje: "✅ Pedido encolado #1" });
  // The worker sees the order as stored, with the time it was received; so
  // does the pool, for queue wait.
  assert.deepEqual(pool.jobs, [{ id: 1, pedido: { ...ORDER, recibido }, intentos: 0, recibido }]);
  assert.equal(service.statistics({ intervalos: false }).snapshot.recibidos, 1);
});

Deno.test("orders submitted one after another reach the committer in that order", async () => {
  const { service, committer } = setup(5);
  const replies = ["A", "B", { clave: "k" }, "C"].map((extra) =>
    service.submit(
      typeof extra === "string" ? { ...ORDER, cliente: extra } : { ...ORDER, ...extra },
    )
  );
  assert.deepEqual(committer.inserts.map((p) => p.value.cliente), ["A", "B", "Ana", "C"]);
  await committer.commit();
  assert.deepEqual((await Promise.all(replies)).map((reply) => reply.ok && reply.id), [1, 2, 3, 4]);
});

Deno.test("a failed insert is answered interno and its permit comes back at once, once", async () => {
  const { service, committer, released } = setup(1);
  const reply = service.submit(ORDER);
  assert.equal(service.capacity.libres, 0);
  await committer.failInserts();
  const answer = await reply;
  assert.equal(answer.ok, false);
  assert.equal(!answer.ok && answer.codigo, "interno");
  assert.equal(service.capacity.libres, 1);
  assert.equal(released(), 1);
  assert.equal(service.statistics({ intervalos: false }).snapshot.rechazos["interno"], 1);
});

Deno.test("without a free permit an order is limite, but a known key still gets its order", async () => {
  const { service, committer, store } = setup(1);
  service.submit(ORDER);
  await committer.commit();
  store.put(7, { estado: "listo" }, "conocida");
  const refused = await service.submit({ ...ORDER, cliente: "B" });
  assert.equal(!refused.ok && refused.codigo, "limite");
  assert.deepEqual(await service.submit({ ...ORDER, clave: "conocida" }), {
    ok: true,
    id: 7,
    duplicado: true,
    mensaje: "✅ Pedido ya registrado #7",
  });
  assert.equal(!(await service.submit({ ...ORDER, clave: "nueva" })).ok, true);
});

Deno.test("a key the store already holds is a duplicate: nothing queued, the permit given back", async () => {
  const { service, committer, store, pool, released } = setup(1);
  store.put(7, { estado: "listo" }, "vieja");
  const reply = service.submit({ ...ORDER, clave: "vieja" });
  await committer.commit();
  assert.deepEqual(await reply, {
    ok: true,
    id: 7,
    duplicado: true,
    mensaje: "✅ Pedido ya registrado #7",
  });
  assert.equal(pool.jobs.length, 0);
  assert.equal(released(), 1);
  assert.equal(service.capacity.libres, 1);
  assert.equal(service.statistics({ intervalos: false }).snapshot.recibidos, 0);
});

Deno.test("the same new key twice before the first commits makes one order", async () => {
  const { service, committer, pool } = setup(3);
  const first = service.submit({ ...ORDER, clave: "k" });
  const second = service.submit({ ...ORDER, clave: "k" });
  assert.equal(committer.inserts.length, 1, "the second waits for the first");
  assert.equal(service.capacity.libres, 2, "and takes no permit");
  await committer.commit();
  assert.deepEqual([(await first).ok, (await first as { id: number }).id], [true, 1]);
  assert.deepEqual(await second, {
    ok: true,
    id: 1,
    duplicado: true,
    mensaje: "✅ Pedido ya registrado #1",
  });
  assert.equal(pool.jobs.length, 1);
});

Deno.test("the same key arriving while its lookup is in flight is looked up once", async () => {
  const { service, store } = setup(1);
  service.submit({ ...ORDER, cliente: "ocupa el permiso" });
  const gate = Promise.withResolvers<void>();
  store.gate = gate.promise;
  store.put(9, {}, "k");
  const first = service.submit({ ...ORDER, clave: "k" });
  const second = service.submit({ ...ORDER, clave: "k" });
  gate.resolve();
  const replies = await Promise.all([first, second]);
  assert.equal(store.lookups, 1);
  assert.deepEqual(replies.map((reply) => reply.ok && reply.id), [9, 9]);
});

Deno.test("a key lookup that fails rejects its request (answered interno upstream) and frees the key", async () => {
  const { service, store } = setup(1);
  service.submit(ORDER);
  store.findIdByKey = () => Promise.reject(new Error("base de datos caída"));
  await assert.rejects(service.submit({ ...ORDER, clave: "k" }), /caída/);
  store.findIdByKey = () => Promise.resolve(undefined);
  const again = await service.submit({ ...ORDER, clave: "k" });
  assert.equal(!again.ok && again.codigo, "limite");
});

Deno.test("a permit is released only after the final state commits, and only once", async () => {
  const { service, committer, pool, released } = setup(1);
  const reply = service.submit(ORDER);
  await committer.commit();
  await reply;
  pool.finish(1);
  await settle();
  assert.equal(service.capacity.libres, 0, "not while `listo` waits for its commit");
  assert.equal(released(), 0);
  await committer.commit();
  assert.equal(service.capacity.libres, 1);
  assert.equal(released(), 1);
  await service.shutdown(0);
  assert.equal(released(), 1, "shutdown does not release it again");
});

Deno.test("a failed order holds its permit until fallido commits, and its listener hears it", async () => {
  const { service, committer, pool, released } = setup(1);
  const listener = new FakeListener();
  const reply = service.submit(ORDER, listener);
  await committer.commit();
  await reply;
  const job = pool.jobs[0]!;
  pool.events.onStart(job, 1, T0);
  pool.events.onRetry(job, 1, "el worker falló");
  pool.events.onStart(job, 2, T0 + 5);
  pool.events.onFail(job, 2, "tiempo agotado", T0 + 10);
  await settle();
  assert.equal(released(), 0);
  assert.equal(listener.events.length, 0);
  await committer.commit();
  assert.equal(released(), 1);
  assert.deepEqual(listener.events.map((event) => [event.id, event.estado]), [[1, "fallido"]]);
  assert.equal(service.statistics({ intervalos: false }).snapshot.fallidos, 1);
});

Deno.test("a listener is told once when an order finishes, however often it resent the order", async () => {
  const { service, committer, pool } = setup(2);
  const listener = new FakeListener();
  const other = new FakeListener();
  // A listener without memory of its own, to show the service itself keeps it once.
  const naiveEvents: FinishedEvent[] = [];
  const naive: OrderListener = {
    open: true,
    wants: () => true,
    watch() {},
    notify: (event) => naiveEvents.push(event),
  };
  const keyed = { ...ORDER, clave: "k" };
  const replies: Promise<Reply>[] = [
    service.submit(keyed, listener),
    service.submit(keyed, listener),
    service.submit(keyed, other),
    service.submit(keyed, naive),
    service.submit(keyed, naive),
  ];
  await committer.commit();
  await Promise.all(replies);
  assert.deepEqual(listener.watched, [1], "watched once");
  pool.finish(1);
  await committer.commit();
  assert.equal(listener.events.length, 1);
  assert.equal(other.events.length, 1);
  assert.equal(naiveEvents.length, 1, "registered twice, told once");
  // Resent after the end: a listener already told is not told again; a new one is, at once.
  const late = new FakeListener();
  const resent = [service.submit(keyed, listener), service.submit(keyed, late)];
  await committer.commit();
  await Promise.all(resent);
  assert.equal(listener.events.length, 1);
  assert.deepEqual(late.events.map((event) => [event.id, event.estado]), [[1, "listo"]]);
  assert.deepEqual(late.watched, [], "nothing to watch: it had ended");
});

Deno.test("a closed listener's notice is dropped", async () => {
  const { service, committer, pool } = setup();
  const listener = new FakeListener();
  const reply = service.submit(ORDER, listener);
  await committer.commit();
  await reply;
  listener.open = false;
  pool.finish(1);
  await committer.commit();
  assert.equal(listener.events.length, 0);
});

Deno.test("recovered orders hold permits beyond max until their final states commit", async () => {
  const { service, store, committer, pool, released } = setup(1);
  store.put(3, { estado: "en proceso", intentos: 1 });
  store.put(5);
  pool.left = 2;
  assert.equal(await service.recover(), 2);
  assert.deepEqual(service.capacity, { max: 1, libres: 0 });
  assert.equal(!(await service.submit(ORDER)).ok, true, "no admission until capacity is back");
  assert.equal(service.statistics({ intervalos: false }).snapshot.recuperados, 2);
  const recovered = (id: number) => ({ id, pedido: { ...ORDER, recibido: T0 }, intentos: 0 });
  pool.jobs.push(recovered(3), recovered(5));
  pool.finish(3);
  await committer.commit();
  assert.deepEqual(service.capacity, { max: 1, libres: 0 }, "one recovered order still holds one");
  pool.finish(5);
  await committer.commit();
  assert.deepEqual(service.capacity, { max: 1, libres: 1 });
  assert.equal(released(), 2);
});

Deno.test("after shutdown begins orders get apagando; shutdown counts unwritten changes", async () => {
  const { service, committer, pool } = setup();
  const reply = service.submit(ORDER);
  await committer.commit();
  await reply;
  pool.events.onStart(pool.jobs[0]!, 1, T0);
  service.beginShutdown();
  const refused = await service.submit(ORDER);
  assert.equal(!refused.ok && refused.codigo, "apagando");
  const summary = await service.shutdown(0);
  assert.equal(summary.unwrittenUpdates, 1, "the start never committed");
});

Deno.test("estado answers the stored order, or no_encontrado", async () => {
  const { service, store } = setup();
  store.put(2, { estado: "listo" });
  const found = await service.status(2, (order) => order);
  assert.equal(found.ok && found.pedido?.estado, "listo");
  const seen = await service.status(2, ({ id, estado }) => ({ id, estado } as never));
  assert.deepEqual(seen.ok && seen.pedido, { id: 2, estado: "listo" }, "as the view shapes it");
  const missing = await service.status(3, (order) => order);
  assert.equal(!missing.ok && missing.codigo, "no_encontrado");
});

Deno.test("an insert the store refuses for a cluster's limit is answered limite, and its permit comes back once", async () => {
  const { service, committer, pool, released } = setup(3);
  committer.refusing.add("B");
  const replies = [service.submit(ORDER), service.submit({ ...ORDER, cliente: "B" })];
  await committer.commit();
  const [ok, refused] = await Promise.all(replies);
  assert.equal(ok!.ok, true);
  assert.deepEqual(refused, {
    ok: false,
    codigo: "limite",
    mensaje: "❌ Límite de pedidos alcanzado. Intente más tarde.",
  });
  assert.deepEqual(pool.jobs.map((job) => job.id), [1], "nothing queued for the refused one");
  assert.equal(released(), 1);
  assert.equal(service.statistics({ intervalos: false }).snapshot.rechazos["limite"], 1);
});

Deno.test("an order another server finished tells its listeners here, once", async () => {
  const { service, committer, store } = setup(2, { cluster: true });
  const listener = new FakeListener();
  const reply = service.submit({ ...ORDER, avisar: true }, listener);
  await committer.commit();
  assert.equal((await reply).ok, true);
  assert.deepEqual(listener.watched, [1]);
  // Not finished yet where the store is concerned: nothing to tell.
  service.finishedElsewhere(1);
  await settle();
  assert.equal(listener.events.length, 0);
  store.put(1, { estado: "listo", duracion: 0.02, worker: 2 });
  service.finishedElsewhere(1);
  await settle();
  assert.deepEqual(listener.events.map((event) => [event.id, event.estado]), [[1, "listo"]]);
  service.finishedElsewhere(1);
  await settle();
  assert.equal(listener.events.length, 1);
  assert.deepEqual(service.awaited(), [], "nothing more to wait for");
});

Deno.test("a key resent here for an order another server holds follows it until that server ends it", async () => {
  const { service, store, committer } = setup(2);
  store.put(9, { estado: "en proceso" }, "de-otro");
  const listener = new FakeListener();
  const replying = service.submit({ ...ORDER, clave: "de-otro", avisar: true }, listener);
  await committer.commit();
  assert.deepEqual(await replying, {
    ok: true,
    id: 9,
    duplicado: true,
    mensaje: "✅ Pedido ya registrado #9",
  });
  assert.deepEqual(listener.watched, [9]);
  store.put(9, { estado: "fallido", motivo_fallo: "tiempo agotado" }, "de-otro");
  service.finishedElsewhere(9);
  await settle();
  assert.deepEqual(listener.events.map((event) => [event.id, event.estado]), [[9, "fallido"]]);
});
