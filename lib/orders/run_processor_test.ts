/**
 * The worker-side runner on the main thread, with the processor handed in
 * as a module value: ordering, replies, the signal and the cancel cell.
 * Loading real files in real sandboxed workers is covered by
 * `processor_module_test.ts` and `tests/server_processor_test.ts`.
 */
import assert from "node:assert/strict";
import type { Processor, ProcessorContext, ProcessorOrder } from "./processor.ts";
import { ProcessorRunner } from "./run_processor.ts";
import { cancel, createCancelCell, type WorkReply, type WorkRequest } from "./work.ts";

const RECIBIDO = Date.UTC(2026, 10, 28, 10, 0, 0);

function request(id: number, extra: Partial<WorkRequest> = {}): WorkRequest {
  return {
    id,
    workMs: 0,
    workMode: "sleep",
    pedido: { cliente: `C${id}`, productos: ["pan"], direccion: "Calle 1", recibido: RECIBIDO },
    procesador: { url: "file:///procesar.ts", timeoutMs: 5000, intento: 1 },
    ...extra,
  };
}

/** A runner over `module`, and the replies it posts, in order. */
function runnerOf(module: Record<string, unknown>) {
  const replies: (WorkReply | WorkReply[])[] = [];
  const imported: string[] = [];
  const runner = new ProcessorRunner((reply) => replies.push(reply), (url) => {
    imported.push(url);
    return Promise.resolve(module);
  });
  const next = async (count: number) => {
    while (replies.length < count) await new Promise((resolve) => setTimeout(resolve, 5));
    return replies;
  };
  return { runner, replies, imported, next };
}

Deno.test("orders run one at a time, in arrival order, each message answered in kind", async () => {
  const log: string[] = [];
  const processor: Processor = async (order) => {
    log.push(`empieza ${order.id}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
    log.push(`termina ${order.id}`);
    return order.id * 10;
  };
  const { runner, next, imported } = runnerOf({ default: processor });
  runner.handle([request(1), request(2)]);
  runner.handle(request(3));
  const [pair, single] = await next(2) as [WorkReply[], WorkReply];
  assert.deepEqual(log, [
    "empieza 1",
    "termina 1",
    "empieza 2",
    "termina 2",
    "empieza 3",
    "termina 3",
  ]);
  assert.deepEqual(pair.map((reply) => [reply.id, "resultado" in reply && reply.resultado]), [
    [1, "10"],
    [2, "20"],
  ]);
  assert.equal(single.id, 3);
  assert.deepEqual(imported, ["file:///procesar.ts"], "the module is imported once");
});

Deno.test("the processor sees the order, its attempt and when it was received, and a live signal", async () => {
  let seen: [ProcessorOrder, ProcessorContext] | undefined;
  const { runner, next } = runnerOf({
    default: (order: ProcessorOrder, context: ProcessorContext) => {
      seen = [order, context];
    },
  });
  runner.handle(request(7, { procesador: { url: "file:///p.ts", timeoutMs: 5000, intento: 3 } }));
  const [reply] = await next(1) as [WorkReply];
  const [order, context] = seen!;
  assert.deepEqual(order, {
    id: 7,
    cliente: "C7",
    productos: ["pan"],
    direccion: "Calle 1",
    intento: 3,
    recibido: "2026-11-28T10:00:00.000Z",
  });
  assert.equal(context.signal.aborted, false);
  assert.ok("fin" in reply && !("resultado" in reply), "listo, with no result");
});

Deno.test("a throw, an unstorable result and a load failure each become the order's motivo", async () => {
  const { runner, next } = runnerOf({
    default: (order: ProcessorOrder) => {
      if (order.id === 1) throw new Error("sin stock");
      if (order.id === 2) return { total: 1n };
      return "x".repeat(20_000);
    },
  });
  runner.handle(request(1));
  runner.handle(request(2));
  runner.handle(request(3));
  const replies = await next(3) as WorkReply[];
  const motivos = replies.map((reply) => "motivo" in reply ? reply.motivo : JSON.stringify(reply));
  assert.equal(motivos[0], "el procesador falló: sin stock");
  assert.match(motivos[1]!, /^el resultado no se puede guardar como JSON/);
  assert.match(motivos[2]!, /^el resultado ocupa 20002 bytes/);

  const { promise: posted, resolve } = Promise.withResolvers<WorkReply>();
  const broken = new ProcessorRunner(
    (reply) => resolve(reply as WorkReply),
    () => Promise.reject(new Error("falta la configuración")),
  );
  broken.handle(request(4));
  const last = await posted;
  assert.equal(
    "motivo" in last && last.motivo,
    "no se pudo cargar el procesador: falta la configuración",
  );
});

Deno.test("load() accepts a default function and explains anything else in one line", async () => {
  const ok = runnerOf({ default: () => 1 });
  assert.deepEqual(await ok.runner.load("file:///p.ts"), { cargado: true });
  assert.deepEqual(await runnerOf({ procesar: () => 1 }).runner.load("file:///p.ts"), {
    errorDeCarga:
      "no se pudo cargar el procesador: el módulo no tiene export default (se espera una función)",
  });
  assert.deepEqual(await runnerOf({ default: 3 }).runner.load("file:///p.ts"), {
    errorDeCarga:
      "no se pudo cargar el procesador: su export default no es una función, sino number",
  });
});

Deno.test("the signal fires before the timeout, and the attempt is then a timeout whatever the processor returns", async () => {
  let reason: unknown;
  const { runner, next } = runnerOf({
    default: (_order: ProcessorOrder, { signal }: ProcessorContext) =>
      new Promise((resolve) =>
        signal.addEventListener("abort", () => {
          reason = signal.reason;
          resolve("lo que tenía");
        })
      ),
  });
  runner.handle(request(1, { procesador: { url: "file:///p.ts", timeoutMs: 100, intento: 1 } }));
  const [reply] = await next(1) as [WorkReply];
  assert.ok(reason instanceof DOMException && reason.name === "TimeoutError", String(reason));
  assert.equal(
    "motivo" in reply && reply.motivo,
    "tiempo agotado: la señal de aborto se disparó a los 90 ms (límite 100 ms)",
  );
});

Deno.test("a cancelled cell stops the running processor and hands its order back, and starts no more", async () => {
  const cell = createCancelCell();
  let started = 0;
  const { runner, next } = runnerOf({
    default: (_order: ProcessorOrder, { signal }: ProcessorContext) => {
      started++;
      return new Promise((_, reject) =>
        signal.addEventListener("abort", () => reject(signal.reason))
      );
    },
  });
  runner.handle(request(1, { cancel: cell, seq: 1 }));
  runner.handle(request(2, { cancel: cell, seq: 2 }));
  while (started === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  cancel(cell);
  assert.deepEqual(await next(2), [{ id: 1, omitido: true }, { id: 2, omitido: true }]);
  assert.equal(started, 1);
});
