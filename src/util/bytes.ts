/** Hex and byte helpers shared by every layer. */

const HEX_CHARS = "0123456789abcdef";
const HEX_64_RE = /^[0-9a-f]{64}$/;

/** Encodes bytes as lowercase hex. */
export function bytesToHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += HEX_CHARS[b >> 4]! + HEX_CHARS[b & 15]!;
  return out;
}

/** Decodes hex (either case) into bytes; throws `SyntaxError` on bad input. */
export function hexToBytes(hex: string): Uint8Array<ArrayBuffer> {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new SyntaxError(
      `Cannot decode hex "${hex.slice(0, 16)}": not an even-length hex string`,
    );
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  }
  return out;
}

/** True for exactly 64 lowercase hex characters (node ids, public keys, SHA-256 digests). */
export function isHex64(value: unknown): value is string {
  return typeof value === "string" && HEX_64_RE.test(value);
}

/** Lowercase hex SHA-256 of bytes or of a UTF-8 string. */
export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === "string"
    ? new TextEncoder().encode(data)
    : data;
  const digest = await crypto.subtle.digest(
    "SHA-256",
    bytes as Uint8Array<ArrayBuffer>,
  );
  return bytesToHex(new Uint8Array(digest));
}
