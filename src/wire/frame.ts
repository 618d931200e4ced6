/** Length-prefixed frames: a 4-byte big-endian body length, then the body. */

/** Largest accepted frame body in bytes (exactly 1 MiB is allowed). */
export const MAX_FRAME_BYTES = 1_048_576;

/** Bytes of the length header before each body. */
export const FRAME_HEADER_BYTES = 4;

/**
 * Frames a body in one buffer (header and body together, so one write).
 * Throws `RangeError` when the body exceeds {@linkcode MAX_FRAME_BYTES}.
 *
 * @example
 * ```ts
 * import { encodeFrame } from "./mod.ts";
 * encodeFrame(new TextEncoder().encode("{}")); // Uint8Array [0, 0, 0, 2, 123, 125]
 * ```
 */
export function encodeFrame(body: Uint8Array): Uint8Array<ArrayBuffer> {
  if (body.length > MAX_FRAME_BYTES) {
    throw new RangeError(
      `Cannot encode frame: length ${body.length} exceeds maximum ${MAX_FRAME_BYTES}`,
    );
  }
  const frame = new Uint8Array(FRAME_HEADER_BYTES + body.length);
  writeFrameHeader(frame, body.length);
  frame.set(body, FRAME_HEADER_BYTES);
  return frame;
}

/** Writes a big-endian length header into the first four bytes of `frame`. */
export function writeFrameHeader(frame: Uint8Array, length: number): void {
  frame[0] = length >>> 24;
  frame[1] = (length >>> 16) & 0xff;
  frame[2] = (length >>> 8) & 0xff;
  frame[3] = length & 0xff;
}

/** Options for {@linkcode FrameDecoder}. */
export interface FrameDecoderOptions {
  /** Largest accepted body length. Default {@linkcode MAX_FRAME_BYTES}. */
  maxFrameBytes?: number;
}

/**
 * Incremental frame decoder: `push()` received chunks, then take complete
 * bodies with `next()` (or iterate the decoder) until it returns undefined.
 * Bodies are fresh copies, so read buffers may be reused after `push()`.
 *
 * An oversized length header is never buffered: `next()` returns the bodies
 * before it, then throws `RangeError` on that frame and on every later call.
 *
 * @example
 * ```ts
 * import { encodeFrame, FrameDecoder } from "./mod.ts";
 * const decoder = new FrameDecoder();
 * decoder.push(encodeFrame(new Uint8Array([1, 2])));
 * for (const body of decoder) console.log(body); // Uint8Array [1, 2]
 * ```
 */
export class FrameDecoder implements Iterable<Uint8Array<ArrayBuffer>> {
  #max: number;
  #header = new Uint8Array(FRAME_HEADER_BYTES);
  #headerFilled = 0;
  #body: Uint8Array<ArrayBuffer> | null = null;
  #bodyFilled = 0;
  #ready: Uint8Array<ArrayBuffer>[] = [];
  #readyHead = 0;
  #error: RangeError | null = null;

  /** Creates a decoder with an optional body length limit. */
  constructor(options: FrameDecoderOptions = {}) {
    this.#max = options.maxFrameBytes ?? MAX_FRAME_BYTES;
  }

  /** Bytes of an incomplete frame held so far (header included). */
  get pendingBytes(): number {
    return this.#body === null
      ? this.#headerFilled
      : FRAME_HEADER_BYTES + this.#bodyFilled;
  }

  /** Feeds received bytes; complete bodies become available to `next()`. */
  push(chunk: Uint8Array): void {
    let offset = 0;
    const end = chunk.length;
    while (offset < end && this.#error === null) {
      if (this.#body === null) {
        if (this.#headerFilled === 0 && end - offset >= FRAME_HEADER_BYTES) {
          // Fast path: the header and maybe the whole body sit in this chunk.
          const length = readLength(chunk, offset);
          offset += FRAME_HEADER_BYTES;
          if (length <= this.#max && end - offset >= length) {
            this.#ready.push(chunk.slice(offset, offset + length));
            offset += length;
            continue;
          }
          if (!this.#startBody(length)) break;
        } else {
          const n = Math.min(
            FRAME_HEADER_BYTES - this.#headerFilled,
            end - offset,
          );
          this.#header.set(
            chunk.subarray(offset, offset + n),
            this.#headerFilled,
          );
          this.#headerFilled += n;
          offset += n;
          if (this.#headerFilled < FRAME_HEADER_BYTES) break;
          this.#headerFilled = 0;
          if (!this.#startBody(readLength(this.#header, 0))) break;
        }
      }
      const body = this.#body!;
      const n = Math.min(body.length - this.#bodyFilled, end - offset);
      body.set(chunk.subarray(offset, offset + n), this.#bodyFilled);
      this.#bodyFilled += n;
      offset += n;
      if (this.#bodyFilled === body.length) {
        this.#ready.push(body);
        this.#body = null;
      }
    }
  }

  /** The next complete body, or undefined; throws `RangeError` at an oversized frame. */
  next(): Uint8Array<ArrayBuffer> | undefined {
    if (this.#readyHead < this.#ready.length) {
      const body = this.#ready[this.#readyHead]!;
      this.#ready[this.#readyHead++] = EMPTY;
      if (this.#readyHead === this.#ready.length) {
        this.#ready.length = 0;
        this.#readyHead = 0;
      }
      return body;
    }
    if (this.#error !== null) throw this.#error;
    return undefined;
  }

  /** Yields every complete body, as repeated `next()` calls would. */
  *[Symbol.iterator](): Iterator<Uint8Array<ArrayBuffer>> {
    for (let body = this.next(); body !== undefined; body = this.next()) {
      yield body;
    }
  }

  #startBody(length: number): boolean {
    if (length > this.#max) {
      this.#error = new RangeError(
        `Cannot decode frame: length ${length} exceeds maximum ${this.#max}`,
      );
      return false;
    }
    this.#body = new Uint8Array(length);
    this.#bodyFilled = 0;
    return true;
  }
}

const EMPTY = new Uint8Array(0);

function readLength(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) >>> 0) + (bytes[offset + 1]! << 16) +
    (bytes[offset + 2]! << 8) + bytes[offset + 3]!;
}
