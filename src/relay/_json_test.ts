import { assertEquals, assertStrictEquals } from "../../tests/assert.ts";
import { compareCodePoints, goJson } from "./_json.ts";

Deno.test("compareCodePoints() orders like UTF-8 bytes, unlike UTF-16 units", () => {
  const words = ["\u{1F600}", "\uFFFD", "b", "a", "ab", ""];
  assertEquals(words.sort(compareCodePoints), [
    "",
    "a",
    "ab",
    "b",
    "\uFFFD",
    "\u{1F600}",
  ]);
  assertStrictEquals(compareCodePoints("x", "x"), 0);
});

Deno.test("goJson() is compact, sorts keys and escapes like encoding/json", () => {
  assertStrictEquals(
    goJson({ b: 1, a: [1, "x"], c: {} }),
    '{"a":[1,"x"],"b":1,"c":{}}',
  );
  assertStrictEquals(
    goJson('<&>\u2028\u2029"\\\n\u0001'),
    '"\\u003c\\u0026\\u003e\\u2028\\u2029\\"\\\\\\n\\u0001"',
  );
  assertStrictEquals(goJson([]), "[]");
});
