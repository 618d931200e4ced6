/**
 * Ed25519 identity: WebCrypto derives the public key once; signatures come from
 * `node:crypto`, which keeps the expanded key (WebCrypto's Ed25519 sign re-derives it
 * from the seed on every call: 39 µs a signature here against 12 µs).
 */
import { createPrivateKey, type KeyObject, sign } from "node:crypto";
import { bytesToHex, hexToBytes, sha256Hex } from "../util/mod.ts";

const SEED_BYTES = 32;
// PKCS#8 envelope for a raw 32-byte Ed25519 seed (RFC 8410).
const PKCS8_PREFIX = hexToBytes("302e020100300506032b657004220420");

function base64UrlToBytes(value: string): Uint8Array {
  const b64 = value.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/**
 * A node's signing identity.
 *
 * @example
 * ```ts
 * const id = await Identity.generate();
 * const sig = await id.sign(new TextEncoder().encode("knarr"));
 * ```
 */
export class Identity {
  /** The 32-byte seed (the Ed25519 private key). */
  readonly seed: Uint8Array;
  /** Raw public key as 64 lowercase hex characters. */
  readonly publicKey: string;
  /** Lowercase hex SHA-256 of the raw public key. */
  readonly nodeId: string;
  #privateKey: KeyObject;

  private constructor(
    seed: Uint8Array,
    publicKey: string,
    nodeId: string,
    key: KeyObject,
  ) {
    this.seed = seed;
    this.publicKey = publicKey;
    this.nodeId = nodeId;
    this.#privateKey = key;
  }

  /** Derives the identity of a 32-byte seed. */
  static async fromSeed(seed: Uint8Array): Promise<Identity> {
    if (seed.length !== SEED_BYTES) {
      throw new RangeError(
        `Cannot load identity: seed is ${seed.length} bytes, expected ${SEED_BYTES}`,
      );
    }
    const pkcs8 = new Uint8Array(PKCS8_PREFIX.length + SEED_BYTES);
    pkcs8.set(PKCS8_PREFIX);
    pkcs8.set(seed, PKCS8_PREFIX.length);
    const extractable = await crypto.subtle.importKey(
      "pkcs8",
      pkcs8,
      "Ed25519",
      true,
      ["sign"],
    );
    const jwk = await crypto.subtle.exportKey("jwk", extractable);
    const publicKeyBytes = base64UrlToBytes(jwk.x!);
    const key = createPrivateKey({
      key: { kty: "OKP", crv: "Ed25519", x: jwk.x!, d: jwk.d! },
      format: "jwk",
    });
    pkcs8.fill(0);
    return new Identity(
      Uint8Array.from(seed),
      bytesToHex(publicKeyBytes),
      await sha256Hex(publicKeyBytes),
      key,
    );
  }

  /** A fresh random identity. */
  static generate(): Promise<Identity> {
    return Identity.fromSeed(
      crypto.getRandomValues(new Uint8Array(SEED_BYTES)),
    );
  }

  /** Signs bytes; returns the 64-byte signature as 128 lowercase hex characters. */
  sign(data: Uint8Array): Promise<string> {
    return Promise.resolve(bytesToHex(sign(null, data, this.#privateKey)));
  }

  /** Signs raw bytes; returns the 64 signature bytes. */
  signBytes(data: Uint8Array): Promise<Uint8Array> {
    return Promise.resolve(
      new Uint8Array(sign(null, data, this.#privateKey)),
    );
  }
}
