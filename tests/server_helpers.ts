/**
 * Small helpers shared by the `server_*_test.ts` suites, on top of the
 * harness in `helpers.ts`: database polling, exact-size messages, reading a
 * connection to its end, running the command line as a child process, and
 * warming up a worker module before a test relies on short timeouts.
 *
 * @module
 */
import {
  type CliResult,
  countOrders,
  order,
  readOrders,
  runScript,
  TestClient,
  waitFor,
} from "./helpers.ts";
import type { StoredOrder } from "../lib/store/types.ts";

export type { CliResult };

/** ISO-8601 UTC with milliseconds, as every date column stores it. */
export const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** A stored order, as the store's read side returns it. */
export type Row = StoredOrder;

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Every order of a database, by id. */
export function rows(db: string): Promise<Row[]> {
  return readOrders(db);
}

/** One order by id, or undefined. */
export async function row(db: string, id: number): Promise<Row | undefined> {
  return (await readOrders(db, { id }))[0];
}

/** How many orders are still `en cola` or `en proceso`. */
export function unfinished(db: string): Promise<number> {
  return countOrders(db, { estados: ["en cola", "en proceso"] });
}

/** Waits until order `id` of `db` is `en proceso`. */
export function waitForInProcess(db: string, id: number, timeoutMs = 10_000): Promise<true> {
  return waitFor(
    async () => (await row(db, id))?.estado === "en proceso" || undefined,
    `order #${id} en proceso in ${db}`,
    timeoutMs,
  );
}

/** Waits until every order of `db` is `listo` or `fallido` (and there are at least `count`). */
export function waitForFinished(db: string, count: number, timeoutMs = 10_000): Promise<Row[]> {
  return waitFor(
    async () => {
      const all = await rows(db);
      return all.length >= count && all.every((r) => r.estado === "listo" || r.estado === "fallido")
        ? all
        : undefined;
    },
    `${count} orders finished in ${db}`,
    timeoutMs,
  );
}

/** The greeting's `capacidad`, read from a fresh connection. */
export async function capacity(
  port: number,
  hostname = "127.0.0.1",
): Promise<{ max: number; libres: number }> {
  await using client = await TestClient.open(port, hostname);
  return client.bienvenida.capacidad as { max: number; libres: number };
}

/** Waits until the greeting shows every permit free again. */
export function waitForFullCapacity(port: number, timeoutMs = 10_000): Promise<unknown> {
  return waitFor(
    async () => {
      const { max, libres } = await capacity(port);
      return libres === max;
    },
    "every admission permit back",
    timeoutMs,
  );
}

/** Reads lines until the server closes the connection; fails if it does not within `timeoutMs`. */
export async function readUntilClosed(client: TestClient, timeoutMs = 5000): Promise<string[]> {
  const lines: string[] = [];
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const line = await client.readLine(Math.max(1, deadline - Date.now())).catch((error) => {
      // A reset instead of an orderly close still means "closed".
      if (error instanceof Deno.errors.ConnectionReset) return null;
      throw error;
    });
    if (line === null) return lines;
    lines.push(line);
  }
}

/**
 * Reads lines until `replies` replies (lines with `ok`) and `events` event
 * lines (with `evento`) have arrived, in whatever interleaving they come.
 */
export async function readRepliesAndEvents(
  client: TestClient,
  replies: number,
  events: number,
  timeoutMs = 20_000,
): Promise<{ replies: Record<string, unknown>[]; events: Record<string, unknown>[] }> {
  const result = {
    replies: [] as Record<string, unknown>[],
    events: [] as Record<string, unknown>[],
  };
  const deadline = Date.now() + timeoutMs;
  while (result.replies.length < replies || result.events.length < events) {
    const line = await client.readJson(Math.max(1, deadline - Date.now()));
    if (Object.hasOwn(line, "evento")) result.events.push(line);
    else result.replies.push(line);
  }
  return result;
}

/** Whether `line` is a JSON reply with this `codigo`. */
export function hasCodigo(line: string | undefined, codigo: string): boolean {
  if (line === undefined) return false;
  const value = JSON.parse(line);
  return value.ok === false && value.codigo === codigo;
}

/** UTF-8 length of a value's compact JSON. */
export function jsonBytes(value: unknown): number {
  return new TextEncoder().encode(JSON.stringify(value)).length;
}

/**
 * A valid order whose compact JSON is exactly `bytes` bytes long (ASCII
 * only), padded with products of at most 200 characters.
 */
export function orderOfSize(bytes: number, cliente = "Ana"): Record<string, unknown> {
  const productos: string[] = [];
  const build = () => order({ cliente, productos });
  const base = jsonBytes({ ...build(), productos: [] });
  if (bytes < base + 3) throw new RangeError(`Cannot build an order of ${bytes} bytes`);
  let left = bytes - base;
  // Each product costs its length plus 2 quotes, plus 1 comma after the first.
  while (left > 0) {
    const overhead = productos.length === 0 ? 2 : 3;
    let length = Math.min(200, left - overhead);
    // Never leave a remainder too small for another product.
    const rest = left - overhead - length;
    if (rest > 0 && rest < 4) length -= 4 - rest;
    productos.push("x".repeat(length));
    left -= overhead + length;
  }
  const result = build();
  if (jsonBytes(result) !== bytes) throw new Error(`orderOfSize(${bytes}) built the wrong size`);
  return result;
}

/** Runs `server.ts` with `args` to completion (for `--help`, bad flags, `stats`). */
export function runServerCli(
  args: string[],
  permissions: string[] = ["--allow-read"],
): Promise<CliResult> {
  return runScript("server.ts", args, permissions);
}

/** The non-empty lines of a text. */
export function lines(text: string): string[] {
  return text.split("\n").filter((line) => line.trim() !== "");
}

/**
 * Loads a worker module once, in the same sandbox the pool uses, and has it
 * process one ordinary order. Under `deno test` a worker module is
 * type-checked when first loaded, which on a cold cache takes seconds;
 * doing it before the tests keeps short `timeoutMs` values from counting
 * that time against the first order.
 */
export async function warmUpWorker(url: URL, timeoutMs = 60_000): Promise<void> {
  const worker = new Worker(url, { type: "module", deno: { permissions: "none" } });
  try {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const timer = setTimeout(() => reject(new Error(`${url} did not load`)), timeoutMs);
    worker.onmessage = () => resolve();
    worker.onerror = (event) => {
      event.preventDefault();
      reject(new Error(`${url} failed to load: ${event.message}`));
    };
    worker.postMessage({
      id: 1,
      workMs: 0,
      workMode: "sleep",
      pedido: { cliente: "calentamiento", productos: ["pan"], direccion: "Calle 1" },
    });
    await promise.finally(() => clearTimeout(timer));
  } finally {
    worker.terminate();
  }
}
