import assert from "node:assert/strict";
import {
  ACCEPT_BACKOFF_MAX_MS,
  ACCEPT_BACKOFF_MIN_MS,
  acceptLoop,
  type Acceptor,
  ListenerSlot,
  nextBackoff,
} from "./accept.ts";
import { createLogger } from "../util/log.ts";

function memoryLog() {
  const lines: string[] = [];
  return { log: createLogger("verbose", "t", (line) => lines.push(line)), lines };
}

/** A real listener whose next `failures` accepts fail as EMFILE does. */
function failingFirst(listener: Deno.TcpListener, failures: number): Acceptor {
  let left = failures;
  return {
    addr: listener.addr,
    close: () => listener.close(),
    accept: () => {
      if (left-- > 0) return Promise.reject(new Error("Too many open files (os error 24)"));
      return listener.accept();
    },
  };
}

Deno.test("the pause after an accept error starts short and doubles up to a second", () => {
  const pauses: number[] = [];
  let pause: number | undefined;
  for (let i = 0; i < 10; i++) pauses.push(pause = nextBackoff(pause));
  assert.equal(pauses[0], ACCEPT_BACKOFF_MIN_MS);
  assert.deepEqual(pauses.slice(0, 4), [5, 10, 20, 40]);
  assert.equal(pauses.at(-1), ACCEPT_BACKOFF_MAX_MS);
  assert.ok(pauses.every((p, i) => i === 0 || p >= pauses[i - 1]!));
});

Deno.test("accept errors do not end the loop: it pauses, accepts again, and logs the episode once", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const slot = new ListenerSlot(failingFirst(listener, 4));
  const { log, lines } = memoryLog();
  const accepted: Deno.Conn[] = [];
  const loop = acceptLoop(slot, (conn) => accepted.push(conn), { log, name: "prueba" });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  while (accepted.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  slot.close();
  await loop;
  client.close();
  for (const conn of accepted) conn.close();
  assert.deepEqual(lines, [
    "t: error: no se pudo aceptar una conexión en prueba: Too many open files (os error 24); se reintenta",
    "t: prueba vuelve a aceptar conexiones (tras 4 errores seguidos)",
  ]);
});

Deno.test("closing the slot ends a loop that is pausing after an error, at once", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const slot = new ListenerSlot(failingFirst(listener, 1_000_000));
  const { log } = memoryLog();
  const loop = acceptLoop(slot, () => {}, { log, name: "prueba" });
  await new Promise((resolve) => setTimeout(resolve, 100));
  slot.close();
  await loop;
  await assert.rejects(listener.accept(), Deno.errors.BadResource, "closed with the slot");
});

Deno.test("a replaced listener hands the loop to the new one; what it accepted stays open", async () => {
  const first = Deno.listen({ hostname: "127.0.0.1", port: 0, reusePort: true });
  const port = first.addr.port;
  const slot = new ListenerSlot(first);
  const { log, lines } = memoryLog();
  const accepted: Deno.Conn[] = [];
  const loop = acceptLoop(slot, (conn) => accepted.push(conn), { log, name: "prueba" });
  const early = await Deno.connect({ hostname: "127.0.0.1", port });
  while (accepted.length < 1) await new Promise((resolve) => setTimeout(resolve, 5));
  slot.replace(Deno.listen({ hostname: "127.0.0.1", port, reusePort: true }));
  const late = await connectPastSwap(port);
  while (accepted.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
  await early.write(new TextEncoder().encode("sigue\n"));
  const buffer = new Uint8Array(16);
  const read = await accepted[0]!.read(buffer);
  assert.equal(new TextDecoder().decode(buffer.subarray(0, read!)), "sigue\n");
  slot.close();
  await loop;
  for (const conn of [early, late, ...accepted]) conn.close();
  assert.deepEqual(lines, [], "a replacement is not an error");
});

/**
 * Connects, trying again if reset: the old socket is really closed only when
 * its pending accept is dropped, and a connection the kernel queued on it in
 * that instant is reset (the documented race of a swap).
 */
async function connectPastSwap(port: number): Promise<Deno.TcpConn> {
  for (let attempt = 1;; attempt++) {
    try {
      return await Deno.connect({ hostname: "127.0.0.1", port });
    } catch (error) {
      if (!(error instanceof Deno.errors.ConnectionReset) || attempt === 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
