import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { parseJson } from "./json_parse.ts";
import { MAX_INTEGER_DIGITS } from "./_json_parser.ts";
import { float, JsonFloat, toNumber } from "./json_value.ts";

Deno.test("parseJson() keeps Python's int/float distinction", async (t) => {
  await t.step("integer lexemes are numbers", () => {
    assertEquals(parseJson("[0, -1, 30000, -0]"), [0, -1, 30000, -0]);
  });
  await t.step("integral float lexemes are JsonFloat", () => {
    const v = parseJson(
      "[1.0, 0.0, -0.0, 1e16, 3600.0, 1E2, 2e-0]",
    ) as unknown[];
    for (const x of v) assert(x instanceof JsonFloat);
    assertEquals(v.map(toNumber), [1, 0, -0, 1e16, 3600, 100, 2]);
    assert(Object.is((v[2] as JsonFloat).value, -0));
  });
  await t.step("non-integral floats are plain numbers", () => {
    assertEquals(parseJson("[0.1, 1e-05, 1700000000.123456]"), [
      0.1,
      1e-5,
      1700000000.123456,
    ]);
  });
  await t.step("integers beyond 2^53 are exact bigints", () => {
    assertEquals(
      parseJson(
        "[9007199254740991, 9007199254740993, -1000000000000000000000000000000]",
      ),
      [9007199254740991, 9007199254740993n, -(10n ** 30n)],
    );
  });
  await t.step(
    "integers of more than 4,300 digits are refused, as Python does",
    () => {
      // Python 3.11+ cannot convert longer ones, and BigInt() of a 1 MiB lexeme
      // costs time quadratic in its length (a cheap way to stall a node).
      const longest = "9".repeat(MAX_INTEGER_DIGITS);
      assertEquals(parseJson(`[-${longest}]`), [-BigInt(longest)]);
      assertThrows(
        () => parseJson(`{"n": ${longest}9}`),
        SyntaxError,
        `integer of ${MAX_INTEGER_DIGITS + 1} digits exceeds the limit`,
      );
      // Fractions and exponents are floats, whatever their length.
      const v = parseJson(`[${"1".repeat(5000)}.5]`) as JsonFloat[];
      assertEquals(v[0]!.value, Infinity);
    },
  );
  await t.step("huge float lexemes stay floats", () => {
    const v = parseJson("[1e400, 12345678901234567890.0]") as JsonFloat[];
    assertEquals(v.map((x) => x.value), [Infinity, 12345678901234567890]);
  });
});

Deno.test("parseJson() accepts Python's bare NaN and Infinity as JsonFloat", () => {
  const v = parseJson(
    '{"a": NaN, "b": Infinity, "c": -Infinity, "d": [1.5, 2, "NaN"]}',
  ) as Record<string, unknown>;
  assert(v.a instanceof JsonFloat && Number.isNaN(v.a.value));
  assertEquals(v.b, new JsonFloat(Infinity));
  assertEquals(v.c, new JsonFloat(-Infinity));
  assertEquals(v.d, [1.5, 2, "NaN"]);
});

/** JSON.parse's view of a lossless value: JsonFloat and bigint back to numbers. */
function plain(value: unknown): unknown {
  if (value instanceof JsonFloat) return value.value;
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(out, k, {
        value: plain(v),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

Deno.test("parseJson() agrees with JSON.parse apart from number types", async (t) => {
  await t.step("escapes, __proto__ and duplicate keys", () => {
    const text =
      '{"s": "a\\u00e9\\ud83d\\ude00\\n\\"/\\/\\\\", "o": {"__proto__": 1, "x": null, "t": true, "f": false}, "dup": 1, "dup": 2, "e": [{}, []]}';
    const v = parseJson(text) as Record<string, Record<string, unknown>>;
    assertEquals(v, JSON.parse(text));
    assertEquals(Object.keys(v.o!), ["__proto__", "x", "t", "f"]);
    assertEquals(Object.getPrototypeOf(v.o), Object.prototype);
  });
  for (
    const name of [
      "messages.json",
      "live_session_trace.json",
      "framing.json",
      "canonical_json.json",
    ]
  ) {
    await t.step(`the vector file ${name}`, () => {
      const text = Deno.readTextFileSync(
        new URL(`../../tests/vectors/${name}`, import.meta.url),
      );
      assertEquals(plain(parseJson(text)), JSON.parse(text));
    });
  }
  await t.step("random documents", () => {
    let seed = 42;
    const rand = () =>
      (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const chars = [
      "a",
      "Z",
      "0",
      " ",
      '"',
      "\\",
      "/",
      "\n",
      "\u0001",
      "\u007f",
      "é",
      "\u2028",
      "😀",
      "\ud800",
      "\uffff",
    ];
    const str = () =>
      Array.from(
        { length: Math.floor(rand() * 5) },
        () => chars[Math.floor(rand() * chars.length)],
      ).join("");
    const gen = (depth: number): unknown => {
      const r = rand();
      if (depth > 3 || r < 0.5) {
        return [
          null,
          true,
          false,
          Math.floor(rand() * 2e6) - 1e6,
          rand() * 10 ** Math.floor(rand() * 40 - 20),
          str(),
        ][Math.floor(rand() * 6)];
      }
      if (r < 0.75) {
        return Array.from(
          { length: Math.floor(rand() * 4) },
          () => gen(depth + 1),
        );
      }
      return Object.fromEntries(
        Array.from(
          { length: Math.floor(rand() * 4) },
          () => [str(), gen(depth + 1)],
        ),
      );
    };
    for (let i = 0; i < 2000; i++) {
      // Compared with the generated value, not JSON.parse (see the V8 test below).
      const value = gen(0);
      const text = JSON.stringify(value, null, i % 2 === 0 ? 0 : 1);
      assertEquals(plain(parseJson(text)), value, text);
    }
  });
});

Deno.test("parseJson() decodes escaped keys that V8's JSON.parse gets wrong", () => {
  // V8 15.0 (Deno 2.9.6) reuses a sibling object's key "\\" for the escaped
  // key that follows the same keys: JSON.parse returns ["Z", "\\"] here.
  JSON.parse('{"Z": 1, "\\\\": 3}');
  parseJson('{"Z": 1, "\\\\": 3}');
  assertEquals(Object.keys(parseJson('{"Z": 1, "\\u00e9": 3}') as object), [
    "Z",
    "é",
  ]);
  assertEquals(Object.keys(parseJson('{"Z": 1, "\\ud800": 3}') as object), [
    "Z",
    "\ud800",
  ]);
});

Deno.test("parseJson() decodes UTF-8 bytes", () => {
  const bytes = new TextEncoder().encode('{"s": "Grüße 👋", "v": 2.0}');
  assertEquals(parseJson(bytes), { s: "Grüße 👋", v: new JsonFloat(2) });
});

Deno.test("parseJson() throws SyntaxError on invalid input", async (t) => {
  const bad = [
    "",
    "{",
    "[1,]",
    '{"a" 1}',
    "01",
    "1.",
    ".5",
    "+1",
    "nan",
    "-NaN",
    "[Infinity,]",
    '"\u0001"',
    "[NaN] x",
    '["\\x"]',
    '[NaN, "\\u12"]',
    "[NaN, tru]",
    "\ufeff{}",
  ];
  for (const text of bad) {
    await t.step(JSON.stringify(text), () => {
      assertThrows(() => parseJson(text), SyntaxError);
    });
  }
  await t.step("invalid UTF-8", () => {
    assertThrows(
      () => parseJson(new Uint8Array([0x22, 0xff, 0x22])),
      SyntaxError,
    );
  });
  await t.step("nesting deeper than the reviver's stack", () => {
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    assertThrows(() => parseJson(deep), {
      name: "SyntaxError",
      message: /nesting deeper than 1000 levels/,
    });
  });
});

Deno.test("float() wraps integral and non-finite values only", () => {
  assertEquals(float(1700000000), new JsonFloat(1700000000));
  assertEquals(float(0.5), 0.5);
  assertEquals(float(NaN), new JsonFloat(NaN));
});

Deno.test("toNumber() unwraps numbers, JsonFloat and bigint", () => {
  assertEquals(toNumber(3), 3);
  assertEquals(toNumber(new JsonFloat(3)), 3);
  assertEquals(toNumber(2n ** 60n), 2 ** 60);
  assertEquals(toNumber("3"), undefined);
  assertEquals(toNumber(null), undefined);
});
