/**
 * Reading a batch (`--file`) within bounds. The whole batch is validated
 * before anything is sent, so it is held in memory; without bounds,
 * `--file /dev/zero` or an endless pipe grew the client by about 1.5 GB/s
 * until the system killed it.
 *
 * @module
 */
import { InputError } from "./errors.ts";

/**
 * Longest batch line, in bytes. The largest valid order is about 21,000
 * characters (a 200-character name, a 500-character address, 100 products
 * of 200, a 128-character key), at most 12 bytes each even written as
 * `\uXXXX` surrogate escapes: about 250 KB. Four times that still leaves
 * room for whitespace around the values.
 */
export const MAX_BATCH_LINE_BYTES = 1024 * 1024;
/** Most lines in a batch: far more than one connection is worth pipelining at once. */
export const MAX_BATCH_LINES = 100_000;
/** Most bytes in a batch, so that many long lines cannot add up to gigabytes either. */
export const MAX_BATCH_BYTES = 64 * 1024 * 1024;

const NEWLINE = 0x0a;

/** The limits, for tests. */
export interface BatchLimits {
  lineBytes: number;
  lines: number;
  bytes: number;
}

const DEFAULT_LIMITS: BatchLimits = {
  lineBytes: MAX_BATCH_LINE_BYTES,
  lines: MAX_BATCH_LINES,
  bytes: MAX_BATCH_BYTES,
};

/**
 * Checks a batch's bytes as they arrive, so that reading stops at the first
 * byte over a limit. Pure.
 *
 * @example
 * ```ts
 * const guard = new BatchGuard("pedidos.ndjson");
 * guard.push(new TextEncoder().encode('{"cliente":"Ana"}\n')); // fine
 * ```
 */
export class BatchGuard {
  readonly #name: string;
  readonly #limits: BatchLimits;
  #bytes = 0;
  /** The line the next byte belongs to, from 1. */
  #line = 1;
  #lineBytes = 0;

  /** @param name how errors name the input, e.g. `stdin` */
  constructor(name: string, limits: BatchLimits = DEFAULT_LIMITS) {
    this.#name = name;
    this.#limits = limits;
  }

  /**
   * Accounts for the next chunk of input.
   *
   * @throws {InputError} one line naming the input and the limit it passed
   */
  push(chunk: Uint8Array): void {
    const { lineBytes, lines, bytes } = this.#limits;
    this.#bytes += chunk.length;
    if (this.#bytes > bytes) {
      throw new InputError(
        `${this.#name} pasa de ${describeBytes(bytes)}: divida el lote en varios`,
      );
    }
    let start = 0;
    while (true) {
      const end = chunk.indexOf(NEWLINE, start);
      const stop = end === -1 ? chunk.length : end;
      if ((stop > start || end !== -1) && this.#line > lines) {
        throw new InputError(
          `${this.#name} tiene más de ${lines} líneas: divida el lote en varios`,
        );
      }
      this.#lineBytes += stop - start;
      if (this.#lineBytes > lineBytes) {
        throw new InputError(
          `${this.#name}, línea ${this.#line}: pasa de ${
            describeBytes(lineBytes)
          } sin un salto de línea; un pedido ocupa mucho menos`,
        );
      }
      if (end === -1) return;
      this.#line++;
      this.#lineBytes = 0;
      start = end + 1;
    }
  }
}

/**
 * Reads a whole batch from `stream`, stopping (and cancelling the stream) as
 * soon as it passes a limit.
 *
 * @throws {InputError} if it passes a limit
 */
export async function readBatch(
  stream: ReadableStream<Uint8Array>,
  name: string,
  limits: BatchLimits = DEFAULT_LIMITS,
): Promise<Uint8Array> {
  const guard = new BatchGuard(name, limits);
  const chunks: Uint8Array[] = [];
  let length = 0;
  const reader = stream.getReader();
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      guard.push(value);
      chunks.push(value);
      length += value.length;
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw error;
  } finally {
    reader.releaseLock();
  }
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

function describeBytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}
