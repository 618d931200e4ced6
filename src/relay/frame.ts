/** Length-prefixed framing: `[uint32 big-endian N][N bytes]`, 1 ≤ N ≤ 65,536. */

/** Largest packet a frame may carry, in bytes. */
export const MAX_FRAME_BYTES = 65_536;
/** Size of the length prefix. */
export const FRAME_HEADER_BYTES = 4;

const INITIAL_BUFFER_BYTES = 1_024;
// Big enough for a whole maximum frame plus the start of the next one.
const MAX_BUFFER_BYTES = 2 * (MAX_FRAME_BYTES + FRAME_HEADER_BYTES);

/** Prefixes packet bytes with their length in one buffer (so a frame goes out in one write). */
export function encodeFrame(packet: Uint8Array): Uint8Array {
  if (packet.length === 0 || packet.length > MAX_FRAME_BYTES) {
    throw new RangeError(
      `Cannot frame packet: length ${packet.length} is outside 1 to ${MAX_FRAME_BYTES}`,
    );
  }
  const frame = new Uint8Array(FRAME_HEADER_BYTES + packet.length);
  new DataView(frame.buffer).setUint32(0, packet.length);
  frame.set(packet, FRAME_HEADER_BYTES);
  return frame;
}

/** Anything frames can be read from (a TCP connection). */
export interface ByteSource {
  read(buffer: Uint8Array): Promise<number | null>;
}

/** Options for {@linkcode FrameReader}. */
export interface FrameReaderOptions {
  /** Initial read buffer size; it doubles while reads fill it. Default 1,024 bytes. */
  initialBufferBytes?: number;
  /** Name of the peer in error messages. Default "peer". */
  peer?: string;
}

/**
 * Reads whole frames from a byte source with a buffer that starts small (idle connections stay
 * cheap) and grows while the peer keeps it full.
 */
export class FrameReader {
  #source: ByteSource;
  #peer: string;
  #buffer: Uint8Array;
  #start = 0;
  #end = 0;

  constructor(source: ByteSource, options: FrameReaderOptions = {}) {
    this.#source = source;
    this.#peer = options.peer ?? "peer";
    this.#buffer = new Uint8Array(
      options.initialBufferBytes ?? INITIAL_BUFFER_BYTES,
    );
  }

  /**
   * The next frame, length prefix included, as a view valid until the next call; null at a
   * clean end of stream. Throws `RangeError` for a length of 0 or above 65,536 (checked as soon
   * as the prefix arrives) and `SyntaxError` when the stream ends inside a frame.
   */
  async next(): Promise<Uint8Array | null> {
    for (;;) {
      const available = this.#end - this.#start;
      if (available >= FRAME_HEADER_BYTES) {
        const b = this.#buffer;
        const s = this.#start;
        const length = (b[s]! * 0x100_0000) +
          ((b[s + 1]! << 16) | (b[s + 2]! << 8) | b[s + 3]!);
        if (length === 0 || length > MAX_FRAME_BYTES) {
          throw new RangeError(
            `Cannot read frame from ${this.#peer}: length ${length} is outside 1 to ${MAX_FRAME_BYTES}`,
          );
        }
        const total = FRAME_HEADER_BYTES + length;
        if (available >= total) {
          this.#start += total;
          return b.subarray(s, s + total);
        }
        this.#reserve(total);
      } else {
        this.#reserve(FRAME_HEADER_BYTES);
      }
      const free = this.#buffer.length - this.#end;
      const n = await this.#source.read(this.#buffer.subarray(this.#end));
      if (n === null) {
        if (this.#end === this.#start) return null;
        throw new SyntaxError(
          `Cannot read frame from ${this.#peer}: stream ended ${
            this.#end - this.#start
          } bytes into a frame`,
        );
      }
      this.#end += n;
      if (n === free && this.#buffer.length < MAX_BUFFER_BYTES) {
        this.#grow(this.#buffer.length * 2);
      }
    }
  }

  /** Makes room for a frame of `total` bytes starting at the read position. */
  #reserve(total: number): void {
    if (this.#start === this.#end) {
      this.#start = this.#end = 0;
    } else if (this.#start + total > this.#buffer.length) {
      this.#buffer.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    if (total > this.#buffer.length) this.#grow(total);
    else if (this.#end === this.#buffer.length) {
      this.#grow(this.#buffer.length * 2);
    }
  }

  #grow(size: number): void {
    const next = new Uint8Array(
      Math.min(Math.max(size, this.#buffer.length), MAX_BUFFER_BYTES),
    );
    next.set(this.#buffer.subarray(this.#start, this.#end));
    this.#end -= this.#start;
    this.#start = 0;
    this.#buffer = next;
  }
}
