/** Compact JSON as Go's encoding/json writes it: map keys in byte order, HTML characters escaped. */

/** A value the relay puts into discovery replies. */
export type JsonValue = string | number | JsonValue[] | {
  [key: string]: JsonValue;
};

const GO_ESCAPES = /[<>&\u2028\u2029]/g;

/** Orders strings by code point, which is the byte order of their UTF-8 encodings. */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // UTF-16 order differs from code point order only between surrogates and U+E000–U+FFFF.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

function quote(text: string): string {
  return JSON.stringify(text).replace(
    GO_ESCAPES,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Serializes `value` compactly with object keys sorted by code point. */
export function goJson(value: JsonValue): string {
  if (typeof value === "string") return quote(value);
  if (typeof value === "number") return String(value);
  if (Array.isArray(value)) return `[${value.map(goJson).join(",")}]`;
  const keys = Object.keys(value).sort(compareCodePoints);
  return `{${keys.map((k) => `${quote(k)}:${goJson(value[k]!)}`).join(",")}}`;
}
