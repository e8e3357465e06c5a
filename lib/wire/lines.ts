/**
 * Lines out of a byte stream, for everything that reads the server's replies
 * (the client, the load tool, the soak, the tests) and for answers typed at
 * the client's prompt. One splitter works on bytes, so the load tool can
 * classify a line without decoding it; the text splitter and the async
 * reader are built on it.
 *
 * A line ends at `\n`, and a `\r` before it is dropped. `\n` never occurs
 * inside a multi-byte UTF-8 character, so splitting bytes first and decoding
 * each whole line is exact, whatever the chunk boundaries.
 *
 * @module
 */

/** Longest line accepted by default, in bytes: far above the largest reply (statistics, ~150 KB). */
export const DEFAULT_MAX_LINE_BYTES = 4 * 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const EMPTY = new Uint8Array(0);

/**
 * Splits bytes into lines, incrementally, without decoding them. Each whole
 * line is handed to a callback as a range of a buffer that is only valid
 * during the call.
 *
 * @example
 * ```ts
 * const splitter = new ByteLineSplitter();
 * const lengths: number[] = [];
 * splitter.push(new TextEncoder().encode('{"ok":true}\r\n{"o'), (_, start, end) => lengths.push(end - start));
 * lengths; // [11]
 * splitter.rest(); // the 3 bytes of '{"o', kept for the next push
 * ```
 */
export class ByteLineSplitter {
  readonly #maxBytes: number;
  #carry = EMPTY;

  /** @param maxLineBytes longest line, in bytes; a longer one makes {@linkcode push} throw. */
  constructor(maxLineBytes = DEFAULT_MAX_LINE_BYTES) {
    this.#maxBytes = maxLineBytes;
  }

  /** The unfinished line's bytes (a copy), for the end of the input. */
  rest(): Uint8Array {
    return this.#carry.slice();
  }

  /**
   * Feeds bytes; calls `onLine` with each line they complete, in order,
   * without its `\r\n` or `\n`. The chunk may be reused after the call.
   *
   * @throws {RangeError} if the unfinished line grows past the limit
   */
  push(chunk: Uint8Array, onLine: (bytes: Uint8Array, start: number, end: number) => void): void {
    let data = chunk;
    if (this.#carry.length > 0) {
      data = new Uint8Array(this.#carry.length + chunk.length);
      data.set(this.#carry);
      data.set(chunk, this.#carry.length);
    }
    let start = 0;
    while (start < data.length) {
      const end = data.indexOf(LF, start);
      if (end === -1) break;
      onLine(data, start, end > start && data[end - 1] === CR ? end - 1 : end);
      start = end + 1;
    }
    this.#carry = start >= data.length ? EMPTY : data.slice(start);
    if (this.#carry.length > this.#maxBytes) {
      throw new RangeError(`línea de más de ${this.#maxBytes} bytes`);
    }
  }
}

/**
 * Splits UTF-8 bytes into text lines, incrementally. Characters cut between
 * chunks are reassembled.
 *
 * @example
 * ```ts
 * const splitter = new LineSplitter();
 * splitter.push(new TextEncoder().encode('{"ok":true}\n{"o')); // ['{"ok":true}']
 * splitter.push(new TextEncoder().encode('k":false}\n')); // ['{"ok":false}']
 * ```
 */
export class LineSplitter {
  readonly #bytes: ByteLineSplitter;
  readonly #decoder = new TextDecoder("utf-8", { fatal: true });

  /** @param maxLineBytes longest line, in bytes; a longer one makes {@linkcode push} throw. */
  constructor(maxLineBytes = DEFAULT_MAX_LINE_BYTES) {
    this.#bytes = new ByteLineSplitter(maxLineBytes);
  }

  /**
   * The text after the last line break (an unterminated line).
   *
   * @throws {TypeError} if it is not valid UTF-8 (a character cut by the end of the input)
   */
  get rest(): string {
    return this.#decoder.decode(this.#bytes.rest());
  }

  /**
   * Feeds bytes; returns the lines they completed, without their breaks.
   *
   * @throws {TypeError} on invalid UTF-8
   * @throws {RangeError} if a line grows past the limit
   */
  push(chunk: Uint8Array): string[] {
    const lines: string[] = [];
    this.#bytes.push(chunk, (bytes, start, end) => {
      lines.push(this.#decoder.decode(bytes.subarray(start, end)));
    });
    return lines;
  }
}

/** A source with Deno's `read`: fills the buffer, returns the byte count or `null` at the end. */
export interface ByteReader {
  read(buffer: Uint8Array): Promise<number | null>;
}

const READ_BYTES = 64 * 1024;

/**
 * Reads text lines one at a time from a stream or a connection, keeping what
 * it read ahead for the next call. Errors of the source (a reset, a closed
 * connection) are thrown by {@linkcode LineReader.readLine}. With a stream,
 * call {@linkcode LineReader.release} when done, to unlock it.
 *
 * @example
 * ```ts
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: 8888 });
 * const reader = new LineReader(conn);
 * const greeting = await reader.readLine(); // null if the server closed at once
 * ```
 */
export class LineReader {
  readonly #next: () => Promise<Uint8Array | null>;
  readonly #release: () => void;
  readonly #splitter: LineSplitter;
  readonly #lines: string[] = [];
  #ended = false;

  /**
   * @param source a byte stream (stdin's `readable`) or anything with `read` (a connection)
   * @param maxLineBytes longest line, in bytes
   */
  constructor(
    source: ReadableStream<Uint8Array> | ByteReader,
    maxLineBytes = DEFAULT_MAX_LINE_BYTES,
  ) {
    this.#splitter = new LineSplitter(maxLineBytes);
    if (source instanceof ReadableStream) {
      const reader = source.getReader();
      this.#next = async () => {
        const { done, value } = await reader.read();
        return done ? null : value;
      };
      this.#release = () => reader.releaseLock();
    } else {
      const buffer = new Uint8Array(READ_BYTES);
      this.#next = async () => {
        const count = await source.read(buffer);
        return count === null ? null : buffer.subarray(0, count);
      };
      this.#release = () => {};
    }
  }

  /** The next line, or the unterminated last one, or `null` at end of input. */
  async readLine(): Promise<string | null> {
    while (this.#lines.length === 0) {
      if (this.#ended) return null;
      const chunk = await this.#next();
      if (chunk === null) {
        this.#ended = true;
        const rest = this.#splitter.rest;
        if (rest !== "") this.#lines.push(rest);
      } else {
        this.#lines.push(...this.#splitter.push(chunk));
      }
    }
    return this.#lines.shift()!;
  }

  /** Unlocks a stream source; lines read ahead are dropped. Nothing to do for a connection. */
  release(): void {
    this.#release();
  }
}
