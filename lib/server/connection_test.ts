/**
 * One connection over a real loopback socket pair, with the handlers
 * replaced by plain functions: reply order, the ordering of reads and
 * writes, notices, frame errors and idleness.
 */
import assert from "node:assert/strict";
import { Connection, type ConnectionOptions } from "./connection.ts";
import { createLogger } from "../util/log.ts";
import { accepted, type FinishedEvent, type OrderView, type Reply } from "../wire/protocol.ts";
import { isRead } from "./handlers.ts";
import { writeAll } from "../util/net.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The client end: writes text, reads lines. */
class Peer {
  readonly conn: Deno.Conn;
  #buffer = "";

  constructor(conn: Deno.Conn) {
    this.conn = conn;
  }

  send(text: string): Promise<void> {
    return writeAll(this.conn, encoder.encode(text));
  }

  /** The next line parsed, or null once the server closed. */
  async read(): Promise<Record<string, unknown> | null> {
    const chunk = new Uint8Array(4096);
    while (!this.#buffer.includes("\n")) {
      const count = await this.conn.read(chunk);
      if (count === null) return null;
      this.#buffer += decoder.decode(chunk.subarray(0, count), { stream: true });
    }
    const index = this.#buffer.indexOf("\n");
    const line = this.#buffer.slice(0, index);
    this.#buffer = this.#buffer.slice(index + 1);
    return JSON.parse(line);
  }

  async readMany(count: number): Promise<Record<string, unknown>[]> {
    const lines = [];
    for (let i = 0; i < count; i++) lines.push((await this.read())!);
    return lines;
  }
}

/** A connection served on one end of a loopback pair, the peer on the other. */
async function pair(options: Partial<ConnectionOptions>) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const [client, server] = await Promise.all([
    Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
    listener.accept(),
  ]);
  listener.close();
  const logged: string[] = [];
  const frameErrors: string[] = [];
  const connection = new Connection(server, {
    maxBytes: 1024,
    idleMs: 10_000,
    greeting: () => '{"ok":true,"tipo":"bienvenida"}\n',
    handle: () => accepted(1),
    isRead,
    onFrameError: (codigo) => frameErrors.push(codigo),
    log: createLogger("verbose", "prueba", (line) => logged.push(line)),
    ...options,
  });
  const served = connection.serve();
  const peer = new Peer(client);
  return {
    connection,
    peer,
    logged,
    frameErrors,
    served,
    async [Symbol.asyncDispose]() {
      try {
        client.close();
      } catch {
        // Closed by the test.
      }
      await served;
    },
  };
}

const order = (cliente: string) => JSON.stringify({ cliente, productos: ["pan"], direccion: "C" });
const estado = (id: number) => JSON.stringify({ tipo: "estado", id });

function event(id: number): FinishedEvent {
  const pedido = { id, estado: "listo", duracion: 1 } as OrderView;
  return { evento: "terminado", id, estado: "listo", mensaje: `#${id} listo`, pedido };
}

Deno.test("the greeting comes first, then one reply per request, in request order", async () => {
  const slow = Promise.withResolvers<Reply>();
  await using t = await pair({
    handle: (message) => message.cliente === "lento" ? slow.promise : accepted(2),
  });
  assert.equal((await t.peer.read())?.tipo, "bienvenida");
  await t.peer.send(`${order("lento")}\n${order("rápido")}\n`);
  setTimeout(() => slow.resolve(accepted(1)), 20);
  assert.deepEqual((await t.peer.readMany(2)).map((reply) => reply.id), [1, 2]);
});

Deno.test("a read starts only after the writes before it are answered, and the next write after it", async () => {
  const log: string[] = [];
  const commits: (() => void)[] = [];
  await using t = await pair({
    handle: (message) => {
      const what = message.tipo === "estado" ? `estado ${message.id}` : `pedido ${message.cliente}`;
      log.push(`empieza ${what}`);
      if (message.tipo === "estado") return { ok: true, mensaje: what };
      const { promise, resolve } = Promise.withResolvers<Reply>();
      commits.push(() => {
        log.push(`termina ${what}`);
        resolve({ ok: true, mensaje: what });
      });
      return promise;
    },
  });
  await t.peer.read();
  await t.peer.send([order("A"), order("B"), estado(1), order("C")].join("\n") + "\n");
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.deepEqual(log, ["empieza pedido A", "empieza pedido B"], "writes start together");
  commits.shift()!();
  commits.shift()!();
  await new Promise((resolve) => setTimeout(resolve, 10));
  commits.shift()!();
  const replies = await t.peer.readMany(4);
  assert.deepEqual(replies.map((reply) => reply.mensaje), [
    "pedido A",
    "pedido B",
    "estado 1",
    "pedido C",
  ]);
  assert.deepEqual(log, [
    "empieza pedido A",
    "empieza pedido B",
    "termina pedido A",
    "termina pedido B",
    "empieza estado 1",
    "empieza pedido C",
    "termina pedido C",
  ]);
});

Deno.test("frame errors are answered in place and counted; the requests around them go on", async () => {
  await using t = await pair({});
  await t.peer.read();
  await t.peer.send(`${order("A")}\nesto no es JSON\n${order("B")}\n`);
  const replies = await t.peer.readMany(3);
  assert.deepEqual(replies.map((reply) => reply.ok === true ? "ok" : reply.codigo), [
    "ok",
    "json_invalido",
    "ok",
  ]);
  assert.deepEqual(t.frameErrors, ["json_invalido"]);
});

Deno.test("a handler that throws answers interno for that request only, and is logged", async () => {
  await using t = await pair({
    handle: (message) => {
      if (message.cliente === "roto") throw new Error("fallo inesperado");
      return accepted(3);
    },
  });
  await t.peer.read();
  await t.peer.send(`${order("roto")}\n${order("bien")}\n`);
  const [broken, fine] = await t.peer.readMany(2);
  assert.equal(broken!.codigo, "interno");
  assert.equal(fine!.id, 3);
  assert.ok(t.logged.some((line) => line.includes("fallo inesperado")));
});

Deno.test("a notice sent while its order's reply is being prepared comes after the reply", async () => {
  const holder: { connection?: Connection } = {};
  await using t = await pair({
    handle: () => {
      holder.connection!.notify(event(1));
      return accepted(1);
    },
  });
  holder.connection = t.connection;
  await t.peer.read();
  await t.peer.send(`${order("A")}\n`);
  const [reply, notice] = await t.peer.readMany(2);
  assert.equal(reply!.ok, true);
  assert.equal(notice!.evento, "terminado");
});

Deno.test("a connection wants each order's notice once: not while watching it, not after being told", async () => {
  await using t = await pair({});
  await t.peer.read();
  const { connection } = t;
  assert.equal(connection.wants(1), true);
  connection.watch(1);
  assert.equal(connection.wants(1), false);
  connection.notify(event(1));
  connection.notify(event(1));
  assert.equal(connection.wants(1), false);
  connection.notify(event(2));
  await t.peer.send(`${estado(9)}\n`);
  const lines = await t.peer.readMany(3);
  assert.deepEqual(lines.map((line) => line.evento ?? "respuesta"), [
    "terminado",
    "terminado",
    "respuesta",
  ]);
  assert.deepEqual(lines.slice(0, 2).map((line) => line.id), [1, 2]);
});

Deno.test("a connection forgets the oldest orders it was told about past 4,096", async () => {
  await using t = await pair({});
  await t.peer.read();
  for (let id = 1; id <= 4097; id++) t.connection.notify(event(id));
  assert.equal(t.connection.wants(1), true, "the oldest is forgotten");
  assert.equal(t.connection.wants(2), false);
  assert.equal(t.connection.wants(4097), false);
  assert.equal((await t.peer.readMany(4097)).length, 4097);
});

Deno.test("an idle connection is told inactivo and closed", async () => {
  await using t = await pair({ idleMs: 50 });
  await t.peer.read();
  const reply = await t.peer.read();
  assert.equal(reply?.codigo, "inactivo");
  assert.equal(await t.peer.read(), null);
  await t.served;
  assert.equal(t.connection.open, false);
});
