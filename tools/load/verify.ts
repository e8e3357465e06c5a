/**
 * After a run: does the database hold every acknowledged order exactly once,
 * with the content that was sent? The ledger keeps only (id, index) pairs;
 * the content is rebuilt from the index by the run's {@linkcode OrderGenerator}.
 * The exactly-once comparison itself is `tools/ledger.ts`, shared with the
 * soak and the reliability tests; this module adds what only the load tool
 * can check (content, invalid messages stored, completion).
 *
 * `verifyOrders` is pure (rows in, findings out); `verifyDatabase` reads the
 * rows through the store's read side (any backend `--db` can name),
 * optionally waiting first until no order of the run is `en cola` or
 * `en proceso`.
 *
 * @module
 */
import { withReader } from "../../lib/store/open.ts";
import type { OrderGenerator } from "./orders.ts";
import {
  exactlyOnce,
  ExactlyOnceCheck,
  IdCollector,
  type IdList,
  type LedgerComparison,
  listIds,
} from "../ledger.ts";

export { type IdList, MAX_LISTED_IDS } from "../ledger.ts";

/**
 * The acknowledged orders of a run: id from the `ok` reply, and the index of
 * the message it answered (two growable typed arrays, 16 bytes per order);
 * and how many messages were sent (indices `0` to `sent - 1`).
 *
 * @example
 * ```ts
 * const ledger = new Ledger();
 * ledger.markSent(0);
 * ledger.add(101, 0);
 * [...ledger.entries()]; // [[0, 101]]
 * ```
 */
export class Ledger {
  #ids = new Float64Array(1024);
  #indices = new Float64Array(1024);
  #size = 0;
  #sent = 0;

  /** Messages sent: indices below this were written (or meant to be) to the server. */
  get sent(): number {
    return this.#sent;
  }

  /** Records that message `index` was handed to a connection. */
  markSent(index: number): void {
    if (index >= this.#sent) this.#sent = index + 1;
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

  /** Every (index, id) pair, in the order recorded. */
  *entries(): IterableIterator<[index: number, id: number]> {
    for (let i = 0; i < this.#size; i++) yield [this.#indices[i]!, this.#ids[i]!];
  }

  /** The ledger as plain values (copies), to send from a thread and add to another ledger. */
  export(): LedgerPart {
    return {
      ids: this.#ids.slice(0, this.#size),
      indices: this.#indices.slice(0, this.#size),
      sent: this.#sent,
    };
  }

  /** Adds another ledger's pairs and sent messages to this one. */
  merge(part: LedgerPart): void {
    for (let i = 0; i < part.ids.length; i++) this.add(part.ids[i]!, part.indices[i]!);
    if (part.sent > 0) this.markSent(part.sent - 1);
  }
}

/** A {@linkcode Ledger}'s contents as plain values. */
export interface LedgerPart {
  ids: Float64Array<ArrayBuffer>;
  indices: Float64Array<ArrayBuffer>;
  /** Messages below this index were sent. */
  sent: number;
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

/**
 * What verification found: the exactly-once comparison (lost, duplicated,
 * misfiled, invented, and rows stored without a reply received), plus the
 * load tool's own checks.
 */
export interface Verification extends LedgerComparison {
  /** Acknowledged ids whose row differs from what was sent. */
  altered: IdList;
  /** Rows holding a message that should have been rejected. */
  invalidStored: IdList;
  /** With `requireDone`: acknowledged ids not `listo`. */
  notDone?: IdList;
  /** Latest `fecha_fin` of an acknowledged order that is `listo`, epoch ms. */
  lastFinishedAt?: number;
}

/**
 * Compares the rows of a run against its ledger.
 *
 * @example
 * ```ts
 * const orders = new OrderGenerator("ab12");
 * const ledger = new Ledger();
 * ledger.markSent(0);
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
  const verifier = new OrderVerifier(ledger, orders, options.requireDone ?? false);
  for (const row of rows) verifier.add(row);
  return verifier.result();
}

/** The comparison of {@linkcode verifyOrders}, fed one row at a time (rows may be streamed). */
class OrderVerifier {
  readonly #orders: OrderGenerator;
  readonly #requireDone: boolean;
  readonly #check: ExactlyOnceCheck<number>;
  readonly #altered = new IdCollector();
  readonly #invalidStored = new IdCollector();
  readonly #notDone = new IdCollector();
  #lastFinishedAt: number | undefined;

  constructor(ledger: Ledger, orders: OrderGenerator, requireDone: boolean) {
    this.#orders = orders;
    this.#requireDone = requireDone;
    this.#check = new ExactlyOnceCheck(ledger.entries(), (index) => index < ledger.sent);
  }

  add(row: StoredOrder) {
    const index = this.#orders.indexOf(row.cliente);
    if (index === undefined) return; // another run's row, or someone else's
    if (this.#orders.kind(index) !== "valido") this.#invalidStored.add(row.id);
    if (this.#check.add(row.id, index) !== "acknowledged") return;
    if (!sameContent(row, this.#orders, index)) this.#altered.add(row.id);
    else if (row.estado === "listo" && row.fecha_fin !== null) {
      const fin = Date.parse(row.fecha_fin);
      if (this.#lastFinishedAt === undefined || fin > this.#lastFinishedAt) {
        this.#lastFinishedAt = fin;
      }
    }
    if (this.#requireDone && row.estado !== "listo") this.#notDone.add(row.id);
  }

  result(): Verification {
    return {
      ...this.#check.result(),
      altered: this.#altered.toJSON(),
      invalidStored: this.#invalidStored.toJSON(),
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
  return exactlyOnce(verification) && verification.altered.count === 0 &&
    verification.invalidStored.count === 0 && (verification.notDone?.count ?? 0) === 0;
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
  if (verification.misfiled.count > 0) {
    lines.push(`  ids confirmados que guardan otro pedido: ${listIds(verification.misfiled)}`);
  }
  if (verification.invented.count > 0) {
    lines.push(`  pedidos nunca enviados: ${listIds(verification.invented)}`);
  }
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
    const verifier = new OrderVerifier(ledger, orders, options.waitDone ?? false);
    for await (const row of reader.orders(run)) verifier.add(row);
    return verifier.result();
  });
}
