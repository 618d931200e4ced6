import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { Identity } from "../crypto/mod.ts";
import { createPacket } from "./packet.ts";
import { buildFrame, buildReplyFrame, publicKeyField } from "./_reply_frame.ts";

const identity = await Identity.generate();
const encoder = new TextEncoder();

Deno.test("buildReplyFrame() writes the bytes the packet codec writes for a reply", async (t) => {
  const cases: [string, string][] = [
    ["vec-1", "done"],
    ["", "done"],
    ["x".repeat(200), "error:offline"],
    ["é", `{"agents":[${'"bot:a",'.repeat(3_000)}"bot:z"]}`],
    ["id", ""],
  ];
  for (
    const signer of [null, { identity, pkField: publicKeyField(identity) }]
  ) {
    for (const [id, body] of cases) {
      await t.step(
        `${
          signer ? "signed" : "unsigned"
        }, id of ${id.length}, body of ${body.length}`,
        async () => {
          const expected = await buildFrame(
            signer,
            createPacket({ typ: 1, id, src: "server", body }),
          );
          assertEquals(
            await buildReplyFrame(signer, encoder.encode(id), body),
            expected,
          );
        },
      );
    }
  }
});

Deno.test("buildReplyFrame() refuses a reply longer than a frame may be", () => {
  assertThrows(
    () => buildReplyFrame(null, new Uint8Array(0), "x".repeat(70_000)),
    RangeError,
  );
});
