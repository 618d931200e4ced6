import fc from "fast-check";
import { assertEquals } from "../../tests/assert.ts";
import { peekStringField } from "./peek_field.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("peekStringField() finds a top-level string wherever the key is", () => {
  assertEquals(peekStringField(bytes('{"type": "QUERY"}'), "type"), "QUERY");
  assertEquals(
    peekStringField(
      bytes(
        ' { "a" : [1, {"type": "inner"}, "]}\\"x"], "b":{"c":"}"} ,"n": -1.5e3, "t": true, "type":"ANNOUNCE"}',
      ),
      "type",
    ),
    "ANNOUNCE",
  );
  // The first occurrence, as a cheap reader may: the parse that follows decides.
  assertEquals(
    peekStringField(bytes('{"type": "A", "type": "B"}'), "type"),
    "A",
  );
});

Deno.test("peekStringField() answers null for what it does not read plainly", () => {
  for (
    const text of [
      "",
      "[]",
      '"type"',
      "{}",
      '{"type": 1}',
      '{"type": "QUE\\u0052Y"}',
      '{"typ\\u0065": "QUERY"}',
      '{"type": "caf\u00e9"}',
      `{"type": "${"x".repeat(300)}"}`,
      '{"a": [1, 2 "type": "X"}',
      '{"a": "unterminated, "type": "X"',
      '{"a": {"b": [}',
      '{"type" "QUERY"}',
      '{"a": 1 "type": "QUERY"}',
      '{"type": "QUERY',
    ]
  ) {
    assertEquals(peekStringField(bytes(text), "type"), null, text);
  }
});

Deno.test("peekStringField() agrees with JSON.parse on any object with a plain value", () => {
  const plain = fc.stringMatching(/^[ -!#-[\]-~]{0,40}$/);
  fc.assert(
    fc.property(
      fc.dictionary(fc.string(), fc.jsonValue()),
      fc.nat(),
      plain,
      (rest, at, value) => {
        delete rest.type;
        const entries = Object.entries(rest);
        entries.splice(at % (entries.length + 1), 0, ["type", value]);
        const text = JSON.stringify(Object.fromEntries(entries), null, at % 3);
        assertEquals(peekStringField(bytes(text), "type"), value);
      },
    ),
    { numRuns: 500 },
  );
});
