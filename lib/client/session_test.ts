import assert from "node:assert/strict";
import { ConnectionError, RefusedByServerError } from "./errors.ts";
import { LineSplitter } from "../wire/lines.ts";
import { ProtocolSession } from "./session.ts";
import {
  accepted,
  encodeLine,
  failure,
  finishedEvent,
  greeting,
  type OrderView,
} from "../wire/protocol.ts";

const encoder = new TextEncoder();
const GREETING = encodeLine(greeting({ max: 6, libres: 6 }, "1.0.0"));

/** A scripted peer: `script` gets each line the client sends and a way to answer. */
async function fakeServer(
  script: (
    peer: { lines: AsyncIterator<string>; send(text: string): Promise<void> },
  ) => Promise<void>,
) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = (async () => {
    const conn = await listener.accept();
    const splitter = new LineSplitter();
    async function* lines() {
      const buffer = new Uint8Array(4096);
      while (true) {
        const count = await conn.read(buffer).catch(() => null);
        if (count === null) return;
        yield* splitter.push(buffer.subarray(0, count));
      }
    }
    try {
      await script({
        lines: lines(),
        send: async (text) => void await conn.write(encoder.encode(text)),
      });
    } finally {
      conn.close();
    }
  })();
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  return {
    client,
    async [Symbol.asyncDispose]() {
      await served;
      listener.close();
    },
  };
}

const pedido: OrderView & { estado: "listo" } = {
  id: 1,
  cliente: "Ana",
  productos: ["pan"],
  direccion: "C 1",
  estado: "listo",
  fecha_recibido: "2026-11-28T10:00:00.000Z",
  fecha_inicio: "2026-11-28T10:00:00.000Z",
  fecha_fin: "2026-11-28T10:00:00.020Z",
  duracion: 0.02,
  worker: 1,
  intentos: 1,
  motivo_fallo: null,
  resultado: null,
};

const options = { timeoutMs: 2000, target: "prueba:1" };

Deno.test("pipelined requests get their replies in order, and events are set aside", async () => {
  const received: string[] = [];
  await using peer = await fakeServer(async ({ lines, send }) => {
    await send(GREETING);
    for (let i = 0; i < 2; i++) received.push((await lines.next()).value);
    // The event for #1 arrives between the two replies, as the server may send it.
    await send(
      encodeLine(accepted(1)) + encodeLine(finishedEvent(pedido)) + encodeLine(accepted(2)),
    );
    await lines.next(); // the client closing
  });
  await using session = await ProtocolSession.open(peer.client, options);
  assert.equal(session.greeting.version, "1.0.0");
  const [first, second] = await Promise.all([
    session.request({ cliente: "a" }),
    session.request({ cliente: "b" }),
  ]);
  assert.deepEqual([first, second], [accepted(1), accepted(2)]);
  assert.deepEqual(received, ['{"cliente":"a"}', '{"cliente":"b"}']);
  const event = await session.nextEvent(1000);
  assert.equal(event?.id, 1);
  assert.equal(event?.estado, "listo");
  assert.equal(await session.nextEvent(10), null);
});

Deno.test("a reply that does not come within the timeout ends the session with a timeout", async () => {
  await using peer = await fakeServer(async ({ lines, send }) => {
    await send(GREETING);
    await lines.next(); // the request, never answered
    await lines.next(); // the client closing
  });
  await using session = await ProtocolSession.open(peer.client, { ...options, timeoutMs: 150 });
  await assert.rejects(session.request({ tipo: "estadisticas" }), {
    name: "ConnectionError",
    failure: "tiempo",
    message: "prueba:1 no respondió en 150 ms",
  });
  assert.equal(session.closed, true);
  await assert.rejects(session.request({ tipo: "estadisticas" }), ConnectionError);
});

Deno.test("a peer that never greets times out", async () => {
  await using peer = await fakeServer(async ({ lines }) => void await lines.next());
  await assert.rejects(ProtocolSession.open(peer.client, { ...options, timeoutMs: 100 }), {
    failure: "tiempo",
    message: "prueba:1 no envió su saludo en 100 ms",
  });
});

Deno.test("a peer that speaks another protocol is not mistaken for a server", async () => {
  await using peer = await fakeServer(({ send }) => send("SSH-2.0-OpenSSH_9.6\r\n"));
  await assert.rejects(ProtocolSession.open(peer.client, options), {
    failure: "protocolo",
    message: /^prueba:1 no parece un servidor de pedidos: /,
  });
});

Deno.test("a greeting that refuses the connection is reported with the server's reply", async () => {
  await using peer = await fakeServer(({ send }) =>
    send(encodeLine(failure("demasiadas_conexiones")))
  );
  const error = await ProtocolSession.open(peer.client, options).catch((e) => e);
  assert.ok(error instanceof RefusedByServerError);
  assert.equal(error.reply.codigo, "demasiadas_conexiones");
});

Deno.test("a connection closed before the reply fails the pending request as lost", async () => {
  await using peer = await fakeServer(async ({ lines, send }) => {
    await send(GREETING);
    await lines.next();
  });
  await using session = await ProtocolSession.open(peer.client, options);
  await assert.rejects(session.request({ cliente: "a" }), {
    failure: "perdida",
    message: "prueba:1 cerró la conexión",
  });
});

Deno.test("an unasked failure is the server's last word and names why it closed", async () => {
  await using peer = await fakeServer(async ({ send }) => {
    await send(GREETING);
    await send(encodeLine(failure("inactivo", "sin mensajes durante 100 ms")));
  });
  await using session = await ProtocolSession.open(peer.client, options);
  await assert.rejects(session.nextEvent(1000), {
    failure: "perdida",
    message:
      "prueba:1 cerró la conexión: ❌ Conexión cerrada por inactividad: sin mensajes durante 100 ms",
  });
});
