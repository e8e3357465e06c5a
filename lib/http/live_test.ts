import assert from "node:assert/strict";
import type { StatsSnapshot } from "../stats/snapshot.ts";
import { ProcessingStats } from "../stats/live.ts";
import { LiveFeed, type LiveSource } from "./live.ts";
import type { Occupancy } from "./metrics.ts";
import { MetricsRecorder } from "./recorder.ts";

const OCCUPANCY: Occupancy = {
  enCola: 1,
  enProceso: 2,
  max: 6,
  enUso: 3,
  workersOcupados: 2,
  workers: 3,
  conexiones: 4,
};

function fakeSource() {
  const stats = new ProcessingStats();
  const source: LiveSource & { statsCalls: number } = {
    recorder: new MetricsRecorder(),
    occupancy: () => OCCUPANCY,
    statsCalls: 0,
    stats(): StatsSnapshot {
      source.statsCalls++;
      return stats.snapshot({ enCola: 1, enProceso: 2 });
    },
  };
  return source;
}

/** Reads server-sent events off a stream, one at a time. */
function eventReader(stream: ReadableStream<Uint8Array>) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  return {
    async next(): Promise<{ event: string; data: Record<string, unknown> }> {
      while (true) {
        const match = /event: (\w+)\ndata: (.*)\n\n/.exec(buffer);
        if (match) {
          buffer = buffer.slice(match.index + match[0].length);
          return { event: match[1]!, data: JSON.parse(match[2]!) };
        }
        const { value, done } = await reader.read();
        if (done) throw new Error("stream ended");
        buffer += value;
      }
    },
    async ended(): Promise<boolean> {
      while (true) {
        const { done } = await reader.read();
        if (done) return true;
      }
    },
    cancel: () => reader.cancel(),
  };
}

Deno.test("a page first gets the whole timeline and history, then only the orders finished since", async () => {
  const source = fakeSource();
  const feed = new LiveFeed(source, { intervalMs: 3_600_000 });
  try {
    source.recorder.finished(1, 1, "listo", 0, 10);
    const page = eventReader(feed.subscribe());
    const start = await page.next();
    assert.equal(start.event, "inicio");
    assert.deepEqual((start.data.linea as { pedidos: { id: number }[] }).pedidos.map((p) => p.id), [
      1,
    ]);
    assert.ok(Array.isArray(start.data.historia));
    assert.deepEqual(start.data.ocupacion, OCCUPANCY);
    assert.equal("intervalos" in (start.data.estadisticas as object), false);

    source.recorder.finished(2, 2, "listo", 5, 15);
    feed.tick();
    const tick = await page.next();
    assert.equal(tick.event, "tick");
    const linea = tick.data.linea as { hasta: number; pedidos: { id: number }[] };
    assert.equal(linea.hasta, 2);
    // The first tick after a page joins may repeat what its start had; the page skips by `hasta`.
    assert.ok(linea.pedidos.some((p) => p.id === 2));
    feed.tick();
    const quiet = await page.next();
    assert.deepEqual((quiet.data.linea as { pedidos: unknown[] }).pedidos, []);
    await page.cancel();
    assert.equal(feed.pages, 0);
  } finally {
    feed.close();
  }
});

Deno.test("ten open pages cost one snapshot per tick, not ten", async () => {
  const source = fakeSource();
  const feed = new LiveFeed(source, { intervalMs: 3_600_000 });
  try {
    const pages = Array.from({ length: 10 }, () => eventReader(feed.subscribe()));
    for (const page of pages) await page.next();
    source.statsCalls = 0;
    feed.tick();
    const ticks = await Promise.all(pages.map((page) => page.next()));
    assert.equal(source.statsCalls, 1);
    assert.ok(ticks.every((t) => t.event === "tick" && t.data.t === ticks[0]!.data.t));
    feed.close();
    for (const page of pages) assert.equal(await page.ended(), true, "close ends every stream");
  } finally {
    feed.close();
  }
});

Deno.test("a page that stops reading is dropped instead of piling up snapshots", async () => {
  const source = fakeSource();
  const feed = new LiveFeed(source, { intervalMs: 3_600_000, maxBehind: 3 });
  try {
    const stream = feed.subscribe();
    const reader = stream.getReader();
    await reader.read();
    for (let i = 0; i < 5; i++) feed.tick();
    assert.equal(feed.pages, 0);
    await assert.rejects(async () => {
      while (!(await reader.read()).done);
    });
  } finally {
    feed.close();
  }
});
