/** The JSON data model of the wire: Python's int/float distinction kept. */

/**
 * A JSON number that Python holds as a `float` although its value is integral
 * (`1.0`, `3600.0`, `1e16`) or not finite (`NaN`, `Infinity`).
 *
 * Plain JS numbers stand for Python ints when integral and for floats
 * otherwise, so only these floats need a wrapper to serialize as Python does.
 *
 * @example
 * ```ts
 * import { canonicalJson, float } from "./mod.ts";
 * canonicalJson({ timestamp: float(1700000000) }); // '{"timestamp":1700000000.0}'
 * ```
 */
export class JsonFloat {
  /** The numeric value. */
  readonly value: number;

  /** Wraps a number that must serialize as a Python float. */
  constructor(value: number) {
    this.value = value;
  }

  /** The plain number, so `JSON.stringify` and arithmetic coercion see the value. */
  valueOf(): number {
    return this.value;
  }

  /** The plain number for `JSON.stringify`. */
  toJSON(): number {
    return this.value;
  }
}

/** A decoded JSON value: integers beyond 2^53 are `bigint`, integral floats `JsonFloat`. */
export type JsonValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | JsonFloat
  | JsonValue[]
  | JsonObject;

/** A decoded JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/** A number field that Python holds as a float: a plain number or a `JsonFloat`. */
export type JsonNumber = number | JsonFloat;

/** A value for a float field: `JsonFloat` when integral or not finite, else the number itself. */
export function float(n: number): JsonNumber {
  return Number.isInteger(n) || !Number.isFinite(n) ? new JsonFloat(n) : n;
}

/** The number in a JSON value (number, `JsonFloat` or `bigint`); undefined for anything else. */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (value instanceof JsonFloat) return value.value;
  if (typeof value === "bigint") return Number(value);
  return undefined;
}

/** True for a plain JSON object (not an array, not a `JsonFloat`, not null). */
export function isJsonObject(value: unknown): value is JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return false;
  }
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
