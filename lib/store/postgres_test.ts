/**
 * What only the PostgreSQL backend does, against a real PostgreSQL: the
 * cluster-wide admission limit (also under concurrent commits from many
 * servers), claims, the fence on changes, the rescue of a dead server's
 * orders, restarts of an instance, the `--max` rule and the notices.
 * Several stores on one database stand for several servers.
 */
import assert from "node:assert/strict";
import { createLogger, type Logger } from "../util/log.ts";
import { ClusterLimitMismatchError } from "./postgres_cluster.ts";
import { batchOf } from "./postgres.ts";
import { redactUrl } from "./postgres_url.ts";
import { openStore } from "./open.ts";
import type { ClusterListener, NewOrder, OrderStore } from "./types.ts";
import { freshDatabase, postgresUnavailable } from "../../tools/postgres/shared.ts";

const unavailable = postgresUnavailable();
if (unavailable) console.log(`pruebas de PostgreSQL omitidas: ${unavailable}`);

function test(name: string, fn: () => Promise<void>) {
  Deno.test({ name, ignore: unavailable !== undefined, fn });
}

const T0 = Date.UTC(2026, 10, 28, 10);

function pedido(cliente: string, clave?: string): NewOrder {
  return { cliente, productos: ["pan"], direccion: "Calle 1", recibido: T0, clave };
}

function logger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return Object.assign(createLogger("verbose", "prueba", (line) => lines.push(line)), { lines });
}

/** A store joined to the cluster as server `instance` would join it. */
function member(
  url: string,
  instance: string,
  max: number,
  leaseMs = 10_000,
  log = logger(),
): Promise<OrderStore> {
  return openStore(url, { sync: "full", cluster: { instance, leaseMs, max, log } });
}

/** Closes every store given, even if some fail. */
async function closeAll(...stores: OrderStore[]) {
  await Promise.allSettled(stores.map((store) => store.close()));
}

test("the cluster's limit admits the first orders of a batch and refuses the rest; finishing frees capacity in the same commit", async () => {
  await using db = await freshDatabase();
  const store = await member(db.url, "a", 3);
  try {
    const first = await store.commit([pedido("A"), pedido("B"), pedido("C"), pedido("D")], []);
    assert.deepEqual(first.map((r) => r.refused ?? r.existing), [false, false, false, "limite"]);
    assert.deepEqual(store.cluster!.figures().enUso, 3);
    // A known key needs no capacity, even at the limit.
    const [again] = await store.commit([pedido("A", "k")], []);
    assert.equal(again!.refused, "limite");
    const claimed = await store.cluster!.claim(10);
    assert.deepEqual(claimed.map((o) => o.id), first.slice(0, 3).map((r) => r.id));
    const done = (id: number) => ({ tipo: "fin" as const, id, worker: 1, inicio: T0, fin: T0 + 5 });
    // Two finish and two new ones come in: both fit, in one transaction.
    const second = await store.commit(
      [pedido("E", "k"), pedido("F"), pedido("G")],
      [
        { tipo: "inicio", id: first[0]!.id!, worker: 1, inicio: T0 },
        done(first[0]!.id!),
        { tipo: "inicio", id: first[1]!.id!, worker: 2, inicio: T0 },
        done(first[1]!.id!),
      ],
    );
    assert.deepEqual(second.map((r) => r.refused ?? r.existing), [false, false, "limite"]);
    assert.equal(store.cluster!.figures().enUso, 3);
    const [known] = await store.commit([pedido("otra vez", "k")], []);
    assert.deepEqual(known, { id: second[0]!.id, existing: true });
    assert.equal(await store.count(), 5);
    assert.equal(await store.count({ estados: ["listo"] }), 2);
  } finally {
    await store.close();
  }
});

test("under concurrent commits from eight servers the limit is exact: 50 of 240 stored, and en_uso says 50", async () => {
  await using db = await freshDatabase();
  const stores = await Promise.all(
    Array.from({ length: 8 }, (_, i) => member(db.url, `s${i}`, 50)),
  );
  try {
    const results = await Promise.all(stores.map((store, s) =>
      Promise.all(
        Array.from({ length: 6 }, (_, b) =>
          store.commit(Array.from({ length: 5 }, (_, i) => pedido(`s${s}-b${b}-${i}`)), [])),
      )
    ));
    const all = results.flat(2);
    assert.equal(all.filter((r) => r.existing === false).length, 50);
    assert.equal(all.filter((r) => r.refused === "limite").length, 190);
    assert.equal(await stores[0]!.count(), 50);
    const [row] = await db.admin((sql) => sql`SELECT limite, en_uso FROM pedidos_capacidad`);
    assert.deepEqual({ ...row }, { limite: 50, en_uso: 50 });
  } finally {
    await closeAll(...stores);
  }
});

test("concurrent inserts and finishes on three servers never hold more than the limit, and end with en_uso = unfinished orders", async () => {
  await using db = await freshDatabase();
  const stores = await Promise.all(["a", "b", "c"].map((name) => member(db.url, name, 20)));
  try {
    let accepted = 0;
    await Promise.all(stores.map(async (store, s) => {
      for (let round = 0; round < 15; round++) {
        const results = await store.commit(
          Array.from({ length: 4 }, (_, i) => pedido(`${s}-${round}-${i}`)),
          [],
        );
        accepted += results.filter((r) => r.existing === false).length;
        const claimed = await store.cluster!.claim(3);
        await store.commit(
          [],
          claimed.flatMap((o) => [
            { tipo: "inicio" as const, id: o.id, worker: 1, inicio: T0 },
            { tipo: "fin" as const, id: o.id, worker: 1, inicio: T0, fin: T0 + 1 },
          ]),
        );
        const unfinished = await store.count({ estados: ["en cola", "en proceso"] });
        assert.ok(unfinished <= 20, `${unfinished} unfinished orders, limit 20`);
      }
    }));
    const unfinished = await stores[0]!.count({ estados: ["en cola", "en proceso"] });
    const [row] = await db.admin((sql) => sql`SELECT en_uso FROM pedidos_capacidad`);
    assert.equal(row!.en_uso, unfinished);
    assert.equal(await stores[0]!.count(), accepted);
  } finally {
    await closeAll(...stores);
  }
});

test("the same keys sent to three servers at once are stored once each; every server answers the one id", async () => {
  await using db = await freshDatabase();
  const stores = await Promise.all(["a", "b", "c"].map((name) => member(db.url, name, 1000)));
  try {
    const keys = Array.from({ length: 40 }, (_, i) => `clave-${i}`);
    const answers = await Promise.all(
      stores.flatMap((store, s) =>
        Array.from({ length: 4 }, (_, round) =>
          store.commit(
            keys.map((clave) => pedido(`${s}-${round}`, clave)),
            [],
          ))
      ),
    );
    for (const [i, clave] of keys.entries()) {
      const ids = new Set(answers.map((batch) => batch[i]!.id));
      assert.equal(ids.size, 1, `one id for ${clave}`);
      assert.equal(answers.filter((batch) => batch[i]!.existing === false).length, 1);
    }
    assert.equal(await stores[0]!.count(), keys.length);
    const [row] = await db.admin((sql) => sql`SELECT en_uso FROM pedidos_capacidad`);
    assert.equal(row!.en_uso, keys.length, "capacity taken once per stored order");
  } finally {
    await closeAll(...stores);
  }
});

test("servers claim disjoint orders, and each changes only the orders it holds", async () => {
  await using db = await freshDatabase();
  const [a, b] = await Promise.all([member(db.url, "a", 100), member(db.url, "b", 100)]);
  try {
    const ids = (await a.commit(Array.from({ length: 10 }, (_, i) => pedido(`p${i}`)), []))
      .map((r) => r.id!);
    const [fromA, fromB] = await Promise.all([a.cluster!.claim(6), b.cluster!.claim(6)]);
    const claimed = [...fromA, ...fromB].map((o) => o.id).sort((x, y) => x - y);
    assert.deepEqual(claimed, ids);
    assert.equal(fromA.length + fromB.length, 10);
    // b tries to finish an order a holds: nothing happens.
    const held = fromA[0]!.id;
    await b.commit([], [{ tipo: "fin", id: held, worker: 1, inicio: T0, fin: T0 + 1 }]);
    assert.equal((await a.findById(held))!.estado, "en cola");
    await a.commit([], [{ tipo: "fin", id: held, worker: 1, inicio: T0, fin: T0 + 1 }]);
    const done = (await a.findById(held))!;
    assert.equal(done.estado, "listo");
    // A final state is final: even its holder cannot change it again.
    await a.commit([], [{ tipo: "reintento", id: held, motivo: "tarde" }]);
    assert.equal((await a.findById(held))!.estado, "listo");
    const [row] = await db.admin((sql) =>
      sql`SELECT instancia, sesion FROM pedidos WHERE id = ${held}`
    );
    assert.deepEqual({ ...row }, { instancia: "a", sesion: null });
  } finally {
    await closeAll(a, b);
  }
});

test("a dead server's orders are rescued once its lease runs out; its late changes are ignored", async () => {
  await using db = await freshDatabase();
  const log = logger();
  const rescuer = await member(db.url, "vivo", 100, 600, log);
  // A long lease: its own heartbeat will not come before the test is over.
  const dead = await member(db.url, "muerto", 100, 60_000);
  try {
    const ids = (await dead.commit([pedido("A"), pedido("B")], [])).map((r) => r.id!);
    const claimed = await dead.cluster!.claim(5);
    assert.equal(claimed.length, 2);
    await dead.commit([], [{ tipo: "inicio", id: ids[0]!, worker: 1, inicio: T0 }]);
    // As if it had frozen: its lease ran out (a short one, since a lease
    // also counts from the database's start, which was moments ago).
    await db.admin((sql) =>
      sql`UPDATE pedidos_instancias SET lease_ms = 1 WHERE nombre = 'muerto'`
    );
    const available = Promise.withResolvers<void>();
    rescuer.cluster!.subscribe({ ...quiet(), available: () => available.resolve() });
    await withTimeout(available.promise, 5000, "the rescue");
    const rescued = await waitForClaim(rescuer, 2);
    assert.deepEqual(rescued.map((o) => o.id), ids);
    assert.deepEqual(rescued.map((o) => o.intentos), [1, 0], "attempts survive the rescue");
    assert.match(
      log.lines.join("\n"),
      /muerto dejó de renovar su concesión: 2 pedidos suyos vuelven a la cola/,
    );
    // The frozen server wakes up and finishes its order: too late, it is not its own.
    await dead.commit([], [{ tipo: "fin", id: ids[0]!, worker: 1, inicio: T0, fin: T0 + 9 }]);
    assert.equal((await rescuer.findById(ids[0]!))!.estado, "en cola");
    assert.equal(
      await dead.cluster!.claim(5).then((c) => c.length),
      0,
      "a dead run claims nothing",
    );
  } finally {
    await closeAll(rescuer, dead);
  }
});

test("a restarted instance puts its earlier run's orders back in the queue at once", async () => {
  await using db = await freshDatabase();
  const log = logger();
  const other = await member(db.url, "otro", 10);
  const first = await member(db.url, "api-1", 10);
  let second: OrderStore | undefined;
  try {
    await first.commit([pedido("A"), pedido("B")], []);
    assert.equal((await first.cluster!.claim(5)).length, 2);
    // As if killed: its row and orders stay behind (its pools just go).
    await db.admin((sql) =>
      sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE application_name = 'pedidos api-1' AND pid <> pg_backend_pid()`
    );
    second = await member(db.url, "api-1", 10, 10_000, log);
    assert.match(log.lines.join("\n"), /2 pedidos de api-1 vuelven a la cola/);
    assert.match(log.lines.join("\n"), /otra ejecución con --instance api-1/);
    assert.equal((await other.cluster!.claim(5)).length, 2);
  } finally {
    await closeAll(other, first, ...(second ? [second] : []));
  }
});

test("a different --max is refused while another server runs, and becomes the limit once none does", async () => {
  await using db = await freshDatabase();
  const a = await member(db.url, "a", 10);
  try {
    const error = await member(db.url, "b", 12).then(
      (store) => store.close().then(() => assert.fail("joined")),
      (error: Error) => error,
    );
    assert.ok(error instanceof ClusterLimitMismatchError);
    assert.equal(
      error.message,
      "--max 12 no coincide con el límite del clúster (10), que usan los servidores en marcha (a): arránquelo con --max 10",
    );
    const b = await member(db.url, "b", 10);
    await b.close();
  } finally {
    await a.close();
  }
  const c = await member(db.url, "c", 12);
  try {
    assert.equal(c.cluster!.figures().limite, 12);
  } finally {
    await c.close();
  }
});

test("a server that leaves puts the orders it held back for the others, and is no longer listed", async () => {
  await using db = await freshDatabase();
  const [a, b] = await Promise.all([member(db.url, "a", 10), member(db.url, "b", 10)]);
  try {
    await a.commit([pedido("A"), pedido("B")], []);
    assert.equal((await a.cluster!.claim(5)).length, 2);
    await a.close();
    assert.equal((await b.cluster!.claim(5)).length, 2);
    const names = await db.admin((sql) => sql`SELECT nombre FROM pedidos_instancias`);
    assert.deepEqual(names.map((row) => row.nombre), ["b"]);
  } finally {
    await closeAll(a, b);
  }
});

test("new orders wake the other servers, and every server hears which orders finished", async () => {
  await using db = await freshDatabase();
  const [a, b] = await Promise.all([member(db.url, "a", 10), member(db.url, "b", 10)]);
  try {
    const heard = Promise.withResolvers<readonly number[]>();
    const woken = Promise.withResolvers<void>();
    b.cluster!.subscribe({
      ...quiet(),
      available: () => woken.resolve(),
      finished: (ids) => heard.resolve(ids),
    });
    const [inserted] = await a.commit([pedido("A")], []);
    await woken.promise;
    const [claimed] = await b.cluster!.claim(1);
    assert.equal(claimed!.id, inserted!.id);
    await b.commit([], [
      { tipo: "inicio", id: claimed!.id, worker: 1, inicio: T0 },
      { tipo: "fallo", id: claimed!.id, motivo: "x", fin: T0 + 1 },
    ]);
    assert.deepEqual(await heard.promise, [inserted!.id]);
    assert.deepEqual(await a.cluster!.finishedAmong([inserted!.id!, 999]), [inserted!.id]);
  } finally {
    await closeAll(a, b);
  }
});

test("thousands of orders finished in one commit reach every server's notices, every id once", async () => {
  await using db = await freshDatabase();
  const [a, b] = await Promise.all([member(db.url, "a", 5000), member(db.url, "b", 5000)]);
  try {
    const ids = (await a.commit(Array.from({ length: 3000 }, (_, i) => pedido(`n${i}`)), []))
      .map((r) => r.id!);
    assert.equal((await a.cluster!.claim(5000)).length, 3000);
    const heard: number[] = [];
    const all = Promise.withResolvers<void>();
    b.cluster!.subscribe({
      ...quiet(),
      finished: (finished) => {
        heard.push(...finished);
        if (heard.length >= ids.length) all.resolve();
      },
    });
    await a.commit(
      [],
      ids.map((id) => ({ tipo: "fin" as const, id, worker: 1, inicio: T0, fin: T0 + 1 })),
    );
    await withTimeout(all.promise, 5000, "every notice");
    assert.deepEqual(heard.sort((x, y) => x - y), ids);
  } finally {
    await closeAll(a, b);
  }
});

Deno.test("a batch is laid out for the database: repeated keys folded, changes in rounds, a start and its end as one", () => {
  const order = (cliente: string, clave?: string): NewOrder => pedido(cliente, clave);
  const { batch, candidates, repeats } = batchOf(
    [order("A", "k"), order("B"), order("C", "k"), order("D", "j")],
    [
      { tipo: "inicio", id: 1, worker: 2, inicio: T0 },
      { tipo: "inicio", id: 2, worker: 1, inicio: T0 },
      { tipo: "fin", id: 1, worker: 2, inicio: T0, fin: T0 + 1500 },
      { tipo: "reintento", id: 2, motivo: "falló" },
      { tipo: "fallo", id: 2, motivo: "otra vez", fin: T0 + 9 },
    ],
  );
  assert.deepEqual(candidates, [0, 1, 3]);
  assert.deepEqual(repeats, [[2, 0]]);
  assert.deepEqual(batch.clientes, ["A", "B", "D"]);
  assert.deepEqual(batch.claves, ["k", null, "j"]);
  assert.deepEqual(batch.productos, ['["pan"]', '["pan"]', '["pan"]']);
  assert.deepEqual(batch.tipos, ["completo", "inicio", "reintento", "fallo"]);
  assert.deepEqual(batch.ids, [1, 2, 2, 2]);
  assert.deepEqual(batch.rondas, [0, 0, 1, 2]);
  assert.deepEqual(batch.duraciones, [1.5, null, null, null]);
  assert.deepEqual(batch.workers, [2, 1, null, null]);
  assert.deepEqual(batch.motivos, [null, null, "falló", "otra vez"]);
  assert.deepEqual(batch.fines, [
    "2026-11-28T10:00:01.500Z",
    null,
    null,
    "2026-11-28T10:00:00.009Z",
  ]);
});

Deno.test("a URL's password never reaches the logs", () => {
  assert.equal(redactUrl("postgres://ana:s3cr%40t@db:5432/p"), "postgres://ana:***@db:5432/p");
  assert.equal(redactUrl("postgresql://ana@db/p"), "postgresql://ana@db/p");
});

/** `promise`, or a failure naming `what` after `ms`. */
async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A listener that ignores everything. */
function quiet(): ClusterListener {
  return { available() {}, finished() {}, resync() {} };
}

/** Claims until `count` orders came, or fails after a few seconds. */
async function waitForClaim(store: OrderStore, count: number) {
  const claimed = [];
  const deadline = Date.now() + 5000;
  while (claimed.length < count) {
    if (Date.now() > deadline) assert.fail(`only ${claimed.length} of ${count} claimed`);
    claimed.push(...await store.cluster!.claim(count - claimed.length));
    if (claimed.length < count) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return claimed.sort((a, b) => a.id - b.id);
}
