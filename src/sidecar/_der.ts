/**
 * The little DER (X.690) the sidecar certificate needs: an encoder for the shapes we
 * write and a bounds-checked reader for certificates written by anyone.
 */

/** Universal and context tags we use. */
export const TAG = {
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
  CONTEXT_0: 0xa0,
} as const;

// ---------------------------------------------------------------- encoder

function lengthBytes(length: number): number[] {
  if (length < 0x80) return [length];
  const out: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) out.unshift(n & 0xff);
  return [0x80 | out.length, ...out];
}

/** One TLV whose content is the concatenation of `parts`. */
export function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const length = parts.reduce((sum, p) => sum + p.length, 0);
  const head = [tag, ...lengthBytes(length)];
  const out = new Uint8Array(head.length + length);
  out.set(head);
  let at = head.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A SEQUENCE of already encoded elements. */
export function sequence(...elements: Uint8Array[]): Uint8Array {
  return tlv(TAG.SEQUENCE, ...elements);
}

/** An INTEGER from big-endian magnitude bytes (a 0x00 is prepended when the top bit is set). */
export function integer(magnitude: Uint8Array): Uint8Array {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  return (trimmed[0] ?? 0) & 0x80
    ? tlv(TAG.INTEGER, Uint8Array.of(0), trimmed)
    : tlv(TAG.INTEGER, trimmed.length ? trimmed : Uint8Array.of(0));
}

/** A BIT STRING with no unused bits. */
export function bitString(bytes: Uint8Array): Uint8Array {
  return tlv(TAG.BIT_STRING, Uint8Array.of(0), bytes);
}

/** A UTF8String. */
export function utf8String(text: string): Uint8Array {
  return tlv(TAG.UTF8_STRING, new TextEncoder().encode(text));
}

/** UTCTime for 1950 to 2049, GeneralizedTime otherwise (RFC 5280 4.1.2.5), at whole seconds. */
export function time(unixMs: number): Uint8Array {
  const d = new Date(unixMs);
  const year = d.getUTCFullYear();
  if (!Number.isFinite(year) || year < 0 || year > 9999) {
    throw new RangeError(
      `Cannot encode time ${unixMs}: year ${year} is outside 0 to 9999`,
    );
  }
  const two = (n: number) => String(n).padStart(2, "0");
  const rest = two(d.getUTCMonth() + 1) + two(d.getUTCDate()) +
    two(d.getUTCHours()) + two(d.getUTCMinutes()) + two(d.getUTCSeconds()) +
    "Z";
  const utc = year >= 1950 && year < 2050;
  const text = utc
    ? two(year % 100) + rest
    : String(year).padStart(4, "0") + rest;
  return tlv(
    utc ? TAG.UTC_TIME : TAG.GENERALIZED_TIME,
    new TextEncoder().encode(text),
  );
}

// ---------------------------------------------------------------- reader

/** One decoded TLV: its tag and where its content lies in the buffer. */
export interface Tlv {
  /** The identifier octet. */
  tag: number;
  /** Offset of the first content byte. */
  start: number;
  /** Offset just past the last content byte. */
  end: number;
}

/** Reads a DER buffer; every failure is a `SyntaxError` "Cannot read certificate: …". */
export class DerReader {
  readonly bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /** Throws the reader's SyntaxError. */
  fail(detail: string): never {
    throw new SyntaxError(`Cannot read certificate: ${detail}`);
  }

  /** The TLV at `at`, which must end by `limit`. */
  read(at: number, limit: number): Tlv {
    const b = this.bytes;
    if (at >= limit) this.fail(`element expected at byte ${at}`);
    const tag = b[at]!;
    if ((tag & 0x1f) === 0x1f) this.fail(`multi-byte tag at byte ${at}`);
    if (at + 1 >= limit) this.fail(`length missing at byte ${at + 1}`);
    const first = b[at + 1]!;
    let start = at + 2;
    let length = first;
    if (first === 0x80) this.fail(`indefinite length at byte ${at + 1}`);
    if (first > 0x80) {
      const count = first & 0x7f;
      if (count > 4) this.fail(`${count}-byte length at byte ${at + 1}`);
      if (start + count > limit) this.fail(`length cut off at byte ${start}`);
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + b[start + i]!;
      start += count;
    }
    const end = start + length;
    if (end > limit) {
      this.fail(
        `element at byte ${at} claims ${length} bytes, only ${
          limit - start
        } left`,
      );
    }
    return { tag, start, end };
  }

  /** The TLV at `at`, which must carry `tag`. */
  expect(tag: number, at: number, limit: number, what: string): Tlv {
    const t = this.read(at, limit);
    if (t.tag !== tag) {
      this.fail(
        `${what} at byte ${at} has tag 0x${hex2(t.tag)}, expected 0x${
          hex2(tag)
        }`,
      );
    }
    return t;
  }

  /** The content bytes of a TLV. */
  content(t: Tlv): Uint8Array {
    return this.bytes.subarray(t.start, t.end);
  }
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, "0");
}
