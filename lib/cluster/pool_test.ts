/**
 * The cluster pool with plain fakes: a queue of orders in memory, and a
 * local pool that runs nothing until the test finishes its orders.
 */
import assert from "node:assert/strict";
import { createLogger } from "../util/log.ts";
import type { PoolEvents, PoolJob } from "../orders/pool.ts";
import type {
  ClaimedOrder,
  ClusterFigures,
  ClusterListener,
  ClusterQueue,
} from "../store/types.ts";
import { claimTarget, ClusterPool } from "./pool.ts";
import type { LocalPool } from "../orders/pool.ts";
import { ClusterCapacity } from "./capacity.ts";
import { ClusterSnapshots } from "./stats.ts";

class FakeQueue implements ClusterQueue {
  readonly instance = "prueba";
  readonly ready = true;
  waiting: number[] = [];
  finishedIds = new Set<number>();
  claims: number[] = [];
  failing = false;
  listener!: ClusterListener;
  asked: number[][] = [];

  claim(n: number): Promise<ClaimedOrder[]> {
    this.claims.push(n);
    if (this.failing) return Promise.reject(new Error("sin conexión"));
    const ids = this.waiting.splice(0, n);
    return Promise.resolve(
      ids.map((id) => ({
        id,
        cliente: "Ana",
        productos: ["pan"],
        direccion: "C 1",
        fecha_recibido: "2026-12-01T10:00:00.000Z",
        intentos: 0,
      })),
    );
  }

  finishedAmong(ids: readonly number[]): Promise<number[]> {
    this.asked.push([...ids]);
    return Promise.resolve(ids.filter((id) => this.finishedIds.has(id)));
  }

  figures(): ClusterFigures {
    return {
      instancia: "prueba",
      instancias: ["prueba"],
      limite: 5,
      enUso: 2,
      enCola: 1,
      enProceso: 1,
    };
  }

  subscribe(listener: ClusterListener): void {
    this.listener = listener;
  }
}

class FakeLocal implements LocalPool {
  readonly size = 2;
  jobs: PoolJob[] = [];
  events!: PoolEvents;
  drained = false;

  get queued() {
    return 0;
  }

  get busy() {
    return this.jobs.length;
  }

  get busyWorkers() {
    return Math.min(this.jobs.length, this.size);
  }

  submit(job: PoolJob): void {
    this.jobs.push(job);
  }

  drain(): Promise<{ abandoned: PoolJob[]; queued: PoolJob[] }> {
    this.drained = true;
    return Promise.resolve({ abandoned: this.jobs, queued: [] });
  }

  finish(id: number) {
    const job = this.jobs.find((job) => job.id === id)!;
    this.jobs = this.jobs.filter((other) => other !== job);
    this.events.onDone(job, 1, { id, inicio: 0, fin: 1 });
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

function setup(waiting: number[], pollMs = 60_000) {
  const queue = new FakeQueue();
  queue.waiting = waiting;
  const local = new FakeLocal();
  const done: number[] = [];
  const finished: number[] = [];
  const awaited = new Set<number>();
  const lines: string[] = [];
  const pool = new ClusterPool({
    queue,
    events: {
      onStart() {},
      onDone: (job) => void done.push(job.id),
      onRetry() {},
      onFail() {},
      onWorkerError() {},
    },
    createPool: (events) => {
      local.events = events;
      return local;
    },
    target: 2,
    finished: (id) => void finished.push(id),
    awaited: () => awaited,
    log: createLogger("normal", "prueba", (line) => lines.push(line)),
    pollMs,
  });
  return { queue, local, pool, done, finished, awaited, lines };
}

Deno.test("a server holds one order per worker for real work, and whole pipelines for none", () => {
  assert.equal(claimTarget(3, 2000), 3);
  assert.equal(claimTarget(1, 1), 1);
  assert.equal(claimTarget(3, 0), 3 * 64 * 4);
});

Deno.test("the pool claims up to its target at once, and again as each order ends", async () => {
  const { queue, local, pool, done } = setup([1, 2, 3, 4, 5]);
  await settle();
  assert.deepEqual(local.jobs.map((job) => job.id), [1, 2]);
  assert.deepEqual(queue.claims, [2]);
  local.finish(1);
  await settle();
  assert.deepEqual(done, [1], "the service hears of it");
  assert.deepEqual(local.jobs.map((job) => job.id), [2, 3]);
  assert.deepEqual(queue.claims, [2, 1]);
  // Its own new order wakes it, but there is no room: no claim.
  pool.submit({
    id: 9,
    pedido: { cliente: "x", productos: ["y"], direccion: "z", recibido: 0 },
    intentos: 0,
  });
  await settle();
  assert.deepEqual(queue.claims, [2, 1]);
  await pool.drain(0);
  assert.equal(local.drained, true);
});

Deno.test("a notice of new orders wakes the claims; a stopped pool claims no more", async () => {
  const { queue, local, pool } = setup([]);
  await settle();
  queue.waiting = [7];
  queue.listener.available();
  await settle();
  assert.deepEqual(local.jobs.map((job) => job.id), [7]);
  await pool.drain(0);
  queue.waiting = [8];
  queue.listener.available();
  await settle();
  assert.deepEqual(local.jobs.map((job) => job.id), [7]);
});

Deno.test("without notices the poll still claims; a failing database is logged once, not per try", async () => {
  const { queue, local, pool, lines } = setup([], 20);
  queue.failing = true;
  await new Promise((resolve) => setTimeout(resolve, 90));
  assert.ok(queue.claims.length >= 3, `${queue.claims.length} tries`);
  assert.equal(lines.filter((line) => line.includes("no se pudieron tomar pedidos")).length, 1);
  queue.failing = false;
  queue.waiting = [4];
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.deepEqual(local.jobs.map((job) => job.id), [4]);
  await pool.drain(0);
});

Deno.test("finished notices reach the service; after missed notices it asks about what it awaits", async () => {
  const { queue, pool, finished, awaited } = setup([]);
  queue.listener.finished([3, 4]);
  assert.deepEqual(finished, [3, 4]);
  awaited.add(10).add(11);
  queue.finishedIds.add(11);
  queue.listener.resync();
  await settle();
  assert.deepEqual(queue.asked, [[10, 11]]);
  assert.deepEqual(finished, [3, 4, 11]);
  await pool.drain(0);
});

Deno.test("a cluster's server grants every permit and shows the cluster's capacity", () => {
  const capacity = new ClusterCapacity(new FakeQueue());
  assert.equal(capacity.capacity, 5);
  assert.equal(capacity.available, 3);
  assert.equal(capacity.inUse, 2);
  assert.equal(capacity.tryAcquire(), true);
  capacity.forceAcquire();
  capacity.release();
  assert.equal(capacity.available, 3, "only the database's count matters");
});

Deno.test("estadisticas gains the cluster's figures, in the snapshot and its JSON, built once per change", () => {
  const snapshots = new ClusterSnapshots();
  const base = { snapshot: Object.freeze({ recibidos: 1 }) as never, json: '{"recibidos":1}' };
  const figures = new FakeQueue().figures();
  const first = snapshots.add(base, figures);
  assert.deepEqual(JSON.parse(first.json), { recibidos: 1, cluster: figures });
  assert.deepEqual(first.snapshot, { recibidos: 1, cluster: figures });
  assert.equal(snapshots.add(base, figures), first);
  assert.notEqual(snapshots.add(base, { ...figures, enUso: 3 }), first);
});
