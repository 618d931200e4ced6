/**
 * Input generators built on fast-check: byte-level mutations of real inputs (the vectors),
 * random bytes and text, and inputs split for streaming. JSON trees are in mutate_json.ts.
 */
import fc from "fast-check";
import type { FuzzInput } from "./fuzz_target.ts";
import { utf8 } from "./fuzz_target.ts";

/** One byte-level edit; positions are taken modulo the current length. */
type ByteEdit =
  | { op: "flip"; at: number; bit: number }
  | { op: "set"; at: number; byte: number }
  | { op: "insert"; at: number; bytes: Uint8Array }
  | { op: "delete"; at: number; length: number }
  | { op: "repeat"; at: number; length: number; times: number }
  | { op: "truncate"; at: number }
  | { op: "splice"; at: number; from: number; length: number; other: number };

const INTERESTING_BYTES = [
  0x00,
  0x01,
  0x0a,
  0x0d,
  0x20,
  0x22,
  0x2c,
  0x3a,
  0x5b,
  0x5c,
  0x5d,
  0x7b,
  0x7d,
  0x7f,
  0x80,
  0xc0,
  0xef,
  0xfe,
  0xff,
];

function byteEdit(
  tokens: readonly Uint8Array[],
  maxRepeat: number,
): fc.Arbitrary<ByteEdit> {
  const at = fc.nat();
  const insertBytes = tokens.length > 0
    ? fc.oneof(fc.constantFrom(...tokens), fc.uint8Array({ maxLength: 8 }))
    : fc.uint8Array({ minLength: 1, maxLength: 8 });
  return fc.oneof(
    fc.record({
      op: fc.constant("flip" as const),
      at,
      bit: fc.integer({ min: 0, max: 7 }),
    }),
    fc.record({
      op: fc.constant("set" as const),
      at,
      byte: fc.oneof(
        fc.constantFrom(...INTERESTING_BYTES),
        fc.integer({ min: 0, max: 255 }),
      ),
    }),
    fc.record({ op: fc.constant("insert" as const), at, bytes: insertBytes }),
    fc.record({
      op: fc.constant("delete" as const),
      at,
      length: fc.integer({ min: 1, max: 32 }),
    }),
    fc.record({
      op: fc.constant("repeat" as const),
      at,
      length: fc.integer({ min: 1, max: 16 }),
      times: fc.oneof(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: maxRepeat }),
      ),
    }),
    fc.record({ op: fc.constant("truncate" as const), at }),
    fc.record({
      op: fc.constant("splice" as const),
      at,
      from: fc.nat(),
      length: fc.integer({ min: 1, max: 64 }),
      other: fc.nat(),
    }),
  );
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

function applyEdit(
  data: Uint8Array,
  edit: ByteEdit,
  seeds: readonly Uint8Array[],
): Uint8Array {
  const n = data.length;
  switch (edit.op) {
    case "flip": {
      if (n === 0) return data;
      const out = data.slice();
      out[edit.at % n]! ^= 1 << edit.bit;
      return out;
    }
    case "set": {
      if (n === 0) return Uint8Array.of(edit.byte);
      const out = data.slice();
      out[edit.at % n] = edit.byte;
      return out;
    }
    case "insert": {
      const at = edit.at % (n + 1);
      return concat(data.subarray(0, at), edit.bytes, data.subarray(at));
    }
    case "delete": {
      if (n === 0) return data;
      const at = edit.at % n;
      return concat(data.subarray(0, at), data.subarray(at + edit.length));
    }
    case "repeat": {
      if (n === 0) return data;
      const at = edit.at % n;
      const chunk = data.subarray(at, at + edit.length);
      const repeated = new Uint8Array(chunk.length * edit.times);
      for (let i = 0; i < edit.times; i++) {
        repeated.set(chunk, i * chunk.length);
      }
      return concat(data.subarray(0, at), repeated, data.subarray(at));
    }
    case "truncate":
      return data.subarray(0, edit.at % (n + 1));
    case "splice": {
      const other = seeds[edit.other % seeds.length]!;
      if (other.length === 0) return data;
      const from = edit.from % other.length;
      const at = edit.at % (n + 1);
      return concat(
        data.subarray(0, at),
        other.subarray(from, from + edit.length),
        data.subarray(at),
      );
    }
  }
}

/** Options of {@linkcode mutatedBytes}. */
export interface MutateOptions {
  /** Byte strings worth inserting (keywords, delimiters, lengths of the format). */
  tokens?: readonly (string | Uint8Array)[];
  /** Most edits per input. Default 6. */
  maxEdits?: number;
  /** Most copies one "repeat" edit makes (grows nesting, lines, fields). Default 2048. */
  maxRepeat?: number;
}

/** A seed, then 0 to `maxEdits` byte-level edits of it (the seed itself is a valid input too). */
export function mutatedBytes(
  seeds: readonly Uint8Array[],
  options: MutateOptions = {},
): fc.Arbitrary<Uint8Array> {
  if (seeds.length === 0) throw new TypeError("mutatedBytes needs seeds");
  const tokens = (options.tokens ?? []).map((t) =>
    typeof t === "string" ? utf8(t) : t
  );
  return fc.tuple(
    fc.nat({ max: seeds.length - 1 }),
    fc.array(byteEdit(tokens, options.maxRepeat ?? 2048), {
      maxLength: options.maxEdits ?? 6,
    }),
  ).map(([index, edits]) =>
    edits.reduce((data, edit) => applyEdit(data, edit, seeds), seeds[index]!)
  );
}

/** Random bytes, mostly short, sometimes long. */
export function randomBytes(maxLength = 512): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.uint8Array({ maxLength: 64 }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength }) },
  );
}

/** Random text of the given alphabet, as bytes. */
export function randomText(
  alphabet: string,
  maxLength = 256,
): fc.Arbitrary<Uint8Array> {
  return fc.string({
    unit: fc.constantFrom(...alphabet),
    maxLength,
  }).map(utf8);
}

/** Inputs are cut to this size: a little over the largest frame (1 MiB) any peer can send. */
export const MAX_INPUT_BYTES = 1_114_112;

function capped(
  data: fc.Arbitrary<Uint8Array>,
  maxBytes: number,
): fc.Arbitrary<Uint8Array> {
  return data.map((bytes) =>
    bytes.length > maxBytes ? bytes.subarray(0, maxBytes) : bytes
  );
}

/** The input of a target that reads whole byte strings: no cuts. */
export function whole(
  data: fc.Arbitrary<Uint8Array>,
  maxBytes = MAX_INPUT_BYTES,
): fc.Arbitrary<FuzzInput> {
  return capped(data, maxBytes).map((bytes) => ({ data: bytes, cuts: [] }));
}

/** The input of a streaming target: bytes and up to `maxCuts` split points. */
export function streamed(
  data: fc.Arbitrary<Uint8Array>,
  maxCuts = 12,
  maxBytes = MAX_INPUT_BYTES,
): fc.Arbitrary<FuzzInput> {
  return fc.record({
    data: capped(data, maxBytes),
    cuts: fc.oneof(
      fc.array(fc.nat(), { maxLength: maxCuts }),
      // Every byte a read of its own, the hardest split there is.
      fc.constant(Array.from({ length: 64 }, (_, i) => i)),
    ),
  });
}
