import { assert, assertEquals } from "../../tests/assert.ts";
import { decodeMessage } from "./codec.ts";
import { FrameDecoder } from "./frame.ts";
import type { JsonObject } from "./json_value.ts";
import { verifyMessage } from "./sign.ts";
import { verifySyncEntry } from "./sync_entry.ts";
import { readLosslessVector } from "./_test_vectors.ts";

interface Trace {
  trace: {
    dir: string;
    type: string;
    frame_hex?: string;
    reserialized_body_hex?: string;
  }[];
}
const { trace } = readLosslessVector<Trace>("live_session_trace.json");

function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
}

function bodyOf(frame: Trace["trace"][number]): Uint8Array {
  if (frame.reserialized_body_hex) return fromHex(frame.reserialized_body_hex);
  const decoder = new FrameDecoder();
  decoder.push(fromHex(frame.frame_hex!));
  const body = decoder.next();
  assert(body !== undefined);
  return body;
}

Deno.test("verifyMessage() accepts every frame of a live Python session", async (t) => {
  for (const [i, frame] of trace.entries()) {
    await t.step(`${i} ${frame.dir} ${frame.type}`, async () => {
      const result = await verifyMessage(decodeMessage(bodyOf(frame)));
      assert(result.status === "ok", JSON.stringify(result));
      assertEquals(result.message.type, frame.type);
      if (result.message.type === "SYNC_RESPONSE") {
        for (const entry of result.message.skills) {
          assertEquals((await verifySyncEntry(entry)).status, "ok");
        }
      }
      if (result.message.type === "QUERY_RESPONSE") {
        // The original leaks internals; they are signed, so they must be kept verbatim.
        const first = result.message.results[0] as JsonObject;
        assert("_provider_public_key" in first && "_last_seen" in first);
      }
    });
  }
});
