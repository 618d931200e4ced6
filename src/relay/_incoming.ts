/**
 * Received packets, read in place: a canonically encoded packet (what every known client sends)
 * is parsed without copying and verified over its own bytes, which are then exactly the
 * canonical re-encoding the protocol signs; anything else takes the general decoder.
 */
import { verifyBytes } from "../crypto/mod.ts";
import { decodePacket } from "./packet.ts";
import { verifyPacket } from "./signature.ts";

/** What routing needs from a received packet, and its signature check under way. */
export interface IncomingPacket {
  /** Sender identity. */
  src: string;
  /** Destination. */
  dst: string;
  /** Raw public key (a view into the frame). */
  pk: Uint8Array;
  /** Opaque memory commit (a view into the frame). */
  scar: Uint8Array;
  /** The id as received, for the reply. */
  id: Uint8Array;
  /** `sig` and `pk` both empty. */
  unsigned: boolean;
  /** Resolves true when the signature verifies. */
  valid: Promise<boolean>;
}

const EMPTY: Uint8Array = new Uint8Array(0);
const FALSE = Promise.resolve(false);
const ENCODER = new TextEncoder();
const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
// Fields 3–10: 0 for varints (typ, fee, ttl), 2 for length-delimited ones.
const WIRE_TYPES = [-1, -1, -1, 0, 2, 2, 2, 2, 0, 0, 2];
const SIGNED_HEADER_BYTES = 2 + 64 + 2 + 32;
const MAX_SHORT_TEXT = 64;

/**
 * Parses a frame (length prefix included) and starts verifying it. Throws `SyntaxError` when the
 * packet is undecodable, including invalid UTF-8 in a string field.
 */
export function readPacket(frame: Uint8Array): IncomingPacket {
  return scan(frame, 4) ?? decodeGeneral(frame.subarray(4));
}

/**
 * Parses `packets.length` frames from `frames[from]` into `packets` (sized by the caller: one
 * packet, the usual batch, then costs one slot), stopping at the first undecodable one: its
 * error (`packets` is cut to the ones before it), or null when all of them decoded.
 */
export function readPackets(
  frames: Uint8Array[],
  from: number,
  packets: IncomingPacket[],
): Error | null {
  for (let k = 0; k < packets.length; k++) {
    try {
      packets[k] = readPacket(frames[from + k]!);
    } catch (error) {
      packets.length = k;
      return error as Error;
    }
  }
  return null;
}

function decodeGeneral(bytes: Uint8Array): IncomingPacket {
  const packet = decodePacket(bytes);
  const unsigned = packet.sig.length === 0 && packet.pk.length === 0;
  return {
    src: packet.src,
    dst: packet.dst,
    pk: packet.pk,
    scar: packet.scar,
    id: ENCODER.encode(packet.id),
    unsigned,
    valid: unsigned
      ? FALSE
      : verifyPacket(packet).then((verdict) => verdict === "valid"),
  };
}

/**
 * The packet starting at `start` when its encoding is canonical: `sig` (64 bytes) and `pk` (32)
 * first, then fields 3–10 in order, each at most once, no zero values, minimal varints, no
 * unknown fields, valid UTF-8. Null otherwise.
 */
function scan(b: Uint8Array, start: number): IncomingPacket | null {
  const end = b.length;
  if (
    end - start <= SIGNED_HEADER_BYTES || b[start] !== 0x0a ||
    b[start + 1] !== 64 || b[start + 66] !== 0x12 || b[start + 67] !== 32
  ) return null;
  const payload = start + SIGNED_HEADER_BYTES;
  let src = "";
  let dst = "";
  let id: Uint8Array = EMPTY;
  let scar: Uint8Array = EMPTY;
  let last = 2;
  let p = payload;
  while (p < end) {
    const tag = b[p++]!;
    const field = tag >>> 3;
    if (field <= last || field > 10 || (tag & 7) !== WIRE_TYPES[field]) {
      return null;
    }
    last = field;
    if (field === 3 || field === 8 || field === 9) {
      p = skipVarint(b, p, end, field === 8 ? 10 : 5);
      if (p < 0) return null;
      continue;
    }
    let length = b[p++] ?? 0;
    if (length >= 0x80) {
      const second = b[p++] ?? 0;
      if (second === 0) return null;
      length = (length & 0x7f) | ((second & 0x7f) << 7);
      if (second >= 0x80) {
        const third = b[p++] ?? 0;
        if (third === 0 || third >= 0x80) return null;
        length |= third << 14;
      }
    }
    if (length === 0 || p + length > end) return null;
    const s = p;
    p += length;
    if (field === 5 || field === 6) {
      const text = decodeText(b, s, p);
      if (text === null) return null;
      if (field === 5) src = text;
      else dst = text;
    } else if (field === 10) {
      scar = b.subarray(s, p);
    } else {
      if (!isUtf8(b, s, p)) return null;
      if (field === 4) id = b.subarray(s, p);
    }
  }
  const sig = b.subarray(start + 2, start + 66);
  const pk = b.subarray(start + 68, payload);
  return {
    src,
    dst,
    pk,
    scar,
    id,
    unsigned: false,
    valid: verifyBytes(pk, sig, b.subarray(payload, end)),
  };
}

/** The position after a minimal, non-zero varint of at most `maxBytes` bytes in range; -1 otherwise. */
function skipVarint(
  b: Uint8Array,
  p: number,
  end: number,
  maxBytes: number,
): number {
  const first = p;
  for (;;) {
    if (p >= end || p - first >= maxBytes) return -1;
    const byte = b[p++]!;
    if (byte < 0x80) {
      // Zero (one byte) or a trailing zero byte is not how the value is written canonically.
      if (byte === 0) return -1;
      const count = p - first;
      if (count === maxBytes && byte > (maxBytes === 5 ? 0x0f : 0x01)) {
        return -1;
      }
      return p;
    }
  }
}

function isAscii(b: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (b[i]! >= 0x80) return false;
  return true;
}

function isUtf8(b: Uint8Array, s: number, e: number): boolean {
  return isAscii(b, s, e) || decodeText(b, s, e) !== null;
}

// One array of char codes per length, reused: a short ASCII field then costs its string only,
// no view of its bytes.
const CHAR_CODES: number[][] = Array.from(
  { length: MAX_SHORT_TEXT + 1 },
  (_, n) => Array.from({ length: n }, () => 0),
);

function decodeText(b: Uint8Array, s: number, e: number): string | null {
  const n = e - s;
  if (n <= MAX_SHORT_TEXT && isAscii(b, s, e)) {
    const codes = CHAR_CODES[n]!;
    for (let i = 0; i < n; i++) codes[i] = b[s + i]!;
    return String.fromCharCode.apply(null, codes);
  }
  try {
    return STRICT_UTF8.decode(b.subarray(s, e));
  } catch {
    return null;
  }
}
