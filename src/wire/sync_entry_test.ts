import { assert, assertEquals } from "../../tests/assert.ts";
import { pythonWireJson } from "./canonical_json.ts";
import { decodeMessage } from "./codec.ts";
import { type JsonObject, toNumber } from "./json_value.ts";
import { verifyMessage } from "./sign.ts";
import { syncEntryOf, verifySyncEntry } from "./sync_entry.ts";
import { readLosslessVector } from "./_test_vectors.ts";

interface MessageVectors {
  vectors: { name: string; wire_json: string }[];
}
const { vectors } = readLosslessVector<MessageVectors>("messages.json");
const wireOf = (name: string) =>
  decodeMessage(vectors.find((v) => v.name === name)!.wire_json);

const syncResponse = wireOf("sync_response");
const entry = (syncResponse.skills as JsonObject[])[0]!;

Deno.test("verifySyncEntry() verifies the vector entry as its original ANNOUNCE", async () => {
  const result = await verifySyncEntry(entry);
  assert(result.status === "ok" && result.message.type === "ANNOUNCE");
  const announce = result.message;
  assertEquals(announce.node_id, entry.provider_node_id);
  assertEquals(announce.skill_sheet, entry.skill_sheet);
  assertEquals(announce.skill_sheet.uri, "knarr:///tools/text/translate@1.2");
  assertEquals(announce.sidecar_port, 19001);
  assertEquals(announce.hops, 0);
  // Same signature and msg_id as the announce vector.
  const original = wireOf("announce");
  assertEquals([announce.msg_id, announce.signature], [
    original.msg_id,
    original.signature,
  ]);
});

Deno.test("verifySyncEntry() rejects tampered and malformed entries", async (t) => {
  await t.step("provider_node_id of another node", async () => {
    const result = await verifySyncEntry({
      ...entry,
      provider_node_id: "0".repeat(64),
    });
    assertEquals(result.status, "invalid");
  });
  await t.step("sheet changed", async () => {
    const sheet = { ...(entry.skill_sheet as JsonObject), price: 0.5 };
    const result = await verifySyncEntry({ ...entry, skill_sheet: sheet });
    assertEquals(result.status === "invalid" && result.reason, "bad signature");
  });
  await t.step(
    "unsigned fields do not matter; a bad sidecar_port is dropped",
    async () => {
      const result = await verifySyncEntry({
        ...entry,
        ttl: 1,
        announced_at: 0,
        sidecar_port: "x",
      });
      assert(result.status === "ok" && result.message.type === "ANNOUNCE");
      assertEquals(result.message.sidecar_port, 0);
    },
  );
  await t.step("not an object", async () => {
    assertEquals((await verifySyncEntry("x")).status, "invalid");
    const { msg_id: _, ...noId } = entry;
    assertEquals((await verifySyncEntry(noId)).status, "invalid");
  });
});

Deno.test("syncEntryOf() rebuilds the vector entry byte for byte", async () => {
  const result = await verifyMessage(wireOf("announce"));
  assert(result.status === "ok" && result.message.type === "ANNOUNCE");
  const rebuilt = syncEntryOf(result.message, {
    announcedAt: toNumber(entry.announced_at)!,
    ttl: 1800,
  });
  assertEquals(pythonWireJson(rebuilt), pythonWireJson(entry));
});
