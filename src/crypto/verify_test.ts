import { generateKeyPairSync, sign } from "node:crypto";
import { assert } from "../../tests/assert.ts";
import { cachedKeyCount, KEY_CACHE_MAX, verifyBytes } from "./verify.ts";

Deno.test("verifyBytes keeps 5,000 senders' keys imported while they take turns (relay soak: 4,096 re-imported every key)", async () => {
  const data = new TextEncoder().encode("a keep packet payload");
  const senders = Array.from({ length: 5_000 }, () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const der = publicKey.export({ format: "der", type: "spki" });
    return {
      raw: new Uint8Array(der.subarray(der.length - 32)),
      sig: new Uint8Array(sign(null, data, privateKey)),
    };
  });
  for (let round = 0; round < 2; round++) {
    for (const { raw, sig } of senders) {
      assert(await verifyBytes(raw, sig, data));
    }
  }
  assert(
    cachedKeyCount() >= senders.length && cachedKeyCount() <= KEY_CACHE_MAX,
    `${cachedKeyCount()} keys cached`,
  );
  // A key the cache holds still rejects another key's signature.
  assert(!(await verifyBytes(senders[0]!.raw, senders[1]!.sig, data)));
});
