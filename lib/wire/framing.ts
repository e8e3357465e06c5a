/**
 * Incremental message framer for the pedidos TCP protocol (pure, no I/O).
 *
 * Clients send UTF-8 JSON objects. A message ends at the closing brace of a complete top-level
 * object, so NDJSON, raw objects without a trailing newline, pretty-printed multi-line objects and
 * several objects on one line all work. Invalid input yields one error frame and the framer
 * resynchronises at the next newline.
 *
 * A message left unfinished at the end of a line is continued by the next line only if that line
 * could be part of it: a line that is on its own one complete JSON value starts afresh, and the
 * unfinished message is one error. The exception is where an array element is expected, as in a
 * pretty-printed array: there only an object with members starts afresh.
 *
 * @example
 * ```ts
 * import { MessageFramer } from "./framing.ts";
 *
 * const framer = new MessageFramer();
 * const bytes = new TextEncoder().encode('{"cliente":"Ana"}\n{"cliente":');
 * framer.push(bytes); // [{ tipo: "mensaje", valor: { cliente: "Ana" } }]
 * framer.pendingBytes; // 11: the second message is still incomplete
 * ```
 *
 * @module
 */

/**
 * Why a chunk of input could not be framed as a message.
 *
 * - `json_invalido`: not a JSON object (syntax, UTF-8, nesting); the framer resynchronises.
 * - `demasiado_grande`: over the size limit; the connection must be closed.
 *
 * @example
 * ```ts
 * import type { FrameErrorCode } from "./framing.ts";
 *
 * const mustClose = (codigo: FrameErrorCode) => codigo === "demasiado_grande";
 * ```
 */
export type FrameErrorCode = "json_invalido" | "demasiado_grande";

/**
 * One result of framing: a parsed JSON object, or an error with a short Spanish description.
 *
 * @example
 * ```ts
 * import type { Frame } from "./framing.ts";
 *
 * function describe(frame: Frame): string {
 *   return frame.tipo === "mensaje" ? JSON.stringify(frame.valor) : `${frame.codigo}: ${frame.detalle}`;
 * }
 * ```
 */
export type Frame =
  | { tipo: "mensaje"; valor: Record<string, unknown> }
  | { tipo: "error"; codigo: FrameErrorCode; detalle: string };

/**
 * Limits for a {@linkcode MessageFramer}. Both must be positive integers.
 *
 * @example
 * ```ts
 * import { MessageFramer, type FramerOptions } from "./framing.ts";
 *
 * const options: FramerOptions = { maxBytes: 4096, maxDepth: 8 };
 * const framer = new MessageFramer(options);
 * ```
 */
export interface FramerOptions {
  /**
   * Maximum size of one message in bytes, from its `{` to its `}`.
   * @default 65536
   */
  maxBytes?: number;
  /**
   * Maximum nesting of objects and arrays; the top-level object counts as 1.
   * @default 32
   */
  maxDepth?: number;
}

/**
 * Default maximum size of one message, in bytes.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_MESSAGE_BYTES, MessageFramer } from "./framing.ts";
 *
 * const framer = new MessageFramer({ maxBytes: DEFAULT_MAX_MESSAGE_BYTES / 4 });
 * ```
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 65536;

const DEFAULT_MAX_DEPTH = 32;
const MIN_BUFFER_CAPACITY = 1024;

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const PLUS = 0x2b;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const SLASH = 0x2f;
const DIGIT_0 = 0x30;
const DIGIT_1 = 0x31;
const DIGIT_9 = 0x39;
const COLON = 0x3a;
const UPPER_A = 0x41;
const UPPER_E = 0x45;
const UPPER_F = 0x46;
const OPEN_BRACKET = 0x5b;
const BACKSLASH = 0x5c;
const CLOSE_BRACKET = 0x5d;
const LOWER_A = 0x61;
const LOWER_B = 0x62;
const LOWER_E = 0x65;
const LOWER_F = 0x66;
const LOWER_N = 0x6e;
const LOWER_R = 0x72;
const LOWER_T = 0x74;
const LOWER_U = 0x75;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const DEL = 0x7f;

const TRUE_BYTES = new TextEncoder().encode("true");
const FALSE_BYTES = new TextEncoder().encode("false");
const NULL_BYTES = new TextEncoder().encode("null");

// What the framer is doing with the next byte.
const MODE_BETWEEN = 0; // skipping whitespace until a message starts
const MODE_MESSAGE = 1; // inside a message, running the syntax automaton
const MODE_GARBAGE = 2; // discarding a line that did not start with "{"; reports it at its LF
const MODE_DISCARD = 3; // discarding the rest of a line whose error was already reported
const MODE_TAIL = 4; // whitespace after a probed line's value (buffered) at the size limit
const MODE_CLOSED = 5;

// Automaton states. Structural states (those that skip whitespace) must stay <= AFTER_VALUE.
const S_OBJECT_START = 0; // after "{": a key or "}"
const S_OBJECT_KEY = 1; // after "," in an object: a key
const S_COLON = 2; // after a key
const S_VALUE = 3; // after ":" or after "," in an array
const S_ARRAY_START = 4; // after "[": a value or "]"
const S_AFTER_VALUE = 5; // "," or the closer of the innermost container
const S_STRING = 6;
const S_STRING_ESCAPE = 7; // after "\"
const S_STRING_UNICODE = 8; // inside the 4 hex digits of "\uXXXX"
const S_LITERAL = 9; // inside true, false or null
const S_NUMBER_MINUS = 10; // "-": a digit must follow
const S_NUMBER_ZERO = 11; // a leading "0": no more integer digits allowed
const S_NUMBER_INTEGER = 12;
const S_NUMBER_DOT = 13; // "." : a digit must follow
const S_NUMBER_FRACTION = 14;
const S_NUMBER_EXPONENT_MARK = 15; // "e"/"E": a sign or digit must follow
const S_NUMBER_EXPONENT_SIGN = 16; // a digit must follow
const S_NUMBER_EXPONENT = 17;

const CONTAINER_OBJECT = 0;
const CONTAINER_ARRAY = 1;

const LINE_FEED_UNKNOWN = -2;
const LINE_FEED_NONE = -1;

// No line of the current message is being checked for being a complete value on its own.
const NOT_PROBING = -1;

// A limit the message broke inside a line that may yet turn out to be a fresh message.
const BROKE_NONE = 0;
const BROKE_DEPTH = 1;
const BROKE_SIZE = 2;

const EXPECTED_OBJECT = "se esperaba un objeto JSON";
const INVALID_UTF8 = "UTF-8 inválido";
const INCOMPLETE_MESSAGE = "mensaje JSON incompleto";

/**
 * Splits a TCP byte stream into JSON-object messages, incrementally.
 *
 * Feed every chunk read from the socket to {@linkcode MessageFramer.push}; it returns the frames
 * those bytes completed. After a `demasiado_grande` frame the framer is {@linkcode closed}.
 *
 * @example
 * ```ts
 * import { MessageFramer } from "./framing.ts";
 *
 * const framer = new MessageFramer({ maxBytes: 1024 });
 * const encoder = new TextEncoder();
 * framer.push(encoder.encode('{"a":1}{"b"')); // [{ tipo: "mensaje", valor: { a: 1 } }]
 * framer.push(encoder.encode(':2}')); // [{ tipo: "mensaje", valor: { b: 2 } }]
 * framer.push(encoder.encode("hola\n")); // [{ tipo: "error", codigo: "json_invalido", ... }]
 * ```
 */
export class MessageFramer {
  readonly #maxBytes: number;
  readonly #maxDepth: number;
  #mode = MODE_BETWEEN;

  // Bytes of a message that started in an earlier chunk.
  #buffer = new Uint8Array(0);
  #bufferLength = 0;

  // Automaton state, kept between chunks.
  #state = S_OBJECT_START;
  #depth = 0;
  readonly #containers: Uint8Array;
  #stringIsKey = false;
  #lineBreakPending = false; // an LF was skipped since the last token of the message
  #literal = TRUE_BYTES;
  #literalIndex = 0;
  #hexDigitsLeft = 0;

  // The line being probed: it began while the message was unfinished, with a value (or a key
  // string) at depth #probeDepth; if it turns out to be one complete value, it starts afresh.
  #probeDepth = NOT_PROBING;
  #lineOffset = 0; // where that line's value starts, in bytes from the message start
  #lineIsObject = false;
  #lineNeedsMembers = false; // an element of an array: `{}` continues it like a pretty-printer's
  #brokeLimit = BROKE_NONE; // reported only if the probed line continues the message

  #discardedBytes = 0;

  // Per-chunk positions. #messageStart is negative when the message began in an earlier chunk.
  #messageStart = 0;
  #lineFeedCache = LINE_FEED_UNKNOWN;
  #fastPathFrom = 0;
  // The chunk as a string if it is pure ASCII (byte offsets are then string offsets), else null;
  // undefined until a message needs it. One decode per chunk is much cheaper than one per message.
  #asciiChunk: string | null | undefined;

  /**
   * @param options limits; see {@linkcode FramerOptions}.
   * @throws {RangeError} if a limit is not a positive integer.
   *
   * @example
   * ```ts
   * import { MessageFramer } from "./framing.ts";
   *
   * const framer = new MessageFramer({ maxDepth: 8 });
   * ```
   */
  constructor(options: FramerOptions = {}) {
    this.#maxBytes = positiveInteger(options.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES, "maxBytes");
    this.#maxDepth = positiveInteger(options.maxDepth ?? DEFAULT_MAX_DEPTH, "maxDepth");
    // Each level needs one opening byte, so depth never exceeds the message size. A probed line
    // may nest up to its own limits on top of the unfinished message's levels, hence twice.
    this.#containers = new Uint8Array(2 * Math.min(this.#maxDepth, this.#maxBytes));
  }

  /**
   * True once a `demasiado_grande` frame was emitted: the connection must be closed, and
   * {@linkcode MessageFramer.push} returns `[]` from then on.
   *
   * @example
   * ```ts
   * import { MessageFramer } from "./framing.ts";
   *
   * const framer = new MessageFramer({ maxBytes: 4 });
   * framer.push(new TextEncoder().encode('{"ab":1}'));
   * framer.closed; // true
   * ```
   */
  get closed(): boolean {
    return this.#mode === MODE_CLOSED;
  }

  /**
   * Bytes buffered for an incomplete message; 0 between messages and while discarding garbage.
   *
   * @example
   * ```ts
   * import { MessageFramer } from "./framing.ts";
   *
   * const framer = new MessageFramer();
   * framer.push(new TextEncoder().encode('{"a":'));
   * framer.pendingBytes; // 5
   * ```
   */
  get pendingBytes(): number {
    return this.#mode === MODE_MESSAGE || this.#mode === MODE_TAIL ? this.#bufferLength : 0;
  }

  /**
   * Feeds bytes; returns the frames completed by them, in order. Never throws. The chunk is not
   * retained, so the caller may reuse it.
   *
   * @example
   * ```ts
   * import { MessageFramer } from "./framing.ts";
   *
   * const framer = new MessageFramer();
   * const frames = framer.push(new TextEncoder().encode('{"a":1}\n[1]\n'));
   * // [{ tipo: "mensaje", valor: { a: 1 } },
   * //  { tipo: "error", codigo: "json_invalido", detalle: "se esperaba un objeto JSON" }]
   * ```
   */
  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    if (this.#mode === MODE_CLOSED) return frames;
    this.#messageStart = -this.#bufferLength;
    this.#lineFeedCache = LINE_FEED_UNKNOWN;
    this.#fastPathFrom = 0;
    this.#asciiChunk = undefined;

    let position = 0;
    while (position < chunk.length && this.#mode !== MODE_CLOSED) {
      if (this.#mode === MODE_BETWEEN) position = this.#startNext(chunk, position, frames);
      else if (this.#mode === MODE_MESSAGE) position = this.#scanMessage(chunk, position, frames);
      else if (this.#mode === MODE_TAIL) position = this.#skipTail(chunk, position, frames);
      else position = this.#discardLine(chunk, position, frames);
    }
    if (this.#mode === MODE_MESSAGE) {
      this.#append(this.#messageStart < 0 ? chunk : chunk.subarray(this.#messageStart));
    }
    return frames;
  }

  /** Skips whitespace and starts the next message (or garbage line); returns the next position. */
  #startNext(chunk: Uint8Array, position: number, frames: Frame[]): number {
    while (position < chunk.length) {
      const byte = chunk[position]!;
      if (byte === SPACE || byte === LF || byte === CR || byte === TAB) {
        position++;
      } else if (byte !== OPEN_BRACE) {
        this.#mode = MODE_GARBAGE;
        this.#discardedBytes = 0;
        return position;
      } else {
        if (position >= this.#fastPathFrom) {
          const afterLine = this.#parseWholeLine(chunk, position, frames);
          if (afterLine !== -1) return afterLine;
        }
        this.#beginMessage(position);
        return position + 1;
      }
    }
    return position;
  }

  /**
   * Fast path: if the line starting at `position` is exactly one acceptable object, parses it
   * natively and returns the position after its LF. Otherwise returns -1 and leaves the rest of
   * the line to the automaton, which produces the authoritative result.
   */
  #parseWholeLine(chunk: Uint8Array, position: number, frames: Frame[]): number {
    const lineFeed = this.#nextLineFeed(chunk, position);
    if (lineFeed === LINE_FEED_NONE) return -1;
    // Whatever happens, do not retry this line: a line of many objects would be re-parsed each time.
    this.#fastPathFrom = lineFeed + 1;
    if (lineFeed - position > this.#maxBytes) return -1;
    let value: unknown;
    try {
      const text = this.#decodeRange(chunk, position, lineFeed);
      if (text === undefined) return -1;
      value = JSON.parse(text);
    } catch {
      return -1;
    }
    if (!isPlainObject(value) || nestingExceeds(value, this.#maxDepth)) return -1;
    frames.push({ tipo: "mensaje", valor: value });
    return lineFeed + 1;
  }

  #beginMessage(position: number): void {
    this.#mode = MODE_MESSAGE;
    this.#messageStart = position;
    this.#state = S_OBJECT_START;
    this.#containers[0] = CONTAINER_OBJECT;
    this.#depth = 1;
    this.#lineBreakPending = false;
    this.#probeDepth = NOT_PROBING;
    this.#brokeLimit = BROKE_NONE;
  }

  /** Discards through the next LF (reporting garbage there); returns the next position. */
  #discardLine(chunk: Uint8Array, position: number, frames: Frame[]): number {
    const lineFeed = this.#nextLineFeed(chunk, position);
    const lineEnd = lineFeed === LINE_FEED_NONE ? chunk.length : lineFeed;
    this.#discardedBytes += lineEnd - position;
    if (this.#discardedBytes > this.#maxBytes) {
      this.#close(frames);
      return chunk.length;
    }
    if (lineFeed === LINE_FEED_NONE) return chunk.length;
    if (this.#mode === MODE_GARBAGE) frames.push(invalidJson(EXPECTED_OBJECT));
    this.#mode = MODE_BETWEEN;
    return lineFeed + 1;
  }

  /** Runs the JSON syntax automaton over the current message; returns the next position. */
  #scanMessage(chunk: Uint8Array, position: number, frames: Frame[]): number {
    const limit = Math.min(chunk.length, this.#messageStart + this.#maxBytes);
    const containers = this.#containers;
    let state = this.#state;
    let depth = this.#depth;
    let stringIsKey = this.#stringIsKey;
    let lineBreakPending = this.#lineBreakPending;
    let literal = this.#literal;
    let literalIndex = this.#literalIndex;
    let hexDigitsLeft = this.#hexDigitsLeft;
    let probeDepth = this.#probeDepth;
    // Past the size limit between tokens: the next token decides (see #reachLimit).
    let overLimit = probeDepth === NOT_PROBING && this.#brokeLimit !== BROKE_NONE;

    let i = position;
    while (i < limit) {
      const byte = chunk[i]!;

      if (state <= S_AFTER_VALUE) {
        if (byte === SPACE || byte === CR || byte === TAB) {
          i++;
          continue;
        }
        const valueEnded = depth === probeDepth && (state === S_AFTER_VALUE || state === S_COLON);
        if (byte === LF) {
          if (probeDepth !== NOT_PROBING) {
            if (valueEnded) return this.#restartLine(chunk, i, frames);
            probeDepth = NOT_PROBING;
            if (this.#brokeLimit !== BROKE_NONE) return this.#reportBrokenLimit(chunk, i, frames);
          }
          lineBreakPending = true;
          i++;
          continue;
        }
        const startsLine = lineBreakPending;
        lineBreakPending = false;
        let closesContainer = false;

        if (valueEnded) {
          // Something follows the probed line's value: the line continues the message.
          probeDepth = NOT_PROBING;
          if (this.#brokeLimit !== BROKE_NONE) return this.#reportBrokenLimit(chunk, i, frames);
        } else if (startsLine && this.#startsValueLine(byte, state, depth)) {
          probeDepth = depth;
          this.#lineOffset = i - this.#messageStart;
          overLimit = false;
        }

        if (state === S_AFTER_VALUE) {
          const inObject = containers[depth - 1] === CONTAINER_OBJECT;
          if (byte === COMMA) state = inObject ? S_OBJECT_KEY : S_VALUE;
          else if (byte === (inObject ? CLOSE_BRACE : CLOSE_BRACKET)) closesContainer = true;
          else return this.#reject(chunk, i, startsLine, state, frames);
        } else if (state === S_OBJECT_START || state === S_OBJECT_KEY) {
          if (byte === QUOTE) {
            state = S_STRING;
            stringIsKey = true;
          } else if (byte === CLOSE_BRACE && state === S_OBJECT_START) {
            closesContainer = true;
            if (depth === probeDepth + 1 && this.#lineNeedsMembers) {
              // An empty object where an array element was expected: it continues the message.
              probeDepth = NOT_PROBING;
              if (this.#brokeLimit !== BROKE_NONE) {
                return this.#reportBrokenLimit(chunk, i, frames);
              }
            }
          } else {
            return this.#reject(chunk, i, startsLine, state, frames);
          }
        } else if (state === S_COLON) {
          if (byte === COLON) state = S_VALUE;
          else return this.#reject(chunk, i, startsLine, state, frames);
        } else if (byte === CLOSE_BRACKET && state === S_ARRAY_START) {
          closesContainer = true;
        } else if (byte === QUOTE) {
          state = S_STRING;
          stringIsKey = false;
        } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
          if (depth >= this.#maxDepth) {
            if (probeDepth === NOT_PROBING || depth - probeDepth >= this.#maxDepth) {
              if (this.#brokeLimit === BROKE_SIZE) {
                return this.#reportBrokenLimit(chunk, i, frames);
              }
              frames.push(invalidJson(`anidamiento excesivo (máx. ${this.#maxDepth})`));
              return this.#discardFrom(i);
            }
            // Too deep for the message, not for the probed line on its own: wait for its end.
            if (this.#brokeLimit === BROKE_NONE) this.#brokeLimit = BROKE_DEPTH;
          }
          const isObject = byte === OPEN_BRACE;
          containers[depth++] = isObject ? CONTAINER_OBJECT : CONTAINER_ARRAY;
          state = isObject ? S_OBJECT_START : S_ARRAY_START;
        } else if (byte === MINUS) {
          state = S_NUMBER_MINUS;
        } else if (byte === DIGIT_0) {
          state = S_NUMBER_ZERO;
        } else if (byte >= DIGIT_1 && byte <= DIGIT_9) {
          state = S_NUMBER_INTEGER;
        } else if (byte === LOWER_T || byte === LOWER_F || byte === LOWER_N) {
          literal = byte === LOWER_T ? TRUE_BYTES : byte === LOWER_F ? FALSE_BYTES : NULL_BYTES;
          literalIndex = 1;
          state = S_LITERAL;
        } else {
          return this.#reject(chunk, i, startsLine, state, frames);
        }

        // Not rejected: the token continues a message that is over the limit.
        if (overLimit) return this.#reportBrokenLimit(chunk, i, frames);
        i++;
        if (closesContainer) {
          depth--;
          if (depth === 0) return this.#completeMessage(chunk, i, frames);
          state = S_AFTER_VALUE;
        }
        continue;
      }

      switch (state) {
        case S_STRING:
          if (byte === QUOTE) state = stringIsKey ? S_COLON : S_AFTER_VALUE;
          else if (byte === BACKSLASH) state = S_STRING_ESCAPE;
          else if (byte < SPACE) return this.#reject(chunk, i, false, state, frames);
          else {
            // Hot loop: skip ordinary string content without going through the dispatcher.
            i++;
            while (i < limit) {
              const next = chunk[i]!;
              if (next === QUOTE || next === BACKSLASH || next < SPACE) break;
              i++;
            }
            continue;
          }
          break;
        case S_STRING_ESCAPE:
          if (byte === LOWER_U) {
            state = S_STRING_UNICODE;
            hexDigitsLeft = 4;
          } else if (isSimpleEscape(byte)) {
            state = S_STRING;
          } else {
            return this.#reject(chunk, i, false, state, frames);
          }
          break;
        case S_STRING_UNICODE:
          if (!isHexDigit(byte)) return this.#reject(chunk, i, false, state, frames);
          if (--hexDigitsLeft === 0) state = S_STRING;
          break;
        case S_LITERAL:
          if (byte !== literal[literalIndex]) return this.#reject(chunk, i, false, state, frames);
          if (++literalIndex === literal.length) state = S_AFTER_VALUE;
          break;
        case S_NUMBER_MINUS:
          if (byte === DIGIT_0) state = S_NUMBER_ZERO;
          else if (byte >= DIGIT_1 && byte <= DIGIT_9) state = S_NUMBER_INTEGER;
          else return this.#reject(chunk, i, false, state, frames);
          break;
        case S_NUMBER_DOT:
          if (isDigit(byte)) state = S_NUMBER_FRACTION;
          else return this.#reject(chunk, i, false, state, frames);
          break;
        case S_NUMBER_EXPONENT_MARK:
          if (byte === PLUS || byte === MINUS) state = S_NUMBER_EXPONENT_SIGN;
          else if (isDigit(byte)) state = S_NUMBER_EXPONENT;
          else return this.#reject(chunk, i, false, state, frames);
          break;
        case S_NUMBER_EXPONENT_SIGN:
          if (isDigit(byte)) state = S_NUMBER_EXPONENT;
          else return this.#reject(chunk, i, false, state, frames);
          break;
        default: {
          // A number that may end here (0, integer, fraction or exponent digits).
          const next = nextNumberState(state, byte);
          if (next === -1) {
            // The number ended: re-examine this byte as what follows a value.
            state = S_AFTER_VALUE;
            continue;
          }
          state = next;
        }
      }
      i++;
    }
    this.#state = state;
    this.#depth = depth;
    this.#stringIsKey = stringIsKey;
    this.#lineBreakPending = lineBreakPending;
    this.#literal = literal;
    this.#literalIndex = literalIndex;
    this.#hexDigitsLeft = hexDigitsLeft;
    this.#probeDepth = probeDepth;
    return i < chunk.length ? this.#reachLimit(chunk, i, frames) : i;
  }

  /**
   * The message reached the size limit at `chunk[index]`, with the automaton state saved: closes
   * the framer, unless a line starting after the limit may yet be framed on its own. Returns
   * where to continue.
   */
  #reachLimit(chunk: Uint8Array, index: number, frames: Frame[]): number {
    const probing = this.#probeDepth !== NOT_PROBING;
    if (!probing && this.#state <= S_AFTER_VALUE) {
      // Between tokens: if the next one starts a line, it need not continue the message. Until
      // then, keep no byte.
      this.#lineOffset = index - this.#messageStart;
    } else if (!probing || this.#lineOffset === 0) {
      const state = this.#state;
      if (
        probing && this.#depth === this.#probeDepth &&
        (state === S_AFTER_VALUE || state === S_COLON)
      ) {
        // The probed line's value fits; what follows it on the line decides, unbuffered.
        this.#append(chunk.subarray(Math.max(this.#messageStart, 0), index));
        this.#mode = MODE_TAIL;
        return index;
      }
      if (this.#brokeLimit === BROKE_DEPTH) return this.#reportBrokenLimit(chunk, index, frames);
      this.#close(frames);
      return chunk.length;
    }
    // Too big for the message, maybe not for the (probed) line on its own: keep only that line.
    if (this.#brokeLimit === BROKE_NONE) this.#brokeLimit = BROKE_SIZE;
    this.#dropBeforeLine();
    return index;
  }

  /**
   * True if a line beginning with `byte` in `state` is to be probed: a value where the message
   * expects one, or a string where it expects a key. Records what kind of line it is.
   */
  #startsValueLine(byte: number, state: number, depth: number): boolean {
    const inArray = this.#containers[depth - 1] === CONTAINER_ARRAY;
    if (state === S_VALUE || state === S_ARRAY_START) {
      // Pretty-printers put array elements on lines of their own: there, probe only an object
      // (what a request is), and let `{}` continue the array.
      if (inArray && byte !== OPEN_BRACE) return false;
    } else if (state > S_OBJECT_KEY || byte !== QUOTE) {
      return false;
    }
    this.#lineIsObject = byte === OPEN_BRACE;
    this.#lineNeedsMembers = inArray;
    return true;
  }

  /**
   * The probed line, ending at the LF at `lineFeed`, is one complete value: the unfinished message
   * is one error, and the line is framed as a message of its own.
   */
  #restartLine(chunk: Uint8Array, lineFeed: number, frames: Frame[]): number {
    frames.push(invalidJson(INCOMPLETE_MESSAGE));
    const lineStart = this.#messageStart + this.#lineOffset;
    let text: string | undefined;
    if (lineStart >= 0) {
      text = this.#decodeRange(chunk, lineStart, lineFeed);
    } else {
      this.#append(chunk.subarray(0, lineFeed));
      text = decodeUtf8(this.#buffer.subarray(this.#lineOffset, this.#bufferLength));
    }
    frames.push(this.#lineFrame(text));
    this.#bufferLength = 0;
    this.#mode = MODE_BETWEEN;
    return lineFeed + 1;
  }

  /** The frame of a probed line framed on its own, from its text (undefined if not UTF-8). */
  #lineFrame(text: string | undefined): Frame {
    return this.#lineIsObject ? parseMessage(text) : invalidJson(EXPECTED_OBJECT);
  }

  /** Skips whitespace after a probed line's value at the size limit, up to what decides. */
  #skipTail(chunk: Uint8Array, position: number, frames: Frame[]): number {
    for (let i = position; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (byte === LF) {
        const text = decodeUtf8(this.#buffer.subarray(0, this.#bufferLength));
        frames.push(invalidJson(INCOMPLETE_MESSAGE), this.#lineFrame(text));
        this.#bufferLength = 0;
        this.#mode = MODE_BETWEEN;
        return i + 1;
      }
      if (byte !== SPACE && byte !== CR && byte !== TAB) {
        return this.#reportBrokenLimit(chunk, i, frames);
      }
    }
    return chunk.length;
  }

  /**
   * The probed line continues the message, which broke a limit inside it: reports that limit, as
   * it would have been without the probe, at `chunk[index]`; returns where to continue.
   */
  #reportBrokenLimit(chunk: Uint8Array, index: number, frames: Frame[]): number {
    if (this.#brokeLimit === BROKE_SIZE) {
      this.#close(frames);
      return chunk.length;
    }
    frames.push(invalidJson(`anidamiento excesivo (máx. ${this.#maxDepth})`));
    if (chunk[index] !== LF) return this.#discardFrom(index);
    this.#bufferLength = 0;
    this.#mode = MODE_BETWEEN;
    return index + 1;
  }

  /** Forgets the message's bytes before the probed line, which is all that may still be framed. */
  #dropBeforeLine(): void {
    const lineStart = this.#messageStart + this.#lineOffset;
    if (lineStart < 0) {
      this.#buffer.copyWithin(0, this.#lineOffset, this.#bufferLength);
      this.#bufferLength -= this.#lineOffset;
    } else {
      this.#bufferLength = 0;
    }
    this.#messageStart = lineStart;
    this.#lineOffset = 0;
  }

  /** Emits the message that ends just before `end` and returns to between-messages mode. */
  #completeMessage(chunk: Uint8Array, end: number, frames: Frame[]): number {
    let text: string | undefined;
    if (this.#messageStart >= 0) {
      text = this.#decodeRange(chunk, this.#messageStart, end);
    } else {
      this.#append(chunk.subarray(0, end));
      text = decodeUtf8(this.#buffer.subarray(0, this.#bufferLength));
    }
    this.#bufferLength = 0;
    this.#mode = MODE_BETWEEN;
    frames.push(parseMessage(text));
    return end;
  }

  /** Decodes `chunk[start..end)`, or returns undefined if it is not valid UTF-8. */
  #decodeRange(chunk: Uint8Array, start: number, end: number): string | undefined {
    if (this.#asciiChunk === undefined) {
      const text = lenientDecoder.decode(chunk);
      // Every non-ASCII sequence decodes to fewer UTF-16 units than bytes, except invalid bytes,
      // which become U+FFFD one for one.
      const isAscii = text.length === chunk.length && !text.includes(REPLACEMENT_CHARACTER);
      this.#asciiChunk = isAscii ? text : null;
    }
    return this.#asciiChunk === null
      ? decodeUtf8(chunk.subarray(start, end))
      : this.#asciiChunk.slice(start, end);
  }

  /**
   * Reports the syntax error at `chunk[index]` and returns where to continue. If the byte starts a
   * line that could not continue the message, the message ended at that line break: the byte is
   * re-examined as the start of a new message, so a truncated line never eats the next one.
   */
  #reject(
    chunk: Uint8Array,
    index: number,
    startsLine: boolean,
    state: number,
    frames: Frame[],
  ): number {
    const byte = chunk[index]!;
    if (startsLine) {
      frames.push(invalidJson(INCOMPLETE_MESSAGE));
      this.#bufferLength = 0;
      this.#mode = MODE_BETWEEN;
      return index;
    }
    if (this.#brokeLimit !== BROKE_NONE) return this.#reportBrokenLimit(chunk, index, frames);
    frames.push(invalidJson(describeUnexpected(byte, state)));
    if (byte === LF) {
      this.#bufferLength = 0;
      this.#mode = MODE_BETWEEN;
      return index + 1;
    }
    return this.#discardFrom(index);
  }

  #discardFrom(index: number): number {
    this.#bufferLength = 0;
    this.#mode = MODE_DISCARD;
    this.#discardedBytes = 0;
    return index;
  }

  #close(frames: Frame[]): void {
    frames.push({
      tipo: "error",
      codigo: "demasiado_grande",
      detalle: `mensaje de más de ${this.#maxBytes} bytes`,
    });
    this.#mode = MODE_CLOSED;
    this.#buffer = new Uint8Array(0);
    this.#bufferLength = 0;
  }

  /** Index of the first LF at or after `position`, or LINE_FEED_NONE; memoised per chunk. */
  #nextLineFeed(chunk: Uint8Array, position: number): number {
    const cached = this.#lineFeedCache;
    // Positions only move forward within a chunk, so an earlier answer stays valid while ahead.
    if (cached === LINE_FEED_NONE || cached >= position) return cached;
    return this.#lineFeedCache = chunk.indexOf(LF, position);
  }

  #append(bytes: Uint8Array): void {
    const needed = this.#bufferLength + bytes.length;
    if (needed > this.#buffer.length) {
      const doubled = Math.max(this.#buffer.length * 2, MIN_BUFFER_CAPACITY);
      const grown = new Uint8Array(Math.max(needed, Math.min(doubled, this.#maxBytes)));
      grown.set(this.#buffer.subarray(0, this.#bufferLength));
      this.#buffer = grown;
    }
    this.#buffer.set(bytes, this.#bufferLength);
    this.#bufferLength = needed;
  }
}

const lenientDecoder = new TextDecoder("utf-8", { ignoreBOM: true });
const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const REPLACEMENT_CHARACTER = "\uFFFD";

/**
 * Decodes UTF-8, or returns undefined if it is invalid. A fatal TextDecoder is several times
 * slower per call than a lenient one, and lenient output without U+FFFD proves the input valid.
 */
function decodeUtf8(bytes: Uint8Array): string | undefined {
  const text = lenientDecoder.decode(bytes);
  if (!text.includes(REPLACEMENT_CHARACTER)) return text;
  try {
    return strictDecoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Parses a message the automaton accepted; `text` is undefined for invalid UTF-8. */
function parseMessage(text: string | undefined): Frame {
  if (text === undefined) return invalidJson(INVALID_UTF8);
  try {
    const value: unknown = JSON.parse(text);
    if (isPlainObject(value)) return { tipo: "mensaje", valor: value };
  } catch {
    // Unreachable if the automaton is right; reported below rather than thrown.
  }
  return invalidJson(EXPECTED_OBJECT);
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} debe ser un entero positivo, no ${value}`);
  }
  return value;
}

function invalidJson(detalle: string): Frame {
  return { tipo: "error", codigo: "json_invalido", detalle };
}

function describeUnexpected(byte: number, state: number): string {
  if (state === S_STRING && byte === LF) return "cadena sin cerrar al final de la línea";
  if (state === S_STRING && byte < SPACE) return "carácter de control sin escapar en una cadena";
  const shown = byte > SPACE && byte < DEL
    ? `'${String.fromCharCode(byte)}'`
    : `0x${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  return `carácter inesperado ${shown}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** True if `value` nests objects/arrays deeper than `levelsLeft` (the value itself included). */
function nestingExceeds(value: unknown, levelsLeft: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (levelsLeft === 0) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (nestingExceeds(item, levelsLeft - 1)) return true;
    return false;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) if (nestingExceeds(record[key], levelsLeft - 1)) return true;
  return false;
}

/** The state after `byte` in a number that may already end, or -1 if the number ends before it. */
function nextNumberState(state: number, byte: number): number {
  if (isDigit(byte)) {
    if (state === S_NUMBER_ZERO) return -1; // a leading zero; "01" then fails after the value
    return state;
  }
  if (byte === DOT && (state === S_NUMBER_ZERO || state === S_NUMBER_INTEGER)) return S_NUMBER_DOT;
  if ((byte === LOWER_E || byte === UPPER_E) && state !== S_NUMBER_EXPONENT) {
    return S_NUMBER_EXPONENT_MARK;
  }
  return -1;
}

function isDigit(byte: number): boolean {
  return byte >= DIGIT_0 && byte <= DIGIT_9;
}

function isHexDigit(byte: number): boolean {
  return isDigit(byte) || (byte >= LOWER_A && byte <= LOWER_F) ||
    (byte >= UPPER_A && byte <= UPPER_F);
}

function isSimpleEscape(byte: number): boolean {
  return byte === QUOTE || byte === BACKSLASH || byte === SLASH || byte === LOWER_B ||
    byte === LOWER_F || byte === LOWER_N || byte === LOWER_R || byte === LOWER_T;
}
