/** Fuzz target of the skills layer: JSON text a sandboxed skill's Worker hands back. */
import fc from "fast-check";
// The host-side check is private to the skills layer; the fuzz target reads it like a unit test.
import {
  parseJsonObject,
  utf8Length,
} from "../../../src/skills/_json_check.ts";
import {
  attempt,
  ensure,
  type FuzzTarget,
  text,
  utf8,
} from "../fuzz_target.ts";
import { mutatedBytes, randomBytes, whole } from "../mutate.ts";
import { hostileJson, jsonText } from "../mutate_json.ts";
import { MESSAGE_BODIES } from "../seeds.ts";

/** The bytes read as UTF-16 code units: a Worker's text arrives as a string, lone surrogates and all. */
function utf16(data: Uint8Array): string {
  let out = "";
  for (let i = 0; i + 1 < data.length; i += 2) {
    out += String.fromCharCode(data[i]! | (data[i + 1]! << 8));
  }
  return out;
}

const jsonCheck: FuzzTarget = {
  name: "skills.json-check",
  about:
    "parseJsonObject on a Worker's output: RangeError/SyntaxError/TypeError only; utf8Length is the UTF-8 length",
  input: () =>
    whole(fc.oneof(
      { weight: 3, arbitrary: mutatedBytes([...MESSAGE_BODIES.slice(0, 8)]) },
      { weight: 2, arbitrary: hostileJson().map((v) => utf8(jsonText(v))) },
      {
        weight: 3,
        arbitrary: fc.string({ unit: "binary", maxLength: 64 }).map((s) =>
          utf8(JSON.stringify({ s }))
        ),
      },
      { weight: 1, arbitrary: randomBytes() },
    )),
  open: () => ({
    check({ data }) {
      for (const s of [text(data), utf16(data)]) {
        ensure(
          utf8Length(s) === utf8(s).length,
          `utf8Length says ${utf8Length(s)} bytes, the encoder ${
            utf8(s).length
          }`,
        );
        for (const max of [16, 1 << 20]) {
          const value = attempt(() => parseJsonObject(s, max, "output"), [
            RangeError,
            SyntaxError,
            TypeError,
          ], "parseJsonObject");
          if (value !== undefined) {
            ensure(
              utf8(s).length <= max,
              `parseJsonObject accepted ${
                utf8(s).length
              } bytes over its ${max}-byte limit`,
            );
          }
        }
      }
    },
  }),
};

/** The skills layer's targets. */
export const SKILLS_TARGETS: readonly FuzzTarget[] = [jsonCheck];
