/**
 * The exactly-once check shared by `load --verify`, the soak and the
 * reliability tests: the orders a client sent and saw acknowledged, compared
 * with the rows the store holds. Pure: the caller reads the rows (through
 * whatever store it uses) and hands them over one by one.
 *
 * Each stored row belongs to one order sent, named by a key (a `cliente`
 * tag, or the load tool's message index). The contract checked:
 * - every acknowledged id is stored (else **lost**), holding the order it
 *   acknowledged (else **misfiled**);
 * - no order is stored twice, nor again under an id other than the one
 *   acknowledged (else **duplicated**);
 * - every stored order was sent (else **invented**).
 * A row of an order sent but never acknowledged (its reply was lost to a
 * crash or a disconnect) breaks nothing; it is counted as **unacknowledged**.
 *
 * @module
 */

/** Ids with a problem: how many, and the first few (ascending). */
export interface IdList {
  count: number;
  ids: number[];
}

/** Most ids listed per kind of problem; the count is always complete. */
export const MAX_LISTED_IDS = 20;

/** Collects ids for an {@linkcode IdList}, keeping the count complete and the list short. */
export class IdCollector {
  #count = 0;
  readonly #ids: number[] = [];

  /** Records one id. */
  add(id: number): void {
    this.#count++;
    if (this.#ids.length < MAX_LISTED_IDS) this.#ids.push(id);
  }

  /** The count and the first ids, sorted. */
  toJSON(): IdList {
    return { count: this.#count, ids: [...this.#ids].sort((a, b) => a - b) };
  }
}

/** How one stored row compares with the ledger. */
export type RowVerdict =
  /** The acknowledged order, under its acknowledged id. */
  | "acknowledged"
  /** An acknowledged id holding another order. */
  | "misfiled"
  /** An order already stored, or acknowledged under another id. */
  | "duplicated"
  /** An order nobody sent. */
  | "invented"
  /** An order sent, stored once, whose acknowledgement never arrived. */
  | "unacknowledged";

/** What the comparison found; every list must be empty for the contract to hold. */
export interface LedgerComparison {
  /** Orders acknowledged. */
  acknowledged: number;
  /** Rows compared (the rows of this run). */
  stored: number;
  /** Acknowledged ids with no row. */
  lost: IdList;
  /** Rows holding an order that is already stored, or acknowledged under another id. */
  duplicated: IdList;
  /** Acknowledged ids whose row holds another order. */
  misfiled: IdList;
  /** Rows holding an order that was never sent. */
  invented: IdList;
  /** Rows of orders sent whose acknowledgement never arrived (not an error). */
  unacknowledged: number;
}

/**
 * Compares stored rows with a ledger of acknowledgements, one row at a time
 * (rows may come from a cursor too large to hold).
 *
 * @example
 * ```ts
 * const check = new ExactlyOnceCheck([["a", 1], ["b", 2]], (tag) => tag === "a" || tag === "b");
 * check.add(1, "a"); // "acknowledged"
 * check.add(3, "a"); // "duplicated"
 * check.result().lost; // { count: 1, ids: [2] }
 * ```
 */
export class ExactlyOnceCheck<K> {
  readonly #keyById = new Map<number, K>();
  readonly #acknowledgedKeys = new Set<K>();
  readonly #wasSent: (key: K) => boolean;
  readonly #seenKeys = new Set<K>();
  readonly #found = new Set<number>();
  readonly #duplicated = new IdCollector();
  readonly #misfiled = new IdCollector();
  readonly #invented = new IdCollector();
  #stored = 0;
  #unacknowledged = 0;

  /**
   * @param acknowledged each acknowledged order: its key and the id its `ok` reply gave
   * @param wasSent whether an order with this key was written to the server
   */
  constructor(acknowledged: Iterable<readonly [key: K, id: number]>, wasSent: (key: K) => boolean) {
    for (const [key, id] of acknowledged) {
      this.#keyById.set(id, key);
      this.#acknowledgedKeys.add(key);
    }
    this.#wasSent = wasSent;
  }

  /** Classifies one stored row: its id and the key of the order it holds. */
  add(id: number, key: K): RowVerdict {
    this.#stored++;
    const seen = this.#seenKeys.has(key);
    this.#seenKeys.add(key);
    const acknowledgedKey = this.#keyById.get(id);
    if (acknowledgedKey !== undefined) {
      this.#found.add(id);
      if (acknowledgedKey === key) return "acknowledged";
      this.#misfiled.add(id);
      return "misfiled";
    }
    if (!this.#wasSent(key)) {
      this.#invented.add(id);
      return "invented";
    }
    if (seen || this.#acknowledgedKeys.has(key)) {
      this.#duplicated.add(id);
      return "duplicated";
    }
    this.#unacknowledged++;
    return "unacknowledged";
  }

  /** The comparison of every row added so far; acknowledged ids not seen are lost. */
  result(): LedgerComparison {
    const lost = new IdCollector();
    for (const id of this.#keyById.keys()) if (!this.#found.has(id)) lost.add(id);
    return {
      acknowledged: this.#keyById.size,
      stored: this.#stored,
      lost: lost.toJSON(),
      duplicated: this.#duplicated.toJSON(),
      misfiled: this.#misfiled.toJSON(),
      invented: this.#invented.toJSON(),
      unacknowledged: this.#unacknowledged,
    };
  }
}

/** Whether nothing was lost, duplicated, misfiled or invented. */
export function exactlyOnce(comparison: LedgerComparison): boolean {
  return comparison.lost.count === 0 && comparison.duplicated.count === 0 &&
    comparison.misfiled.count === 0 && comparison.invented.count === 0;
}

/** What a client driving tagged orders recorded: every `cliente` tag sent, and the acknowledged ones. */
export interface TagLedger {
  /** Every tag written to a socket, acknowledged or not. */
  sent: Set<string>;
  /** Acknowledged orders: tag → id from the `ok` reply. */
  acked: Map<string, number>;
}

/** A stored row as the tag comparison needs it. */
export interface TaggedRow {
  id: number;
  cliente: string;
  estado: string;
}

/** A tag comparison: the ledger's findings, and the rows not in the state expected of them. */
export interface TagComparison extends LedgerComparison {
  /** Rows whose `estado` is not the one expected. */
  wrongState: IdList;
}

/**
 * Compares rows named by their `cliente` tag with a {@linkcode TagLedger},
 * and checks that each row is in the state expected of it (`listo` unless
 * `expectedState` says otherwise).
 *
 * @example
 * ```ts
 * const ledger = { sent: new Set(["a", "b"]), acked: new Map([["a", 1]]) };
 * const result = compareTags([{ id: 1, cliente: "a", estado: "listo" }], ledger);
 * exactlyOnce(result); // true
 * ```
 */
export function compareTags(
  rows: Iterable<TaggedRow>,
  ledger: TagLedger,
  expectedState: (cliente: string) => string = () => "listo",
): TagComparison {
  const check = new ExactlyOnceCheck(ledger.acked, (tag) => ledger.sent.has(tag));
  const wrongState = new IdCollector();
  for (const row of rows) {
    check.add(row.id, row.cliente);
    if (row.estado !== expectedState(row.cliente)) wrongState.add(row.id);
  }
  return { ...check.result(), wrongState: wrongState.toJSON() };
}

/**
 * An id list in words: `0`, or the count and the first ids.
 *
 * @example
 * ```ts
 * listIds({ count: 3, ids: [4, 9] }); // "3 (#4, #9, …)"
 * ```
 */
export function listIds(list: IdList): string {
  if (list.count === 0) return "0";
  const more = list.count > list.ids.length ? ", …" : "";
  return `${list.count} (${list.ids.map((id) => `#${id}`).join(", ")}${more})`;
}
