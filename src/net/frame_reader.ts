/** Length-prefixed framing shared by every protocol: `[uint32 big-endian N][N bytes]`, limits per protocol. */

/** Size of the length prefix. */
export const FRAME_HEADER_BYTES = 4;

/** Frame body limits of one protocol. */
export interface FrameLimits {
  /** Smallest accepted body length. Default 0. */
  minFrameBytes?: number;
  /** Largest accepted body length. Default 1,048,576 (1 MiB). */
  maxFrameBytes?: number;
}

const DEFAULT_MAX_FRAME_BYTES = 1_048_576;
const INITIAL_BUFFER_BYTES = 1_024;
// Reads that keep filling the buffer double it up to this size; one larger frame may exceed it.
const MAX_GROWTH_BYTES = 128 * 1024 + 2 * FRAME_HEADER_BYTES;

function limitText(length: number, min: number, max: number): string {
  return min === 0
    ? `length ${length} exceeds maximum ${max}`
    : `length ${length} is outside ${min} to ${max}`;
}

/**
 * Prefixes `body` with its length in one buffer, so that a frame goes out in one write. Throws
 * `RangeError` when the length is outside the limits.
 *
 * @example
 * ```ts
 * encodeFrame(new Uint8Array([7, 8, 9])); // Uint8Array [0, 0, 0, 3, 7, 8, 9]
 * ```
 */
export function encodeFrame(
  body: Uint8Array,
  limits: FrameLimits = {},
): Uint8Array<ArrayBuffer> {
  const min = limits.minFrameBytes ?? 0;
  const max = limits.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  if (body.length < min || body.length > max) {
    throw new RangeError(
      `Cannot encode frame: ${limitText(body.length, min, max)}`,
    );
  }
  const frame = new Uint8Array(FRAME_HEADER_BYTES + body.length);
  writeFrameLength(frame, 0, body.length);
  frame.set(body, FRAME_HEADER_BYTES);
  return frame;
}

function writeFrameLength(
  frame: Uint8Array,
  offset: number,
  length: number,
): void {
  frame[offset] = length >>> 24;
  frame[offset + 1] = (length >>> 16) & 0xff;
  frame[offset + 2] = (length >>> 8) & 0xff;
  frame[offset + 3] = length & 0xff;
}

/** Anything frames can be read from (a TCP connection). */
export interface ByteSource {
  /** Reads into `buffer`; null at the end of the stream. */
  read(buffer: Uint8Array): Promise<number | null>;
}

/** Options for {@linkcode FrameReader}. */
export interface FrameReaderOptions extends FrameLimits {
  /** First read buffer size; it doubles while reads fill it. Default 1,024 bytes. */
  initialBufferBytes?: number;
  /** Name of the peer in error messages, or a function naming the source's peer when an error needs it. Default "peer". */
  peer?: string | ((source: ByteSource) => string);
  /**
   * Frames stay valid for as long as they are referenced: bytes a frame was handed out from are
   * never overwritten (the reader moves on to a new buffer instead), so frames can be queued for
   * writing without a copy. Default false: a frame is valid until the next read.
   */
  retainFrames?: boolean;
  /**
   * The largest body accepted now (at most `maxFrameBytes`), asked as each frame's length
   * prefix arrives: a receiver whose limit depends on its state refuses a frame before
   * reading it. Default: `maxFrameBytes` always.
   */
  frameLimit?: () => number;
}

/**
 * Reads whole frames from a byte source with a buffer that starts small (idle connections stay
 * cheap) and grows while the peer keeps it full. Frames are views, length prefix included.
 *
 * @example
 * ```ts
 * const reader = new FrameReader(conn, { maxFrameBytes: 65_536, peer: '"127.0.0.1:9009"' });
 * for (let frame = await reader.next(); frame !== null; frame = await reader.next()) {
 *   handle(frame.subarray(FRAME_HEADER_BYTES));
 * }
 * ```
 */
export class FrameReader {
  #source: ByteSource;
  #peer: string | ((source: ByteSource) => string);
  #min: number;
  #max: number;
  #limit: (() => number) | null;
  #retain: boolean;
  #buffer: Uint8Array<ArrayBuffer>;
  #start = 0;
  #end = 0;
  // A frame was handed out of the current buffer (only tracked when frames are retained).
  #handedOut = false;

  /** Reads from `source` with the given limits. */
  constructor(source: ByteSource, options: FrameReaderOptions = {}) {
    this.#source = source;
    this.#peer = options.peer ?? "peer";
    this.#min = options.minFrameBytes ?? 0;
    this.#max = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.#limit = options.frameLimit ?? null;
    this.#retain = options.retainFrames ?? false;
    this.#buffer = new Uint8Array(
      options.initialBufferBytes ?? INITIAL_BUFFER_BYTES,
    );
  }

  /** Bytes received but not yet returned as frames. */
  get bufferedBytes(): number {
    return this.#end - this.#start;
  }

  /**
   * A whole frame already in the buffer, or undefined when more bytes must be read first. Throws
   * `RangeError` for a length outside the limits (checked as soon as the prefix is buffered).
   */
  buffered(): Uint8Array | undefined {
    const available = this.#end - this.#start;
    if (available < FRAME_HEADER_BYTES) return undefined;
    const b = this.#buffer;
    const s = this.#start;
    const length = (b[s]! * 0x100_0000) +
      ((b[s + 1]! << 16) | (b[s + 2]! << 8) | b[s + 3]!);
    const max = this.#limit === null
      ? this.#max
      : Math.min(this.#max, this.#limit());
    if (length < this.#min || length > max) {
      throw new RangeError(
        `Cannot read frame from ${this.#peerName()}: ${
          limitText(length, this.#min, max)
        }`,
      );
    }
    const total = FRAME_HEADER_BYTES + length;
    if (available < total) return undefined;
    this.#start = s + total;
    if (this.#retain) this.#handedOut = true;
    return b.subarray(s, s + total);
  }

  /**
   * The next frame; null at a clean end of stream. Throws `RangeError` for a length outside the
   * limits and `SyntaxError` when the stream ends inside a frame.
   */
  async next(): Promise<Uint8Array | null> {
    for (;;) {
      const frame = this.buffered();
      if (frame !== undefined) return frame;
      const n = await this.#source.read(this.space());
      if (n === null) {
        this.ended();
        return null;
      }
      this.received(n);
    }
  }

  /**
   * The free part of the buffer, with room made for the frame being received: read into it,
   * then call {@linkcode received}. Call it once {@linkcode buffered} returned undefined.
   */
  space(): Uint8Array {
    const b = this.#buffer;
    const s = this.#start;
    let needed = FRAME_HEADER_BYTES;
    if (this.#end - s >= FRAME_HEADER_BYTES) {
      const length = (b[s]! * 0x100_0000) +
        ((b[s + 1]! << 16) | (b[s + 2]! << 8) | b[s + 3]!);
      // Never make room for more than the limit, whatever the prefix claims.
      needed += Math.min(length, this.#max);
    }
    this.#reserve(needed);
    // The buffer itself when it is all free: a read waiting on an idle connection holds no view.
    return this.#end === 0 ? this.#buffer : this.#buffer.subarray(this.#end);
  }

  /** Records `n` bytes read into {@linkcode space}; the buffer grows while reads fill it. */
  received(n: number): void {
    const free = this.#buffer.length - this.#end;
    this.#end += n;
    if (n === free && this.#buffer.length < MAX_GROWTH_BYTES) {
      this.#moveTo(Math.min(this.#buffer.length * 2, MAX_GROWTH_BYTES));
    }
  }

  /**
   * Declares that no frame handed out so far is referenced any more: the bytes they came from
   * may be read into again instead of moving on to a new buffer (only matters when frames are
   * retained). Releasing a frame that is still in use corrupts it.
   */
  releaseFrames(): void {
    this.#handedOut = false;
  }

  /** Records the end of the stream; throws `SyntaxError` when it ends inside a frame. */
  ended(): void {
    if (this.#end === this.#start) return;
    throw new SyntaxError(
      `Cannot read frame from ${this.#peerName()}: stream ended ${
        this.#end - this.#start
      } bytes into a frame`,
    );
  }

  #peerName(): string {
    const peer = this.#peer;
    return typeof peer === "string" ? peer : peer(this.#source);
  }

  /** Makes room for `needed` bytes from the read position, and for a read of useful size. */
  #reserve(needed: number): void {
    if (this.#start === this.#end && !this.#handedOut) {
      this.#start = this.#end = 0;
      if (
        this.#buffer.length > MAX_GROWTH_BYTES && needed <= MAX_GROWTH_BYTES
      ) this.#buffer = new Uint8Array(MAX_GROWTH_BYTES);
    }
    const length = this.#buffer.length;
    // Read in place while the frame fits and half the buffer is free: a frame split over two
    // reads costs a read, more than moving a partial frame does.
    if (
      this.#start + needed <= length &&
      (this.#start === 0 || (length - this.#end) * 2 >= length)
    ) return;
    // Back to the usual size after one oversized frame.
    const size = Math.max(needed, Math.min(length, MAX_GROWTH_BYTES));
    if (size === length && !this.#handedOut) {
      this.#buffer.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    } else {
      this.#moveTo(size);
    }
  }

  /** Moves the unread bytes to the start of a new buffer of `size` bytes. */
  #moveTo(size: number): void {
    const next = new Uint8Array(Math.max(size, this.#end - this.#start));
    next.set(this.#buffer.subarray(this.#start, this.#end));
    this.#end -= this.#start;
    this.#start = 0;
    this.#buffer = next;
    this.#handedOut = false;
  }
}
