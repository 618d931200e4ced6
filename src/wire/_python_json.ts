/** The engine behind canonicalJson and pythonWireJson: Python's json.dumps, byte for byte. */
import { JsonFloat } from "./json_value.ts";
import { MAX_JSON_DEPTH } from "./_json_parser.ts";

/** Python's `repr(float)`: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
export function pythonFloatRepr(n: number): string {
  if (n !== n) return "NaN";
  if (n === Infinity) return "Infinity";
  if (n === -Infinity) return "-Infinity";
  const abs = Math.abs(n);
  if (abs >= 1e-4 && abs < 1e16) {
    // JS and Python agree on fixed notation and digits in this range.
    const s = String(n);
    return Number.isInteger(n) ? s + ".0" : s;
  }
  if (n === 0) return Object.is(n, -0) ? "-0.0" : "0.0";
  // toExponential() without an argument gives the shortest round-trip digits.
  const s = abs.toExponential();
  const e = s.indexOf("e");
  const exp = s.slice(e + 1);
  const sign = exp[0] === "-" ? "-" : "+";
  const digits = exp.slice(1);
  return (n < 0 ? "-" : "") + s.slice(0, e) + "e" + sign +
    (digits.length < 2 ? "0" + digits : digits);
}

const SAFE_STRING_RE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const SHORT_ESCAPES: Record<number, string> = {
  0x22: '\\"',
  0x5c: "\\\\",
  0x0a: "\\n",
  0x0d: "\\r",
  0x09: "\\t",
  0x08: "\\b",
  0x0c: "\\f",
};

/** A JSON string literal as Python writes it with `ensure_ascii=True`. */
export function quotePython(s: string): string {
  if (SAFE_STRING_RE.test(s)) return '"' + s + '"';
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c) continue;
    out += s.slice(start, i);
    // UTF-16 code units are exactly Python's surrogate-pair escapes.
    out += SHORT_ESCAPES[c] ?? "\\u" + c.toString(16).padStart(4, "0");
    start = i + 1;
  }
  return out + s.slice(start) + '"';
}

/** Orders strings by Unicode code point, as Python's `sorted()` does for str. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      // Surrogates (astral characters) sort above U+E000..U+FFFF by code point.
      return (x >= 0xd800 ? (x < 0xe000 ? x + 0x2000 : x - 0x800) : x) -
        (y >= 0xd800 ? (y < 0xe000 ? y + 0x2000 : y - 0x800) : y);
    }
  }
  return a.length - b.length;
}

/** Output shape of the writer. */
export interface PythonJsonFormat {
  /** Sort object keys by code point. */
  sortKeys: boolean;
  /** Between items: "," or ", ". */
  itemSeparator: string;
  /** Between key and value: ":" or ": ". */
  keySeparator: string;
}

function describe(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "object" && value !== null) {
    return (value.constructor as { name?: string } | undefined)?.name ??
      "object";
  }
  return typeof value;
}

// The texts of sealed arrays, by format (see sealJson).
const sealedTexts = new WeakMap<object, Map<PythonJsonFormat, string>>();

/**
 * Freezes an array of JSON values, deeply, and lets the writers keep its text in each
 * format: a listing sent in many messages (a JOIN_RESPONSE's peers) is written once.
 */
export function sealJson<T extends unknown[]>(value: T): Readonly<T> {
  deepFreeze(value);
  sealedTexts.set(value, new Map());
  return value;
}

function deepFreeze(value: unknown): void {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) {
    return;
  }
  Object.freeze(value);
  for (const v of Object.values(value)) deepFreeze(v);
}

/** Serializes a JSON value; throws `TypeError` on anything JSON cannot hold. */
export function writePythonJson(
  value: unknown,
  format: PythonJsonFormat,
): string {
  return write(value, format, 0);
}

function write(
  value: unknown,
  format: PythonJsonFormat,
  depth: number,
): string {
  switch (typeof value) {
    case "string":
      return quotePython(value);
    case "number":
      if (Number.isInteger(value)) {
        return Number.isSafeInteger(value)
          ? String(value)
          : BigInt(value).toString();
      }
      return pythonFloatRepr(value);
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return value.toString();
    case "object":
      if (value === null) return "null";
      if (value instanceof JsonFloat) return pythonFloatRepr(value.value);
      if (depth >= MAX_JSON_DEPTH) {
        throw new RangeError(
          `Cannot serialize JSON: nesting deeper than ${MAX_JSON_DEPTH} levels`,
        );
      }
      if (Array.isArray(value)) {
        const texts = sealedTexts.get(value);
        if (texts === undefined) return writeArray(value, format, depth);
        let text = texts.get(format);
        if (text === undefined) {
          text = writeArray(value, format, depth);
          texts.set(format, text);
        }
        return text;
      }
      return writeObject(value, format, depth);
  }
  throw new TypeError(
    `Cannot serialize JSON: unsupported value of type "${describe(value)}"`,
  );
}

function writeArray(
  value: unknown[],
  format: PythonJsonFormat,
  depth: number,
): string {
  if (value.length === 0) return "[]";
  let out = "[";
  for (let i = 0; i < value.length; i++) {
    if (i > 0) out += format.itemSeparator;
    out += write(value[i], format, depth + 1);
  }
  return out + "]";
}

function writeObject(
  value: object,
  format: PythonJsonFormat,
  depth: number,
): string {
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw new TypeError(
      `Cannot serialize JSON: unsupported value of type "${describe(value)}"`,
    );
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 0) return "{}";
  if (format.sortKeys) keys.sort(compareCodePoints);
  let out = "{";
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (i > 0) out += format.itemSeparator;
    out += quotePython(key) + format.keySeparator +
      write(obj[key], format, depth + 1);
  }
  return out + "}";
}
