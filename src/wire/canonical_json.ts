/** Python-compatible JSON text: the canonical signing form and the wire form. */
import { writePythonJson } from "./_python_json.ts";

export { sealJson } from "./_python_json.ts";

const CANONICAL = { sortKeys: true, itemSeparator: ",", keySeparator: ":" };
const WIRE = { sortKeys: false, itemSeparator: ", ", keySeparator: ": " };

/**
 * Serializes like Python's `json.dumps(v, sort_keys=True, separators=(",", ":"))`:
 * keys sorted by code point, ASCII only, floats as Python's `repr`.
 * Throws `TypeError` on values JSON cannot hold, `RangeError` past 1000 levels.
 *
 * @example
 * ```ts
 * import { canonicalJson, float } from "./mod.ts";
 * canonicalJson({ b: float(1), a: "é" }); // '{"a":"\\u00e9","b":1.0}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  return writePythonJson(value, CANONICAL);
}

/**
 * Serializes like Python's default `json.dumps(v)`: insertion order,
 * separators `", "` and `": "`, ASCII only. The original node's frames use it.
 *
 * @example
 * ```ts
 * import { pythonWireJson } from "./mod.ts";
 * pythonWireJson({ type: "QUERY", value: "echo" }); // '{"type": "QUERY", "value": "echo"}'
 * ```
 */
export function pythonWireJson(value: unknown): string {
  return writePythonJson(value, WIRE);
}
