import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { decodeMessage, encodeMessage, encodeMessageFrame } from "./codec.ts";
import { encodeFrame, MAX_FRAME_BYTES } from "./frame.ts";
import { float, JsonFloat } from "./json_value.ts";

Deno.test("encodeMessage() writes the original's json.dumps bytes", () => {
  const bytes = encodeMessage({
    type: "HEARTBEAT",
    node_id: "é",
    timestamp: float(1),
  });
  assertEquals(
    new TextDecoder().decode(bytes),
    '{"type": "HEARTBEAT", "node_id": "\\u00e9", "timestamp": 1.0}',
  );
});

Deno.test("encodeMessageFrame() equals encodeFrame(encodeMessage())", () => {
  const msg = { type: "QUERY", value: "Grüße 👋", n: [1, 2.5, 2n ** 64n] };
  assertEquals(encodeMessageFrame(msg), encodeFrame(encodeMessage(msg)));
  assertThrows(
    () => encodeMessageFrame({ type: "X", pad: "a".repeat(MAX_FRAME_BYTES) }),
    RangeError,
  );
});

Deno.test("decodeMessage() keeps float fields and checks the shape", async (t) => {
  await t.step("lossless", () => {
    const msg = decodeMessage(
      new TextEncoder().encode('{"type": "SYNC_REQUEST", "since": 0.0}'),
    );
    assertEquals(msg, { type: "SYNC_REQUEST", since: new JsonFloat(0) });
  });
  await t.step("invalid JSON is a SyntaxError", () => {
    assertThrows(() => decodeMessage("{"), SyntaxError);
    assertThrows(() => decodeMessage(new Uint8Array([0xc3])), SyntaxError);
    assertThrows(() => decodeMessage(new Uint8Array()), SyntaxError);
  });
  await t.step("a non-object or a missing type is a TypeError", () => {
    assertThrows(() => decodeMessage("[]"), {
      name: "TypeError",
      message: "Cannot decode message: body is not a JSON object",
    });
    assertThrows(() => decodeMessage("null"), TypeError);
    assertThrows(() => decodeMessage('{"type": 1}'), {
      name: "TypeError",
      message: 'Cannot decode message: "type" is not a string',
    });
  });
});
