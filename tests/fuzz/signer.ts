/**
 * A synchronous Ed25519 signer for input generators (fast-check maps are synchronous), so that
 * mutated messages and packets carry valid signatures and reach the code behind the signature
 * checks. The signed bytes are the input: a saved regression replays them exactly.
 */
import { Buffer } from "node:buffer";
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  sign,
} from "node:crypto";
import { bytesToHex, hexToBytes } from "../../src/util/mod.ts";

const PKCS8_ED25519_PREFIX = hexToBytes("302e020100300506032b657004220420");

/** A key pair that signs synchronously. */
export class SyncSigner {
  /** Raw public key, 64 lowercase hex. */
  readonly publicKey: string;
  /** SHA-256 of the raw public key, 64 lowercase hex. */
  readonly nodeId: string;
  readonly #key;

  /** The signer of a 32-byte seed. */
  constructor(seed: Uint8Array) {
    const der = new Uint8Array(PKCS8_ED25519_PREFIX.length + 32);
    der.set(PKCS8_ED25519_PREFIX);
    der.set(seed, PKCS8_ED25519_PREFIX.length);
    this.#key = createPrivateKey({
      key: Buffer.from(der),
      format: "der",
      type: "pkcs8",
    });
    const jwk = createPublicKey(this.#key).export({ format: "jwk" });
    const raw = Uint8Array.from(
      atob(jwk.x!.replace(/-/g, "+").replace(/_/g, "/")),
      (c) => c.charCodeAt(0),
    );
    this.publicKey = bytesToHex(raw);
    this.nodeId = createHash("sha256").update(raw).digest("hex");
  }

  /** The signature of `data` as raw bytes. */
  signBytes(data: Uint8Array): Uint8Array {
    return new Uint8Array(sign(null, data, this.#key));
  }

  /** The signature of `data` as 128 lowercase hex. */
  sign(data: Uint8Array): string {
    return bytesToHex(this.signBytes(data));
  }
}

/** The fuzzers' signer (seed 0x42 × 32): every signed input is signed by it. */
export const FUZZ_SIGNER: SyncSigner = new SyncSigner(
  new Uint8Array(32).fill(0x42),
);
