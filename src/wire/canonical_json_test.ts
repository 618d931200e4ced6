import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { canonicalJson, pythonWireJson, sealJson } from "./canonical_json.ts";
import { parseJson } from "./json_parse.ts";
import { float, JsonFloat, type JsonValue } from "./json_value.ts";
import { readLosslessVector, toHex } from "./_test_vectors.ts";

interface CanonicalCase {
  name: string;
  canonical: string;
  canonical_utf8_hex: string;
}
const { cases } = readLosslessVector<{ cases: CanonicalCase[] }>(
  "canonical_json.json",
);

/** Reverses key insertion order at every level, so sorting is really exercised. */
function reversed(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(reversed);
  if (
    value === null || typeof value !== "object" || value instanceof JsonFloat
  ) {
    return value;
  }
  const out: Record<string, JsonValue> = {};
  for (const key of Object.keys(value).reverse()) {
    out[key] = reversed(value[key]!);
  }
  return out;
}

Deno.test("canonicalJson() reproduces every case of canonical_json.json", async (t) => {
  for (const c of cases) {
    await t.step(c.name, () => {
      const out = canonicalJson(reversed(parseJson(c.canonical)));
      assertEquals(out, c.canonical);
      assertEquals(toHex(new TextEncoder().encode(out)), c.canonical_utf8_hex);
    });
  }
});

Deno.test("canonicalJson() serializes JS-built values like Python", async (t) => {
  await t.step(
    "float() fields keep .0; plain integral numbers are ints",
    () => {
      assertEquals(
        canonicalJson({
          t: float(1700000000),
          n: 30000,
          p: float(2.5),
          z: float(-0),
        }),
        '{"n":30000,"p":2.5,"t":1700000000.0,"z":-0.0}',
      );
    },
  );
  await t.step("unsafe integral numbers are written exactly", () => {
    assertEquals(
      canonicalJson([2 ** 64, -(2 ** 60), 1e21]),
      "[18446744073709551616,-1152921504606846976,1000000000000000000000]",
    );
  });
  await t.step("plain non-integral and non-finite numbers are floats", () => {
    assertEquals(
      canonicalJson([1e-7, 0.0001, 1.5e-300, NaN, -Infinity, float(1.5e300)]),
      "[1e-07,0.0001,1.5e-300,NaN,-Infinity,1.5e+300]",
    );
  });
  await t.step("bigint", () => {
    assertEquals(
      canonicalJson({ v: -(10n ** 30n) }),
      '{"v":-1000000000000000000000000000000}',
    );
  });
  await t.step("keys sort by code point, not UTF-16 unit", () => {
    assertEquals(
      canonicalJson({ "😀": 2, "\uffff": 1, "é": 3, z: 4, "": 0 }),
      '{"":0,"z":4,"\\u00e9":3,"\\uffff":1,"\\ud83d\\ude00":2}',
    );
  });
  await t.step("strings escape like ensure_ascii", () => {
    assertEquals(
      canonicalJson('\u0000\u001f\u007f\u2028/\\"\b\f\n\r\t~ '),
      '"\\u0000\\u001f\\u007f\\u2028/\\\\\\"\\b\\f\\n\\r\\t~ "',
    );
  });
});

Deno.test("pythonWireJson() writes json.dumps defaults in insertion order", () => {
  assertEquals(
    pythonWireJson({
      type: "X",
      b: [1, float(1), { é: null }],
      a: {},
      c: [],
      t: true,
    }),
    '{"type": "X", "b": [1, 1.0, {"\\u00e9": null}], "a": {}, "c": [], "t": true}',
  );
});

Deno.test("canonicalJson() refuses values JSON cannot hold", async (t) => {
  for (
    const [name, value] of [
      ["undefined", undefined],
      ["undefined member", { a: undefined }],
      ["function", () => 1],
      ["symbol", Symbol("s")],
      ["Date", new Date(0)],
      ["Map", new Map()],
      ["Uint8Array", new Uint8Array(1)],
    ] as const
  ) {
    await t.step(name, () => {
      assertThrows(() => canonicalJson(value), TypeError);
    });
  }
  await t.step("nesting deeper than 1000 levels", () => {
    let deep: unknown = [];
    for (let i = 0; i < 1001; i++) deep = [deep];
    assertThrows(() => canonicalJson(deep), RangeError);
  });
});

Deno.test("sealJson() freezes a listing and keeps its text in each form", () => {
  const listing = [{ node_id: "ab", port: 9000, tags: ["x", "é"] }, 1.5];
  const canonical = canonicalJson(listing);
  const wire = pythonWireJson(listing);
  const sealed = sealJson(listing);
  assertEquals(canonicalJson({ peers: sealed }), `{"peers":${canonical}}`);
  assertEquals(pythonWireJson({ peers: sealed }), `{"peers": ${wire}}`);
  assertEquals(canonicalJson(sealed), canonical);
  assert(Object.isFrozen(sealed) && Object.isFrozen(listing[0]));
  assertThrows(
    () => (listing[0] as { tags: string[] }).tags.push("y"),
    TypeError,
  );
});
