import {
  assert,
  assertEquals,
  assertRejects,
  readVector,
} from "../../tests/assert.ts";
import { hexToBytes } from "../util/mod.ts";
import { Identity, nodeIdOf, verifyHex } from "./mod.ts";

interface IdentityVectors {
  identities: { seed_hex: string; public_key: string; node_id: string }[];
  sign_test: { seed_hex: string; message_utf8: string; signature_hex: string };
}
const vectors = readVector<IdentityVectors>("identity.json");

Deno.test("Identity.fromSeed() derives public_key and node_id of the vectors", async (t) => {
  for (const v of vectors.identities) {
    await t.step(v.public_key.slice(0, 8), async () => {
      const id = await Identity.fromSeed(hexToBytes(v.seed_hex));
      assertEquals(id.publicKey, v.public_key);
      assertEquals(id.nodeId, v.node_id);
      assertEquals(await nodeIdOf(v.public_key), v.node_id);
    });
  }
});

Deno.test("Identity.sign() matches the vector signature and verifies", async () => {
  const { seed_hex, message_utf8, signature_hex } = vectors.sign_test;
  const id = await Identity.fromSeed(hexToBytes(seed_hex));
  const data = new TextEncoder().encode(message_utf8);
  assertEquals(await id.sign(data), signature_hex);
  assert(await verifyHex(id.publicKey, signature_hex, data));
  assert(
    !(await verifyHex(
      id.publicKey,
      signature_hex,
      new TextEncoder().encode("knarR"),
    )),
  );
});

Deno.test("verifyHex() rejects malformed keys and signatures without throwing", async () => {
  const data = new Uint8Array([1]);
  assert(!(await verifyHex("zz", "00", data)));
  assert(!(await verifyHex("00".repeat(32), "00".repeat(64), data)));
  assert(!(await verifyHex("AB".repeat(32), "00".repeat(64), data)));
});

Deno.test("Identity.fromSeed() refuses a seed that is not 32 bytes", async () => {
  await assertRejects(() => Identity.fromSeed(new Uint8Array(31)), RangeError);
});

Deno.test("Identity.generate() gives distinct identities", async () => {
  const [a, b] = await Promise.all([Identity.generate(), Identity.generate()]);
  assert(a.nodeId !== b.nodeId);
  assertEquals(a.nodeId, await nodeIdOf(a.publicKey));
});
