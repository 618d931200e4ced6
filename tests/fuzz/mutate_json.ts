/** Input generators for JSON: hostile values, tree mutations of real messages, and their text. */
import fc from "fast-check";
import { JsonFloat } from "../../src/wire/mod.ts";

/** A JSON value of the wire model (JsonFloat for Python floats, bigint for big integers). */
export type Json =
  | null
  | boolean
  | number
  | bigint
  | string
  | JsonFloat
  | Json[]
  | { [key: string]: Json };

function nested(depth: number, leaf: Json, asObject: boolean): Json {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = asObject ? { a: value } : [value];
  return value;
}

const LONG_STRING = "x".repeat(70_000);

/** Values that break careless decoders: limits, odd numbers, prototype keys, deep nesting. */
export function hostileJson(): fc.Arbitrary<Json> {
  // Made afresh for each use: edits change values in place.
  const special: (() => Json)[] = [
    () => null,
    () => true,
    () => false,
    () => 0,
    () => -1,
    () => 1,
    () => 65535,
    () => 65536,
    () => 2 ** 31,
    () => 2 ** 32,
    () => Number.MAX_SAFE_INTEGER,
    () => 9007199254740993n,
    () => -(2n ** 64n),
    () => 1.5,
    () => -0.5,
    () => 1e308,
    () => 5e-324,
    () => new JsonFloat(0),
    () => new JsonFloat(-0),
    () => new JsonFloat(1),
    () => new JsonFloat(NaN),
    () => new JsonFloat(Infinity),
    () => new JsonFloat(-Infinity),
    () => "",
    () => " ",
    () => "\u0000",
    () => "\ud800",
    () => "\udc00x",
    () => "\u2028",
    () => "é",
    () => "😀",
    () => "a".repeat(65),
    () => "a".repeat(257),
    () => "a".repeat(4097),
    () => LONG_STRING,
    () => "knarr-asset://" + "0".repeat(64),
    () => "0".repeat(64),
    () => "f".repeat(128),
    () => "../../etc/passwd",
    () => "__proto__",
    () => [],
    () => ({}),
    () => JSON.parse('{"__proto__": {"polluted": 1}}'),
    () => ({ constructor: 1, toString: 2, hasOwnProperty: 3, valueOf: 4 }),
    () => nested(999, 1, false),
    () => nested(1001, 1, false),
    () => nested(998, null, true),
    () => nested(3000, 1, false),
    () => Array.from({ length: 2000 }, (_, i) => i),
    () =>
      Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, i])),
  ];
  return fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...special).map((make) => make()) },
    {
      weight: 3,
      arbitrary: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
    },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
    { weight: 1, arbitrary: fc.double().map((n) => n as Json) },
    { weight: 1, arbitrary: fc.bigInt().map((n) => n as Json) },
  );
}

type JsonEdit = {
  at: number;
  op: "replace" | "delete" | "add" | "wrap" | "duplicate";
  key: string;
  value: Json;
};

const KEYS = [
  "type",
  "msg_id",
  "public_key",
  "signature",
  "node_id",
  "skill_sheet",
  "name",
  "tags",
  "input_schema",
  "_required",
  "price",
  "max_input_size",
  "peers",
  "results",
  "skills",
  "host",
  "port",
  "payload",
  "__proto__",
  "constructor",
];

function jsonEdit(keys: readonly string[]): fc.Arbitrary<JsonEdit> {
  return fc.record({
    at: fc.nat(),
    op: fc.constantFrom(
      "replace" as const,
      "replace" as const,
      "delete" as const,
      "add" as const,
      "wrap" as const,
      "duplicate" as const,
    ),
    key: fc.oneof(fc.constantFrom(...keys, ...KEYS), fc.string()),
    value: hostileJson(),
  });
}

function isObject(value: Json): value is { [key: string]: Json } {
  return typeof value === "object" && value !== null &&
    !Array.isArray(value) && !(value instanceof JsonFloat);
}

/** Every container in the tree, paired with how to reach it: parents before children. */
function containers(root: Json): Json[] {
  const out: Json[] = [];
  const stack: Json[] = [root];
  while (stack.length > 0 && out.length < 10_000) {
    const v = stack.pop()!;
    if (Array.isArray(v)) {
      out.push(v);
      for (const x of v) stack.push(x);
    } else if (isObject(v)) {
      out.push(v);
      for (const x of Object.values(v)) stack.push(x);
    }
  }
  return out;
}

function setKey(obj: { [key: string]: Json }, key: string, value: Json): void {
  Object.defineProperty(obj, key, {
    value,
    writable: true,
    enumerable: true,
    configurable: true,
  });
}

function applyJsonEdit(root: Json, edit: JsonEdit): Json {
  const all = containers(root);
  if (all.length === 0) return edit.op === "replace" ? edit.value : root;
  const target = all[edit.at % all.length]!;
  if (Array.isArray(target)) {
    const i = target.length === 0 ? 0 : edit.at % target.length;
    if (edit.op === "delete") target.splice(i, 1);
    else if (edit.op === "add") target.splice(i, 0, edit.value);
    else if (edit.op === "wrap") target[i] = [target[i] ?? null];
    else if (
      edit.op === "duplicate" && target.length > 0 && target.length < 100
    ) {
      // Containers twice only: 50 references to a container that is itself duplicated
      // serialize as 50^k copies (a 628 MB input that the long run took for a hang).
      const item = target[i]!;
      const copies = typeof item === "object" && item !== null ? 2 : 50;
      target.push(...Array.from({ length: copies }, () => item));
    } else target[i] = edit.value;
    return root;
  }
  const obj = target as { [key: string]: Json };
  const keys = Object.keys(obj);
  const existing = keys.length > 0 ? keys[edit.at % keys.length]! : edit.key;
  switch (edit.op) {
    case "delete":
      delete obj[existing];
      break;
    case "add":
      setKey(obj, edit.key, edit.value);
      break;
    case "wrap":
      setKey(obj, existing, { wrapped: obj[existing] ?? null });
      break;
    case "duplicate":
      setKey(obj, edit.key, obj[existing] ?? null);
      break;
    default:
      setKey(obj, existing, edit.value);
  }
  return root;
}

/** Deep copy of a JSON tree (own keys, `__proto__` included). */
export function cloneJson(value: Json): Json {
  if (Array.isArray(value)) return value.map(cloneJson);
  if (isObject(value)) {
    const out: { [key: string]: Json } = {};
    for (const [k, v] of Object.entries(value)) setKey(out, k, cloneJson(v));
    return out;
  }
  return value;
}

/** A seed tree, then 0 to `maxEdits` tree edits (replace, delete, add, wrap, duplicate). */
export function mutatedJson(
  seeds: readonly Json[],
  options: { keys?: readonly string[]; maxEdits?: number } = {},
): fc.Arbitrary<Json> {
  return fc.tuple(
    fc.nat({ max: seeds.length - 1 }),
    fc.array(jsonEdit(options.keys ?? []), {
      maxLength: options.maxEdits ?? 4,
    }),
  ).map(([index, edits]) =>
    edits.reduce(applyJsonEdit, cloneJson(seeds[index]!))
  );
}

function scalarText(v: Json): string {
  if (v === null) return "null";
  if (typeof v === "boolean" || typeof v === "bigint") return String(v);
  if (typeof v === "number") {
    return Number.isFinite(v) ? JSON.stringify(v) : String(v);
  }
  if (typeof v === "string") return JSON.stringify(v);
  const n = (v as JsonFloat).value;
  if (!Number.isFinite(n)) return String(n);
  if (!Number.isInteger(n)) return String(n);
  return Object.is(n, -0) ? "-0.0" : `${BigInt(n)}.0`;
}

/**
 * JSON text of a wire value without a depth limit (so too-deep inputs can be written), without
 * recursion: JsonFloat as a Python float, bigint as digits.
 */
export function jsonText(value: Json): string {
  const parts: string[] = [];
  // Work items: a value to write, or literal text.
  const stack: ({ v: Json } | string)[] = [{ v: value }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (typeof item === "string") {
      parts.push(item);
      continue;
    }
    const v = item.v;
    if (Array.isArray(v)) {
      parts.push("[");
      stack.push("]");
      for (let i = v.length - 1; i >= 0; i--) {
        stack.push({ v: v[i]! });
        if (i > 0) stack.push(", ");
      }
    } else if (isObject(v)) {
      parts.push("{");
      stack.push("}");
      const entries = Object.entries(v);
      for (let i = entries.length - 1; i >= 0; i--) {
        stack.push({ v: entries[i]![1] });
        stack.push(`${JSON.stringify(entries[i]![0])}: `);
        if (i > 0) stack.push(", ");
      }
    } else parts.push(scalarText(v));
  }
  return parts.join("");
}
