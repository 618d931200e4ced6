/** Hex and byte helpers shared by every layer. */
import { createHash } from "node:crypto";

const HEX_CHARS = "0123456789abcdef";
const HEX_64_RE = /^[0-9a-f]{64}$/;
const HEX_PAIRS = Array.from(
  { length: 256 },
  (_, b) => HEX_CHARS[b >> 4]! + HEX_CHARS[b & 15]!,
);

/** Encodes bytes as lowercase hex. */
export function bytesToHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX_PAIRS[bytes[i]!]!;
  return out;
}

const HEX_VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX_VALUES[HEX_CHARS.charCodeAt(i)] = i;
  HEX_VALUES[HEX_CHARS.toUpperCase().charCodeAt(i)] = i;
}

/** Decodes hex (either case) into bytes; throws `SyntaxError` on bad input. */
export function hexToBytes(hex: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(hex.length >> 1);
  let bad = hex.length % 2 !== 0;
  for (let i = 0; i < out.length && !bad; i++) {
    const hi = HEX_VALUES[hex.charCodeAt(2 * i)] ?? -1;
    const lo = HEX_VALUES[hex.charCodeAt(2 * i + 1)] ?? -1;
    if (hi < 0 || lo < 0) bad = true;
    out[i] = (hi << 4) | lo;
  }
  if (bad) {
    throw new SyntaxError(
      `Cannot decode hex "${hex.slice(0, 16)}": not an even-length hex string`,
    );
  }
  return out;
}

/** True for exactly 64 lowercase hex characters (node ids, public keys, SHA-256 digests). */
export function isHex64(value: unknown): value is string {
  return typeof value === "string" && HEX_64_RE.test(value);
}

/**
 * Lowercase hex SHA-256 of bytes or of a UTF-8 string. Hashed at once with `node:crypto`
 * (≈ 1 µs for a key; `crypto.subtle.digest` costs ≈ 20 µs of op and promise overhead,
 * paid for every message's node_id check).
 */
export function sha256Hex(data: Uint8Array | string): Promise<string> {
  return Promise.resolve(createHash("sha256").update(data).digest("hex"));
}
