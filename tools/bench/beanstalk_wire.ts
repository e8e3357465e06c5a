/**
 * beanstalkd's `put` on the wire, pure: every put frame of a run encoded
 * ahead of time into one buffer ({@linkcode encodePuts}), and a counter of
 * the `INSERTED <id>\r\n` replies that reads raw bytes
 * ({@linkcode InsertedCounter}). No I/O; `tools/bench/beanstalkd.ts` drives
 * the sockets.
 *
 * From beanstalkd's `doc/protocol.txt`: a put is
 * `put <pri> <delay> <ttr> <bytes>\r\n<data>\r\n`, where `<bytes>` counts the
 * data's bytes (not characters), and a stored job is answered
 * `INSERTED <id>\r\n`. Every other answer to a put (`BURIED <id>`,
 * `EXPECTED_CRLF`, `JOB_TOO_BIG`, `DRAINING`, `OUT_OF_MEMORY`,
 * `INTERNAL_ERROR`, `BAD_FORMAT`, `UNKNOWN_COMMAND`) means the job was not
 * stored as asked, so the counter stops there.
 *
 * @module
 */

/** Priority of every put: beanstalkd's conventional default (0 is most urgent). */
export const PUT_PRIORITY = 1024;
/** Seconds before a put job becomes ready: none. */
export const PUT_DELAY = 0;
/** Seconds a reserved job may run before beanstalkd releases it; never reached here. */
export const PUT_TTR = 60;

/** Every put of a run, back to back: put `i` is `bytes[offsets[i]..offsets[i + 1])`. */
export interface PutFrames {
  bytes: Uint8Array;
  /** `count + 1` offsets, so puts `from..to` are one contiguous slice. */
  offsets: Uint32Array;
  count: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Encodes `count` puts whose data is `body(i)`, in order, into one buffer:
 * a run then sends the next `k` puts as one slice, with no encoding or
 * copying while it is timed.
 *
 * @example
 * ```ts
 * const frames = encodePuts(2, (i) => `café ${i}`);
 * new TextDecoder().decode(frames.bytes.subarray(frames.offsets[1], frames.offsets[2]));
 * // "put 1024 0 60 7\r\ncafé 1\r\n" (7 bytes: "é" takes two)
 * ```
 */
export function encodePuts(count: number, body: (index: number) => string): PutFrames {
  const offsets = new Uint32Array(count + 1);
  let bytes = new Uint8Array(Math.max(1024, count * 160));
  let scratch = new Uint8Array(1024);
  let length = 0;
  for (let i = 0; i < count; i++) {
    const text = body(i);
    // A UTF-8 encoding takes at most 3 bytes per UTF-16 unit.
    if (scratch.length < text.length * 3) scratch = new Uint8Array(text.length * 3);
    const size = encoder.encodeInto(text, scratch).written;
    const header = encoder.encode(`put ${PUT_PRIORITY} ${PUT_DELAY} ${PUT_TTR} ${size}\r\n`);
    const needed = length + header.length + size + 2;
    if (needed > bytes.length) {
      const grown = new Uint8Array(Math.max(needed, bytes.length * 2));
      grown.set(bytes.subarray(0, length));
      bytes = grown;
    }
    bytes.set(header, length);
    bytes.set(scratch.subarray(0, size), length + header.length);
    bytes[needed - 2] = CR;
    bytes[needed - 1] = LF;
    length = needed;
    offsets[i + 1] = length;
  }
  return { bytes: bytes.subarray(0, length), offsets, count };
}

/** A reply to a put other than `INSERTED <id>`: the job was not stored as asked. */
export class UnexpectedReply extends Error {
  override name = "UnexpectedReply";
  /** The reply as received, without its line end (cut if it was overlong). */
  readonly reply: string;

  constructor(reply: string) {
    super(`respuesta inesperada de beanstalkd a un put: ${JSON.stringify(reply)}`);
    this.reply = reply;
  }
}

const CR = 0x0d;
const LF = 0x0a;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const INSERTED = encoder.encode("INSERTED ");
/** `INSERTED ` + a 64-bit id (at most 20 digits) + CR: any longer unfinished line is not one. */
const MAX_REPLY_BYTES = INSERTED.length + 20 + 1;

/**
 * Counts `INSERTED <id>\r\n` replies in a byte stream cut anywhere, without
 * decoding them: the count is all a run needs, since beanstalkd answers the
 * puts of one connection in order.
 *
 * @example
 * ```ts
 * const counter = new InsertedCounter();
 * counter.push(new TextEncoder().encode("INSERTED 1\r\nINSERTED 2\r\nINSERT")); // 2
 * counter.push(new TextEncoder().encode("ED 3\r\n")); // 1
 * counter.push(new TextEncoder().encode("JOB_TOO_BIG\r\n")); // throws UnexpectedReply
 * ```
 */
export class InsertedCounter {
  /** The start of a line cut by the end of a chunk. */
  readonly #partial = new Uint8Array(MAX_REPLY_BYTES);
  #partialLength = 0;

  /**
   * Feeds bytes; returns how many replies they completed. The chunk may be reused afterwards.
   *
   * @throws {UnexpectedReply} at the first line that is not `INSERTED <id>\r\n`
   */
  push(chunk: Uint8Array): number {
    let count = 0;
    let from = 0;
    while (true) {
      const lf = chunk.indexOf(LF, from);
      if (lf === -1) break;
      if (this.#partialLength === 0) {
        if (!isInserted(chunk, from, lf)) throw unexpected(chunk.subarray(from, lf));
      } else {
        this.#keep(chunk.subarray(from, lf));
        const line = this.#partial.subarray(0, this.#partialLength);
        this.#partialLength = 0;
        if (!isInserted(line, 0, line.length)) throw unexpected(line);
      }
      count++;
      from = lf + 1;
    }
    if (from < chunk.length) this.#keep(chunk.subarray(from));
    return count;
  }

  /** Appends to the unfinished line; a line longer than any `INSERTED` reply is not one. */
  #keep(bytes: Uint8Array) {
    if (this.#partialLength + bytes.length > MAX_REPLY_BYTES) {
      const start = this.#partial.subarray(0, this.#partialLength);
      const cut = Math.max(0, MAX_REPLY_BYTES - this.#partialLength);
      throw unexpected(new Uint8Array([...start, ...bytes.subarray(0, cut)]), true);
    }
    this.#partial.set(bytes, this.#partialLength);
    this.#partialLength += bytes.length;
  }
}

/** Whether `bytes[start..end)` (the line without its LF) is `INSERTED <digits>\r`. */
function isInserted(bytes: Uint8Array, start: number, end: number): boolean {
  const digitsEnd = end - 1;
  if (digitsEnd - start <= INSERTED.length || bytes[digitsEnd] !== CR) return false;
  for (let k = 0; k < INSERTED.length; k++) {
    if (bytes[start + k] !== INSERTED[k]) return false;
  }
  for (let position = start + INSERTED.length; position < digitsEnd; position++) {
    const byte = bytes[position]!;
    if (byte < DIGIT_0 || byte > DIGIT_9) return false;
  }
  return true;
}

function unexpected(line: Uint8Array, cut = false): UnexpectedReply {
  const text = decoder.decode(line).replace(/\r$/, "");
  return new UnexpectedReply(cut ? `${text}…` : text);
}
