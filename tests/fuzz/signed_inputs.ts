/** Mutated knarr messages re-signed by the fuzz signer, so they pass the signature check. */
import { createHash } from "node:crypto";
import type fc from "fast-check";
import { JsonFloat, signingString } from "../../src/wire/mod.ts";
import { hexToBytes } from "../../src/util/mod.ts";
import { utf8 } from "./fuzz_target.ts";
import { type Json, jsonText, mutatedJson } from "./mutate_json.ts";
import { MESSAGE_VECTORS } from "./seeds.ts";
import { FUZZ_SIGNER, type SyncSigner } from "./signer.ts";

const HEX_64 = /^[0-9a-f]{64}$/;

function nodeIdOfHex(publicKey: string): string {
  return createHash("sha256").update(hexToBytes(publicKey)).digest("hex");
}

function isObject(value: Json): value is { [key: string]: Json } {
  return typeof value === "object" && value !== null &&
    !Array.isArray(value) && !(value instanceof JsonFloat);
}

/**
 * Re-signs a (mutated) message in place: the vector signer's key and node id become the
 * signer's, and the signature is computed over whatever the message now holds. A message
 * whose signing string cannot be built (unknown type, no msg_id) keeps its old signature.
 */
export function resign(message: Json, signer: SyncSigner = FUZZ_SIGNER): Json {
  if (!isObject(message)) return message;
  const old = message.public_key;
  if (typeof old === "string" && HEX_64.test(old)) {
    const oldNodeId = nodeIdOfHex(old);
    for (const [key, value] of Object.entries(message)) {
      if (value === oldNodeId) message[key] = signer.nodeId;
    }
    message.public_key = signer.publicKey;
  }
  if (typeof message.signature !== "string") return message;
  try {
    message.signature = signer.sign(utf8(signingString(message)));
  } catch {
    // Not signable as it stands: sent with the signature it had.
  }
  return message;
}

/** The decoded messages of the vectors. */
export const MESSAGE_TREES: readonly Json[] = MESSAGE_VECTORS.map((v) =>
  v.message
);

/** Mutated message trees, re-signed, as wire bytes. */
export function signedMessages(
  seeds: readonly Json[] = MESSAGE_TREES,
  signer: SyncSigner = FUZZ_SIGNER,
): fc.Arbitrary<Uint8Array> {
  return mutatedJson(seeds).map((tree) => utf8(jsonText(resign(tree, signer))));
}
