/**
 * The backlog pool with an in-memory store and a window that only records
 * what it is given: the test plays the workers by finishing orders.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { createLogger } from "../util/log.ts";
import type { OrderView } from "../wire/protocol.ts";
import type { Backlog, UnfinishedRange } from "../store/types.ts";
import { BacklogPool, windowFor } from "./backlog.ts";
import type { LocalPool, PoolEvents, PoolJob } from "./pool.ts";

const T0 = Date.UTC(2026, 11, 1, 10, 0, 0);

/** Orders by id, as the database holds them; counts the reads. */
class FakeStore {
  readonly orders = new Map<number, OrderView>();
  reads: UnfinishedRange[] = [];
  failing = false;

  put(id: number, estado: OrderView["estado"] = "en cola", intentos = 0): void {
    this.orders.set(id, {
      id,
      cliente: `c${id}`,
      productos: ["pan"],
      direccion: "Calle 1",
      estado,
      fecha_recibido: new Date(T0 + id).toISOString(),
      fecha_inicio: null,
      fecha_fin: null,
      duracion: null,
      worker: null,
      intentos,
      motivo_fallo: null,
      resultado: null,
    });
  }

  #unfinished(): OrderView[] {
    return [...this.orders.values()]
      .filter((order) => order.estado === "en cola" || order.estado === "en proceso")
      .sort((a, b) => a.id - b.id);
  }

  backlog(): Promise<Backlog> {
    const unfinished = this.#unfinished();
    return Promise.resolve({ count: unfinished.length, newestId: unfinished.at(-1)?.id ?? 0 });
  }

  unfinished(range: UnfinishedRange): Promise<OrderView[]> {
    this.reads.push(range);
    if (this.failing) return Promise.reject(new Error("disco lleno"));
    return Promise.resolve(
      this.#unfinished()
        .filter((order) => order.id > range.after && order.id <= range.through)
        .slice(0, range.limit),
    );
  }
}

/** A window whose orders wait until the test finishes them, oldest first. */
class FakeWindow implements LocalPool {
  readonly received: PoolJob[] = [];
  held: PoolJob[] = [];
  busy = 0;
  busyWorkers = 0;
  size = 1;

  constructor(readonly events: PoolEvents, readonly store: FakeStore) {}

  get queued(): number {
    return this.held.length;
  }

  submit(job: PoolJob): void {
    this.received.push(job);
    this.held.push(job);
  }

  /** Finishes the `count` oldest orders held, as a worker would, committing `listo`. */
  finish(count: number): void {
    for (const job of this.held.splice(0, count)) {
      this.store.orders.get(job.id)!.estado = "listo";
      this.events.onDone(job, 1, { id: job.id, inicio: T0, fin: T0 + 1 });
    }
  }

  drain(): Promise<{ abandoned: PoolJob[]; queued: PoolJob[] }> {
    return Promise.resolve({ abandoned: [], queued: this.held });
  }
}

const NO_EVENTS: PoolEvents = {
  onStart() {},
  onDone() {},
  onRetry() {},
  onFail() {},
  onWorkerError() {},
};

function setup(window: number) {
  const store = new FakeStore();
  const lines: string[] = [];
  let local!: FakeWindow;
  const pool = new BacklogPool({
    store,
    events: NO_EVENTS,
    createPool: (events) => local = new FakeWindow(events, store),
    window,
    log: createLogger("normal", "prueba", (line) => lines.push(line)),
  });
  let next = 0;
  /** Commits a new order and submits it, as the service does. */
  const admit = () => {
    const id = ++next;
    store.put(id);
    pool.submit({
      id,
      pedido: { cliente: `c${id}`, productos: ["pan"], direccion: "Calle 1", recibido: T0 },
      intentos: 0,
      recibido: T0,
    });
    return id;
  };
  return { store, pool, local, lines, admit, setNext: (id: number) => next = id };
}

/** Lets every promise chain that can run, run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

Deno.test("the window holds twice what the workers' pipelines take, at least 1024", () => {
  assert.equal(windowFor(6, 0), 3072);
  assert.equal(windowFor(6, 50), 1024);
  assert.equal(windowFor(6, 0, true), 1024, "a processor's orders go one by one");
  assert.equal(windowFor(16, 0), 8192);
});

Deno.test("orders that find room go straight to the window, without reading the database", async () => {
  const { store, pool, local, admit } = setup(4);
  for (let i = 0; i < 4; i++) admit();
  await settle();
  assert.deepEqual(local.received.map((job) => job.id), [1, 2, 3, 4]);
  assert.equal(store.reads.length, 0);
  assert.equal(pool.queued, 4);
});

Deno.test("orders beyond the window wait on disk and are read back by id once it is down to half", async () => {
  const { store, pool, local, admit } = setup(4);
  for (let i = 0; i < 10; i++) admit();
  await settle();
  assert.deepEqual(local.received.map((job) => job.id), [1, 2, 3, 4]);
  assert.equal(pool.queued, 10, "six of them only on disk");
  local.finish(1);
  await settle();
  assert.equal(store.reads.length, 0, "three held is more than half the window");
  local.finish(1);
  await settle();
  assert.deepEqual(store.reads, [{ after: 4, through: 10, limit: 2 }]);
  assert.deepEqual(local.received.map((job) => job.id), [1, 2, 3, 4, 5, 6]);
  local.finish(4);
  await settle();
  assert.deepEqual(local.received.map((job) => job.id), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(pool.queued, 4, "every order left is in the window");
  // With nothing left on disk and room, the next order goes straight in again.
  local.finish(4);
  admit();
  await settle();
  assert.equal(local.received.at(-1)!.id, 11);
  assert.equal(store.reads.length, 2);
});

Deno.test("any mix of admissions and finishes hands every order to the window once, in id order", () => {
  fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 2, max: 8 }),
      fc.array(fc.oneof(fc.constant("admit" as const), fc.integer({ min: 1, max: 5 })), {
        maxLength: 120,
      }),
      async (window, steps) => {
        const { pool, local, admit } = setup(window);
        let admitted = 0;
        for (const step of steps) {
          if (step === "admit") {
            admit();
            admitted++;
          } else local.finish(step);
          await settle();
          assert.ok(local.held.length <= window, "never more than the window in memory");
        }
        while (local.held.length > 0) {
          local.finish(window);
          await settle();
        }
        const ids = local.received.map((job) => job.id);
        assert.deepEqual(ids, Array.from({ length: admitted }, (_, i) => i + 1));
        assert.equal(pool.queued, 0);
      },
    ),
    { seed: 10, numRuns: 300 },
  );
});

Deno.test("recovery counts the backlog and reads only a window of it, oldest first, with its attempts", async () => {
  const { store, pool, local, admit, setNext } = setup(4);
  for (let id = 1; id <= 9; id++) store.put(id, id === 2 ? "listo" : "en cola");
  store.put(10, "en proceso", 1);
  setNext(10);
  assert.equal(await pool.recover(), 9);
  await settle();
  assert.deepEqual(local.received.map((job) => job.id), [1, 3, 4, 5]);
  assert.equal(local.received[0]!.recibido, undefined, "a previous run's order has no wait here");
  assert.equal(pool.queued, 9);
  const eleven = admit();
  assert.equal(pool.queued, 10, "a new order waits behind the backlog");
  while (local.held.length > 0) {
    local.finish(2);
    await settle();
  }
  const ids = local.received.map((job) => job.id);
  assert.deepEqual(ids, [1, 3, 4, 5, 6, 7, 8, 9, 10, eleven]);
  assert.equal(local.received.find((job) => job.id === 10)!.intentos, 1);
  assert.equal(
    local.received.at(-1)!.recibido,
    T0 + eleven,
    "read back from disk, this run's order keeps its arrival time",
  );
});

Deno.test("a failed read is logged once and tried again, and draining counts what is on disk", async () => {
  const { store, pool, local, admit, lines } = setup(2);
  for (let i = 0; i < 5; i++) admit();
  store.failing = true;
  local.finish(2);
  await settle();
  assert.equal(lines.filter((line) => line.includes("disco lleno")).length, 1);
  store.failing = false;
  await new Promise((resolve) => setTimeout(resolve, 1100));
  assert.deepEqual(local.received.map((job) => job.id), [1, 2, 3, 4]);
  assert.deepEqual(await pool.drain(0), { abandoned: 0, queued: 3 });
});
