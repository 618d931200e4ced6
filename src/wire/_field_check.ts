/** Checks a JSON value against a field kind. */
import { isJsonObject, JsonFloat } from "./json_value.ts";
import type { FieldKind } from "./message_fields.ts";

/** True when `value` is a valid JSON value of `kind`. */
export function matchesKind(kind: FieldKind, value: unknown): boolean {
  switch (kind) {
    case "string":
      return typeof value === "string";
    case "nullable-string":
      return value === null || typeof value === "string";
    case "int":
      return Number.isSafeInteger(value);
    case "float":
      return typeof value === "number" || value instanceof JsonFloat;
    case "bool":
      return typeof value === "boolean";
    case "array":
      return Array.isArray(value);
    case "object":
      return isJsonObject(value);
  }
}

/** A noun phrase for error messages: "an int", "a string or null". */
export function describeKind(kind: FieldKind): string {
  switch (kind) {
    case "nullable-string":
      return "a string or null";
    case "int":
      return "an int";
    case "array":
      return "an array";
    case "object":
      return "an object";
    default:
      return `a ${kind}`;
  }
}
