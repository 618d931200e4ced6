/** Host-side checks of JSON text coming out of a Worker, which is untrusted. */
import type { JsonObject } from "../wire/mod.ts";

/** UTF-8 length of a string without encoding it. */
export function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c < 0xdc00 && isLowSurrogate(s.charCodeAt(i + 1))) {
      // A surrogate pair is one 4-byte character; a lone surrogate encodes as U+FFFD (3).
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c < 0xe000;
}

function isPlainObject(value: unknown): value is JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return false;
  }
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Parses JSON text that must hold an object of at most `maxBytes`; throws saying why not. */
export function parseJsonObject(
  json: string,
  maxBytes: number,
  what: string,
): JsonObject {
  // A UTF-16 unit is at most 3 UTF-8 bytes: only longer text needs counting.
  if (json.length * 3 > maxBytes) {
    const bytes = utf8Length(json);
    if (bytes > maxBytes) {
      throw new RangeError(
        `Cannot accept ${what}: ${bytes} bytes exceeds maximum ${maxBytes}`,
      );
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new SyntaxError(`Cannot accept ${what}: not valid JSON`, {
      cause: error,
    });
  }
  if (!isPlainObject(value)) {
    throw new TypeError(`Cannot accept ${what}: not a JSON object`);
  }
  return value;
}

/** JSON text of a wire value: `JsonFloat` via its `toJSON`, `bigint` as a (lossy) number. */
export function jsonText(value: JsonObject): string {
  return JSON.stringify(
    value,
    (_key, v) => typeof v === "bigint" ? Number(v) : v,
  );
}
