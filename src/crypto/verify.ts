/** Ed25519 verification with a small cache of imported public keys. */
import { hexToBytes, isHex64, sha256Hex } from "../util/mod.ts";

const KEY_CACHE_MAX = 4096;
const keyCache = new Map<string, Promise<CryptoKey>>();

function importPublicKey(
  raw: Uint8Array,
  cacheKey: string,
): Promise<CryptoKey> {
  let key = keyCache.get(cacheKey);
  if (!key) {
    if (keyCache.size >= KEY_CACHE_MAX) {
      keyCache.delete(keyCache.keys().next().value!);
    }
    key = crypto.subtle.importKey(
      "raw",
      raw as Uint8Array<ArrayBuffer>,
      "Ed25519",
      false,
      ["verify"],
    );
    keyCache.set(cacheKey, key);
  }
  return key;
}

/** Verifies raw signature bytes against a raw 32-byte public key; false on any malformed input. */
export async function verifyBytes(
  publicKey: Uint8Array,
  signature: Uint8Array,
  data: Uint8Array,
): Promise<boolean> {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    let cacheKey = "";
    for (const b of publicKey) cacheKey += String.fromCharCode(b);
    const key = await importPublicKey(publicKey, cacheKey);
    return await crypto.subtle.verify(
      "Ed25519",
      key,
      signature as Uint8Array<ArrayBuffer>,
      data as Uint8Array<ArrayBuffer>,
    );
  } catch {
    return false;
  }
}

/** Verifies a hex signature by a hex public key; false on any malformed input. */
export function verifyHex(
  publicKeyHex: string,
  signatureHex: string,
  data: Uint8Array,
): Promise<boolean> {
  if (!isHex64(publicKeyHex) || !/^[0-9a-f]{128}$/.test(signatureHex)) {
    return Promise.resolve(false);
  }
  return verifyBytes(hexToBytes(publicKeyHex), hexToBytes(signatureHex), data);
}

/** node_id of a hex public key: lowercase hex SHA-256 of the raw key bytes. */
export function nodeIdOf(publicKeyHex: string): Promise<string> {
  return sha256Hex(hexToBytes(publicKeyHex));
}
