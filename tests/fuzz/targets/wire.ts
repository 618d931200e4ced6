/** Fuzz targets of the wire layer: frames, lossless JSON, messages and their signatures. */
import fc from "fast-check";
import {
  canonicalJson,
  decodeMessage,
  encodeMessage,
  FrameDecoder,
  isJsonObject,
  JsonFloat,
  type JsonValue,
  parseJson,
  pythonWireJson,
  verifyMessage,
  verifySyncEntry,
} from "../../../src/wire/mod.ts";
import {
  attempt,
  ensure,
  expectClean,
  FuzzFailure,
  type FuzzTarget,
  pieces,
  sameBytes,
} from "../fuzz_target.ts";
import {
  mutatedBytes,
  randomBytes,
  randomText,
  streamed,
  whole,
} from "../mutate.ts";
import { hostileJson, jsonText } from "../mutate_json.ts";
import { FRAME_SEEDS, MESSAGE_BODIES } from "../seeds.ts";
import { signedMessages } from "../signed_inputs.ts";
import { utf8 } from "../fuzz_target.ts";

/** Length prefixes worth inserting: 0, 1, around the limits, all ones. */
export const LENGTH_TOKENS: readonly Uint8Array[] = [
  0,
  1,
  64,
  65,
  65_536,
  65_537,
  1_048_576,
  1_048_577,
  0xffff_ffff,
].map((n) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
});

/** Frames as a simple reference reads them: bodies, then "error", "pending" or "end". */
export function modelFrames(
  data: Uint8Array,
  min: number,
  max: number,
): { bodies: Uint8Array[]; end: "error" | "pending" | "end"; rest: number } {
  const bodies: Uint8Array[] = [];
  let at = 0;
  for (;;) {
    if (data.length - at < 4) {
      return {
        bodies,
        end: at === data.length ? "end" : "pending",
        rest: data.length - at,
      };
    }
    const length = new DataView(data.buffer, data.byteOffset + at).getUint32(0);
    if (length < min || length > max) return { bodies, end: "error", rest: 0 };
    if (data.length - at - 4 < length) {
      return { bodies, end: "pending", rest: data.length - at };
    }
    bodies.push(data.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
}

/** A stream of whole frames, some bodies from `bodies`, then maybe a mutation of it all. */
export function frameStream(
  seeds: readonly Uint8Array[],
  bodies: readonly Uint8Array[],
): fc.Arbitrary<Uint8Array> {
  const framed = fc.array(fc.constantFrom(...bodies), { maxLength: 4 }).map(
    (list) => {
      const out = new Uint8Array(list.reduce((n, b) => n + 4 + b.length, 0));
      let at = 0;
      for (const b of list) {
        new DataView(out.buffer).setUint32(at, b.length);
        out.set(b, at + 4);
        at += 4 + b.length;
      }
      return out;
    },
  );
  return fc.oneof(
    {
      weight: 3,
      arbitrary: mutatedBytes([...seeds], { tokens: LENGTH_TOKENS }),
    },
    { weight: 2, arbitrary: framed },
    {
      weight: 3,
      arbitrary: framed.chain((f) =>
        mutatedBytes([f.length > 0 ? f : seeds[0]!], { tokens: LENGTH_TOKENS })
      ),
    },
    { weight: 1, arbitrary: randomBytes(256) },
  );
}

const frameDecoder: FuzzTarget = {
  name: "wire.frame-decoder",
  about:
    "FrameDecoder: same bodies and error as a reference reader, whole or split at any point",
  input: () =>
    streamed(
      frameStream(FRAME_SEEDS, [
        ...MESSAGE_BODIES.slice(0, 6),
        new Uint8Array(0),
      ]),
    ),
  open: () => ({
    check({ data, cuts }) {
      for (const max of [1_048_576, 64]) {
        const model = modelFrames(data, 0, max);
        const decoder = new FrameDecoder({ maxFrameBytes: max });
        const bodies: Uint8Array[] = [];
        let failed: unknown = null;
        for (const piece of pieces(data, cuts)) {
          decoder.push(piece);
          try {
            for (const body of decoder) bodies.push(body);
          } catch (error) {
            expectClean(error, [RangeError], "FrameDecoder.next()");
            failed = error;
            break;
          }
        }
        ensure(
          bodies.length === model.bodies.length &&
            bodies.every((b, i) => sameBytes(b, model.bodies[i]!)),
          `FrameDecoder (max ${max}) gave ${bodies.length} bodies, the reference ${model.bodies.length}`,
        );
        ensure(
          (failed !== null) === (model.end === "error"),
          `FrameDecoder (max ${max}) ${
            failed ? "failed" : "did not fail"
          }, the reference ${model.end}`,
        );
        if (failed === null) {
          ensure(
            decoder.pendingBytes === model.rest,
            `FrameDecoder holds ${decoder.pendingBytes} pending bytes, the reference ${model.rest}`,
          );
        } else {
          // The error sticks: every later call throws it again.
          let again = false;
          try {
            decoder.next();
          } catch {
            again = true;
          }
          ensure(again, "FrameDecoder forgot its error");
        }
      }
    },
  }),
};

/** JSON values equal as the standard parser sees them (numbers by value, keys in order). */
function sameAsStandard(ours: JsonValue, std: unknown): boolean {
  if (ours instanceof JsonFloat) return Object.is(ours.value, std);
  if (typeof ours === "bigint") return Number(ours) === std;
  if (typeof ours === "number") return Object.is(ours, std);
  if (Array.isArray(ours)) {
    return Array.isArray(std) && ours.length === std.length &&
      ours.every((x, i) => sameAsStandard(x, std[i]));
  }
  if (isJsonObject(ours)) {
    if (typeof std !== "object" || std === null || Array.isArray(std)) {
      return false;
    }
    const a = Object.keys(ours);
    const b = Object.keys(std);
    return a.length === b.length && a.every((k, i) =>
      k === b[i] &&
      sameAsStandard(ours[k]!, (std as Record<string, unknown>)[k])
    );
  }
  return ours === std;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

const json: FuzzTarget = {
  name: "wire.json",
  about:
    "parseJson: SyntaxError only, agrees with JSON.parse, Python floats round-trip through the writer",
  input: () =>
    whole(fc.oneof(
      {
        weight: 4,
        arbitrary: mutatedBytes([...MESSAGE_BODIES], {
          tokens: [
            "NaN",
            "-Infinity",
            "1e999",
            "-0",
            "1.0",
            '"\\ud800"',
            "\\u",
            "[",
            "{",
            '"__proto__":',
            "9007199254740993",
          ],
        }),
      },
      { weight: 3, arbitrary: hostileJson().map((v) => utf8(jsonText(v))) },
      {
        weight: 2,
        arbitrary: randomText('{}[]":,0123456789.eE+-tfnaulrsINy \\\n'),
      },
      { weight: 1, arbitrary: randomBytes() },
    )),
  open: () => ({
    check({ data }) {
      let textIn: string | null = null;
      try {
        textIn = strictUtf8.decode(data);
      } catch {
        // Invalid UTF-8: parseJson must refuse it below.
      }
      let value: JsonValue;
      try {
        value = parseJson(data);
      } catch (error) {
        expectClean(error, [SyntaxError], "parseJson");
        const detail = (error as Error).message;
        if (textIn === null) return;
        ensure(!/UTF-8/.test(detail), "parseJson refused valid UTF-8");
        if (/nesting deeper/.test(detail)) return;
        // Python's limit on integer digits, which JSON.parse does not have.
        if (/integer of \d+ digits exceeds the limit of 4300/.test(detail)) {
          return;
        }
        let std = true;
        try {
          JSON.parse(textIn);
        } catch {
          std = false;
        }
        ensure(!std, `parseJson refused what JSON.parse takes: ${detail}`);
        return;
      }
      ensure(textIn !== null, "parseJson accepted invalid UTF-8");
      try {
        ensure(
          sameAsStandard(value, JSON.parse(textIn)),
          "parseJson and JSON.parse disagree on the value",
        );
      } catch (error) {
        if (error instanceof FuzzFailure) throw error;
        ensure(
          /NaN|Infinity/.test(textIn),
          "parseJson accepted what JSON.parse refuses",
        );
      }
      // What we read, we write back the same (the wire form and the canonical form).
      const wire = attempt(() => pythonWireJson(value), [], "pythonWireJson")!;
      const again = attempt(
        () => parseJson(wire),
        [],
        "parseJson of our own output",
      )!;
      ensure(
        canonicalJson(again) === canonicalJson(value),
        "parseJson → pythonWireJson → parseJson changed the value",
      );
    },
  }),
};

const message: FuzzTarget = {
  name: "wire.message",
  about:
    "decodeMessage + verifyMessage (+ verifySyncEntry): clean refusals, verified messages re-encode and verify again",
  input: () =>
    whole(fc.oneof(
      { weight: 3, arbitrary: mutatedBytes([...MESSAGE_BODIES]) },
      { weight: 4, arbitrary: signedMessages() },
      { weight: 1, arbitrary: randomBytes() },
    )),
  open: () => ({
    async check({ data }) {
      const decoded = attempt(() => decodeMessage(data), [
        SyntaxError,
        TypeError,
      ], "decodeMessage");
      if (decoded === undefined) return;
      const verdict = await verifyMessage(decoded);
      if (verdict.status !== "ok") return;
      const again = await verifyMessage(
        decodeMessage(encodeMessage(verdict.message)),
      );
      ensure(
        again.status === "ok",
        `a verified ${decoded.type} does not verify after re-encoding`,
      );
      if (verdict.message.type === "SYNC_RESPONSE") {
        for (const entry of verdict.message.skills) {
          await verifySyncEntry(entry);
        }
      }
    },
  }),
};

/** The wire layer's targets. */
export const WIRE_TARGETS: readonly FuzzTarget[] = [
  frameDecoder,
  json,
  message,
];
