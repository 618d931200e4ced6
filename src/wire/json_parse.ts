/** Lossless JSON decoding: Python's int/float distinction survives. */
import type { JsonValue } from "./json_value.ts";
import { parsePythonJson } from "./_json_parser.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Parses JSON text or UTF-8 bytes into the wire data model: integer lexemes
 * become numbers (`bigint` beyond 2^53), integral or non-finite float lexemes
 * (`1.0`, `1e16`, bare `NaN`, `Infinity`, `-Infinity`) become `JsonFloat`,
 * other floats plain numbers. Throws `SyntaxError` on invalid input, invalid
 * UTF-8, a byte order mark, or nesting deeper than 1000 levels.
 *
 * @example
 * ```ts
 * import { JsonFloat, parseJson } from "./mod.ts";
 * const v = parseJson('{"a": 1, "b": 1.0}') as { a: number; b: JsonFloat };
 * v.b instanceof JsonFloat; // true
 * ```
 */
export function parseJson(input: string | Uint8Array): JsonValue {
  if (typeof input === "string") return parsePythonJson(input);
  let text: string;
  try {
    text = utf8.decode(input);
  } catch (cause) {
    throw new SyntaxError("Cannot parse JSON: invalid UTF-8", { cause });
  }
  // A hand-written parser: `JSON.parse` with a source-text reviver measured
  // 2.3x slower (wire_bench.ts) and cannot take Python's bare NaN/Infinity.
  return parsePythonJson(text);
}
