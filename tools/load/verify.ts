/**
 * After a run: does the database hold every acknowledged order exactly once,
 * with the content that was sent? The ledger keeps only (id, index) pairs;
 * the content is rebuilt from the index by the run's {@linkcode OrderGenerator}.
 *
 * `verifyOrders` is pure (rows in, findings out); `verifyDatabase` reads the
 * rows through the store's read side (any backend `--db` can name),
 * optionally waiting first until no order of the run is `en cola` or
 * `en proceso`.
 *
 * @module
 */
import { openStore } from "../../lib/store/open.ts";
import type { OrderReader } from "../../lib/store/types.ts";
import type { OrderGenerator } from "./orders.ts";

/**
 * The acknowledged orders of a run: id from the `ok` reply, and the index of
 * the message it answered. Two growable typed arrays, 16 bytes per order.
 *
 * @example
 * ```ts
 * const ledger = new Ledger();
 * ledger.add(101, 0);
 * ledger.size; // 1
 * ```
 */
export class Ledger {
  #ids = new Float64Array(1024);
  #indices = new Float64Array(1024);
  #size = 0;

  /** Acknowledged orders recorded. */
  get size(): number {
    return this.#size;
  }

  /** Records that message `index` was acknowledged with `id`. */
  add(id: number, index: number): void {
    if (this.#size === this.#ids.length) {
      const ids = new Float64Array(this.#size * 2);
      const indices = new Float64Array(this.#size * 2);
      ids.set(this.#ids);
      indices.set(this.#indices);
      this.#ids = ids;
      this.#indices = indices;
    }
    this.#ids[this.#size] = id;
    this.#indices[this.#size] = index;
    this.#size++;
  }

  /** Every (id, index) pair, in the order recorded. */
  *entries(): IterableIterator<[id: number, index: number]> {
    for (let i = 0; i < this.#size; i++) yield [this.#ids[i]!, this.#indices[i]!];
  }
}

/** A stored order, as verification reads it. */
export interface StoredOrder {
  id: number;
  cliente: string;
  productos: readonly string[];
  direccion: string;
  estado: string;
  fecha_fin: string | null;
}

/** Ids with a problem: how many, and the first few. */
export interface IdList {
  count: number;
  ids: number[];
}

/** Most ids listed per kind of problem; the count is always complete. */
export const MAX_LISTED_IDS = 20;

/** What verification found. */
export interface Verification {
  /** Orders the server acknowledged in this run. */
  acknowledged: number;
  /** Rows of this run found in the database. */
  stored: number;
  /** Acknowledged ids missing from the database. */
  lost: IdList;
  /** Extra rows holding an order that is already stored under another id. */
  duplicated: IdList;
  /** Acknowledged ids whose row differs from what was sent. */
  altered: IdList;
  /** Rows holding a message that should have been rejected. */
  invalidStored: IdList;
  /** Rows of valid orders whose `ok` never arrived (the connection failed after the commit). */
  unacknowledged: number;
  /** With `requireDone`: acknowledged ids not `listo`. */
  notDone?: IdList;
  /** Latest `fecha_fin` of an acknowledged order that is `listo`, epoch ms. */
  lastFinishedAt?: number;
}

class IdCollector {
  count = 0;
  readonly ids: number[] = [];

  add(id: number) {
    this.count++;
    if (this.ids.length < MAX_LISTED_IDS) this.ids.push(id);
  }

  toJSON(): IdList {
    return { count: this.count, ids: [...this.ids].sort((a, b) => a - b) };
  }
}

/**
 * Compares the rows of a run against its ledger.
 *
 * @example
 * ```ts
 * const orders = new OrderGenerator("ab12");
 * const ledger = new Ledger();
 * ledger.add(1, 0);
 * const { cliente, productos, direccion } = orders.content(0);
 * const rows = [{ id: 1, cliente, productos, direccion, estado: "listo", fecha_fin: null }];
 * verifyOrders(ledger, rows, orders, { requireDone: true }).lost.count; // 0
 * ```
 */
export function verifyOrders(
  ledger: Ledger,
  rows: Iterable<StoredOrder>,
  orders: OrderGenerator,
  options: { requireDone?: boolean } = {},
): Verification {
  const verifier = new Verifier(ledger, orders, options.requireDone ?? false);
  for (const row of rows) verifier.add(row);
  return verifier.result();
}

/** The comparison of {@linkcode verifyOrders}, fed one row at a time. */
class Verifier {
  readonly #ledger: Ledger;
  readonly #orders: OrderGenerator;
  readonly #requireDone: boolean;
  readonly #indexById = new Map<number, number>();
  readonly #acknowledgedIndices = new Set<number>();
  readonly #found = new Set<number>();
  readonly #seenIndices = new Set<number>();
  readonly #duplicated = new IdCollector();
  readonly #altered = new IdCollector();
  readonly #invalidStored = new IdCollector();
  readonly #notDone = new IdCollector();
  #stored = 0;
  #unacknowledged = 0;
  #lastFinishedAt: number | undefined;

  constructor(ledger: Ledger, orders: OrderGenerator, requireDone: boolean) {
    this.#ledger = ledger;
    this.#orders = orders;
    this.#requireDone = requireDone;
    for (const [id, index] of ledger.entries()) {
      this.#indexById.set(id, index);
      this.#acknowledgedIndices.add(index);
    }
  }

  add(row: StoredOrder) {
    const index = this.#orders.indexOf(row.cliente);
    if (index === undefined) return;
    this.#stored++;
    if (this.#orders.kind(index) !== "valido") this.#invalidStored.add(row.id);
    const expectedIndex = this.#indexById.get(row.id);
    if (expectedIndex !== undefined) {
      this.#found.add(row.id);
      if (expectedIndex !== index || !sameContent(row, this.#orders, index)) {
        this.#altered.add(row.id);
      } else if (row.estado === "listo" && row.fecha_fin !== null) {
        const fin = Date.parse(row.fecha_fin);
        if (this.#lastFinishedAt === undefined || fin > this.#lastFinishedAt) {
          this.#lastFinishedAt = fin;
        }
      }
      if (this.#requireDone && row.estado !== "listo") this.#notDone.add(row.id);
    } else if (this.#acknowledgedIndices.has(index) || this.#seenIndices.has(index)) {
      this.#duplicated.add(row.id);
    } else {
      this.#unacknowledged++;
    }
    this.#seenIndices.add(index);
  }

  result(): Verification {
    const lost = new IdCollector();
    for (const id of this.#indexById.keys()) if (!this.#found.has(id)) lost.add(id);
    return {
      acknowledged: this.#ledger.size,
      stored: this.#stored,
      lost: lost.toJSON(),
      duplicated: this.#duplicated.toJSON(),
      altered: this.#altered.toJSON(),
      invalidStored: this.#invalidStored.toJSON(),
      unacknowledged: this.#unacknowledged,
      ...(this.#requireDone ? { notDone: this.#notDone.toJSON() } : {}),
      ...(this.#lastFinishedAt !== undefined ? { lastFinishedAt: this.#lastFinishedAt } : {}),
    };
  }
}

function sameContent(row: StoredOrder, orders: OrderGenerator, index: number): boolean {
  const expected = orders.content(index);
  if (row.cliente !== expected.cliente || row.direccion !== expected.direccion) return false;
  return row.productos.length === expected.productos.length &&
    row.productos.every((product, k) => product === expected.productos[k]);
}

/** Whether every problem count is zero (and, if checked, every order is `listo`). */
export function verificationPassed(verification: Verification): boolean {
  return verification.lost.count === 0 && verification.duplicated.count === 0 &&
    verification.altered.count === 0 && verification.invalidStored.count === 0 &&
    (verification.notDone?.count ?? 0) === 0;
}

function listIds(list: IdList): string {
  if (list.count === 0) return "0";
  const more = list.count > list.ids.length ? ", …" : "";
  return `${list.count} (${list.ids.map((id) => `#${id}`).join(", ")}${more})`;
}

/**
 * The verification in words, starting with the line `lost: 0, duplicated: 0`.
 *
 * @example
 * ```ts
 * renderVerification(verification).split("\n")[0]; // "lost: 0, duplicated: 0"
 * ```
 */
export function renderVerification(verification: Verification): string {
  const lines = [
    `lost: ${listIds(verification.lost)}, duplicated: ${listIds(verification.duplicated)}`,
    `  reconocidos ${verification.acknowledged}, en la base ${verification.stored}` +
    (verification.unacknowledged > 0
      ? ` (${verification.unacknowledged} guardados sin confirmación recibida)`
      : ""),
  ];
  if (verification.altered.count > 0) {
    lines.push(`  contenido distinto del enviado: ${listIds(verification.altered)}`);
  }
  if (verification.invalidStored.count > 0) {
    lines.push(`  mensajes inválidos guardados: ${listIds(verification.invalidStored)}`);
  }
  if (verification.notDone) lines.push(`  sin llegar a listo: ${listIds(verification.notDone)}`);
  return lines.join("\n");
}

/** Options for {@linkcode verifyDatabase}. */
export interface VerifyDatabaseOptions {
  /** Wait until no order of the run is `en cola` or `en proceso`, then require `listo`. */
  waitDone?: boolean;
  /** Longest wait, in milliseconds. @default 60000 */
  waitMs?: number;
  /** Delay between checks while waiting. @default 100 */
  pollMs?: number;
  /** Called after each check while waiting, with how many orders are unfinished. */
  onWait?: (unfinished: number) => void;
}

/**
 * Verifies a database against a run's ledger, through the store's read
 * side, so it can run while the server is still writing.
 *
 * @throws {Error} if the store cannot be opened or holds no orders table
 */
export async function verifyDatabase(
  target: string,
  ledger: Ledger,
  orders: OrderGenerator,
  options: VerifyDatabaseOptions = {},
): Promise<Verification> {
  const run = { clientePrefix: orders.clientPrefix };
  if (options.waitDone) {
    const deadline = Date.now() + (options.waitMs ?? 60_000);
    while (true) {
      const unfinished = await withReader(
        target,
        (reader) => reader.count({ ...run, estados: ["en cola", "en proceso"] }),
      );
      options.onWait?.(unfinished);
      if (unfinished === 0 || Date.now() >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 100));
    }
  }
  return withReader(target, async (reader) => {
    const verifier = new Verifier(ledger, orders, options.waitDone ?? false);
    for await (const row of reader.orders(run)) verifier.add(row);
    return verifier.result();
  });
}

async function withReader<T>(target: string, use: (reader: OrderReader) => Promise<T>): Promise<T> {
  const reader = await openStore(target, { readOnly: true });
  try {
    return await use(reader);
  } finally {
    await reader.close();
  }
}
