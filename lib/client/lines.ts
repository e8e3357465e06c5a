/**
 * Lines out of a byte stream: a pure splitter (for the server's replies) and
 * an async reader on top of it (for answers typed at a prompt).
 *
 * @module
 */

/** Longest line accepted by default, in characters: far above the largest reply (statistics, ~150 KB). */
export const DEFAULT_MAX_LINE_LENGTH = 4 * 1024 * 1024;

/**
 * Splits UTF-8 bytes into lines, incrementally. A line ends at `\n`; a `\r`
 * before it is dropped. Characters cut between chunks are reassembled.
 *
 * @example
 * ```ts
 * const splitter = new LineSplitter();
 * splitter.push(new TextEncoder().encode('{"ok":true}\n{"o')); // ['{"ok":true}']
 * splitter.push(new TextEncoder().encode('k":false}\n')); // ['{"ok":false}']
 * ```
 */
export class LineSplitter {
  readonly #decoder = new TextDecoder("utf-8", { fatal: true });
  readonly #maxLength: number;
  #partial = "";

  /** @param maxLineLength longest line, in characters; a longer one makes {@linkcode push} throw. */
  constructor(maxLineLength = DEFAULT_MAX_LINE_LENGTH) {
    this.#maxLength = maxLineLength;
  }

  /** The text after the last line break (an unterminated line). */
  get rest(): string {
    return this.#partial;
  }

  /**
   * Feeds bytes; returns the lines they completed, without their breaks.
   *
   * @throws {TypeError} on invalid UTF-8
   * @throws {RangeError} if a line grows past the limit
   */
  push(chunk: Uint8Array): string[] {
    const text = this.#partial + this.#decoder.decode(chunk, { stream: true });
    const pieces = text.split("\n");
    this.#partial = pieces.pop()!;
    if (this.#partial.length > this.#maxLength) {
      throw new RangeError(`línea de más de ${this.#maxLength} caracteres`);
    }
    return pieces.map((line) => line.endsWith("\r") ? line.slice(0, -1) : line);
  }
}

/**
 * Reads a stream one line at a time, keeping what it read ahead for the next
 * call. Call {@linkcode LineReader.release} when done, to unlock the stream.
 *
 * @example
 * ```ts
 * const reader = new LineReader(Deno.stdin.readable);
 * const name = await reader.readLine(); // null at end of input
 * reader.release();
 * ```
 */
export class LineReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #splitter = new LineSplitter();
  readonly #lines: string[] = [];
  #ended = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  /** The next line, or the unterminated last one, or `null` at end of input. */
  async readLine(): Promise<string | null> {
    while (this.#lines.length === 0) {
      if (this.#ended) return null;
      const { done, value } = await this.#reader.read();
      if (done) {
        this.#ended = true;
        const rest = this.#splitter.rest;
        if (rest !== "") this.#lines.push(rest);
      } else {
        this.#lines.push(...this.#splitter.push(value));
      }
    }
    return this.#lines.shift()!;
  }

  /** Unlocks the stream; lines read ahead are dropped. */
  release(): void {
    this.#reader.releaseLock();
  }
}
