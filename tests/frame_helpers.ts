/** Byte sources and frame builders shared by the framing tests of net/ and relay/. */

/** What a FrameReader reads from (the shape of `ByteSource` in net/). */
interface Readable {
  read(buffer: Uint8Array): Promise<number | null>;
}

/** Serves `data` in reads of at most `chunk` bytes, counting reads and the largest buffer offered. */
export function byteSource(
  data: Uint8Array,
  chunk = Infinity,
): Readable & { reads: number; largest: number } {
  let offset = 0;
  return {
    reads: 0,
    largest: 0,
    read(buffer) {
      this.reads++;
      this.largest = Math.max(this.largest, buffer.length);
      if (offset >= data.length) return Promise.resolve(null);
      const n = Math.min(buffer.length, chunk, data.length - offset);
      buffer.set(data.subarray(offset, offset + n));
      offset += n;
      return Promise.resolve(n);
    },
  };
}

/** The parts one after another. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** A 4-byte big-endian length prefix. */
export function header(length: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, length);
  return bytes;
}
