import { assertEquals, assertStrictEquals } from "../../tests/assert.ts";
import {
  V1,
  V2,
  VECTOR_PK_HEX,
  VECTOR_SEED,
  vectorWire,
} from "../../tests/relay_vectors.ts";
import { Identity } from "../crypto/mod.ts";
import { bytesToHex, hexToBytes } from "../util/mod.ts";
import { createPacket, decodePacket, encodePacket } from "./packet.ts";
import { signPacket, verifyPacket } from "./signature.ts";

const identity = await Identity.fromSeed(VECTOR_SEED);

Deno.test("signPacket() reproduces the spec vector signatures", async (t) => {
  assertStrictEquals(identity.publicKey, VECTOR_PK_HEX);
  for (const [name, vector] of [["V1", V1], ["V2", V2]] as const) {
    await t.step(name, async () => {
      const packet = await signPacket(vector.fields, identity);
      assertStrictEquals(bytesToHex(packet.sig), vector.sigHex);
      assertStrictEquals(bytesToHex(packet.pk), VECTOR_PK_HEX);
      assertEquals(
        bytesToHex(encodePacket(packet)),
        bytesToHex(vectorWire(vector)),
      );
    });
  }
});

Deno.test("verifyPacket() accepts the vectors as received", async () => {
  assertStrictEquals(await verifyPacket(decodePacket(vectorWire(V1))), "valid");
  assertStrictEquals(await verifyPacket(decodePacket(vectorWire(V2))), "valid");
});

Deno.test("verifyPacket() tells unsigned from invalid", async (t) => {
  const good = decodePacket(vectorWire(V1));
  const cases: [string, Partial<typeof good>, string][] = [
    [
      "no sig and no pk",
      { sig: new Uint8Array(0), pk: new Uint8Array(0) },
      "unsigned",
    ],
    ["sig only", { pk: new Uint8Array(0) }, "invalid"],
    ["pk only", { sig: new Uint8Array(0) }, "invalid"],
    ["31-byte pk", { pk: good.pk.subarray(0, 31) }, "invalid"],
    ["63-byte sig", { sig: good.sig.subarray(0, 63) }, "invalid"],
    ["tampered body", { body: "hellO" }, "invalid"],
    ["other key", { pk: hexToBytes("ff".repeat(32)) }, "invalid"],
    ["flipped signature bit", {
      sig: good.sig.map((b, i) => i === 0 ? b ^ 1 : b),
    }, "invalid"],
  ];
  for (const [name, change, verdict] of cases) {
    await t.step(name, async () => {
      assertStrictEquals(
        await verifyPacket(createPacket({ ...good, ...change })),
        verdict,
      );
    });
  }
});
