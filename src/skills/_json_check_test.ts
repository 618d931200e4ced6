import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { parseJsonObject, utf8Length } from "./_json_check.ts";

const encoder = new TextEncoder();

Deno.test("utf8Length() counts a lone high surrogate as the 3 bytes of U+FFFD", () => {
  // Found by the fuzzer (skills.json-check): the character after a lone surrogate was skipped.
  for (
    const s of [
      "\ud800é",
      "\ud800\u4e00",
      "\ud800a",
      "a\ud800",
      "😀",
      "\udc00\ud800",
    ]
  ) {
    assertEquals(utf8Length(s), encoder.encode(s).length, JSON.stringify(s));
  }
});

Deno.test("parseJsonObject() limits UTF-8 bytes, not UTF-16 units", () => {
  // Found by the fuzzer (skills.json-check): 16 units of text could hold up to 48 bytes.
  const threeByteChars = JSON.stringify({ s: "\u0800\u0800\u0800" }); // 14 units, 20 bytes
  assertThrows(() => parseJsonObject(threeByteChars, 16, "output"), RangeError);
  assertEquals(parseJsonObject(threeByteChars, 20, "output"), {
    s: "\u0800\u0800\u0800",
  });
});
