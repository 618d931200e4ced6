/** Skill sheets: the signed description of a skill, built from config or validated when received. */
import {
  canonicalJson,
  float,
  isJsonObject,
  JsonFloat,
  toNumber,
} from "../wire/mod.ts";
import type { JsonObject, JsonValue } from "../wire/mod.ts";

/** Largest serialized sheet in bytes. */
export const MAX_SHEET_BYTES = 4096;
/** Default price; omitted from the serialized sheet. */
export const DEFAULT_PRICE = 1.0;
/** Default max_input_size; omitted from the serialized sheet. */
export const DEFAULT_MAX_INPUT_SIZE = 65_536;

const NAME_RE = /^[a-z0-9-]+$/;
const TAG_RE = /^[a-z0-9-]+$/;
const VERSION_RE = /^\d+\.\d+\.\d+$/;

/** What a sheet is built from (the skill's config section). */
export interface SheetSource {
  /** Skill name; lowercased in the sheet. */
  name: string;
  /** Semantic version, e.g. "1.2.3". */
  version: string;
  /** What the skill does. */
  description: string;
  /** Tags queries can match; lowercased in the sheet. */
  tags: readonly string[];
  /** Input fields and their types. */
  inputSchema: Record<string, unknown>;
  /** Output fields and their types. */
  outputSchema: Record<string, unknown>;
  /** Optional `uri` carried in the sheet; omitted when empty or null. */
  uri?: string | null;
  /** Credits per task; omitted from the sheet at 1.0. */
  price: number;
  /** Largest input in bytes; omitted from the sheet at 65536. */
  maxInputSize: number;
}

/**
 * Builds the sheet exactly as the original serializes it: keys in its order, `price` as a
 * float and omitted at 1.0, `max_input_size` omitted at 65536.
 */
export function buildSheet(source: SheetSource): JsonObject {
  const sheet: JsonObject = {
    name: source.name.trim().toLowerCase(),
    version: source.version,
    description: source.description,
    tags: source.tags.map((t) => t.trim().toLowerCase()),
    input_schema: source.inputSchema as JsonObject,
    output_schema: source.outputSchema as JsonObject,
  };
  if (source.uri) sheet.uri = source.uri;
  if (source.price !== DEFAULT_PRICE) sheet.price = float(source.price);
  if (source.maxInputSize !== DEFAULT_MAX_INPUT_SIZE) {
    sheet.max_input_size = source.maxInputSize;
  }
  const problem = validateSheet(sheet);
  if (problem) {
    throw new RangeError(
      `Cannot build skill sheet "${source.name}": ${problem}`,
    );
  }
  return sheet;
}

/** Why a received sheet is invalid (the ACK error_detail), or null when it is valid. */
export function validateSheet(sheet: unknown): string | null {
  if (!isJsonObject(sheet)) return "Skill sheet must be an object";
  const name = typeof sheet.name === "string"
    ? sheet.name.trim().toLowerCase()
    : "";
  if (name.length < 1 || name.length > 64) {
    return "Skill name must be 1-64 characters";
  }
  if (!NAME_RE.test(name)) {
    return "Skill name must contain only lowercase alphanumeric characters and hyphens";
  }
  if (typeof sheet.version !== "string" || !VERSION_RE.test(sheet.version)) {
    return "Skill version must be semantic (major.minor.patch)";
  }
  if (
    typeof sheet.description !== "string" || sheet.description.length < 1 ||
    sheet.description.length > 1024
  ) {
    return "Skill description must be 1-1024 characters";
  }
  if (
    !Array.isArray(sheet.tags) || sheet.tags.length < 1 ||
    sheet.tags.length > 10
  ) {
    return "Skill must have 1-10 tags";
  }
  for (const tag of sheet.tags) {
    const t = typeof tag === "string" ? tag.trim().toLowerCase() : "";
    if (t.length < 1 || t.length > 32 || !TAG_RE.test(t)) {
      return "Tags must be 1-32 lowercase alphanumeric characters or hyphens";
    }
  }
  for (const key of ["input_schema", "output_schema"] as const) {
    const schema = sheet[key];
    if (!isJsonObject(schema)) return `${key} must be an object`;
    for (const [k, v] of Object.entries(schema)) {
      const ok = k === "_required"
        ? Array.isArray(v) && v.every((x) => typeof x === "string")
        : typeof v === "string";
      if (!ok) return `${key} must map field names to type names`;
    }
  }
  if (sheet.price !== undefined) {
    const price = toNumber(sheet.price);
    if (
      price === undefined || !Number.isFinite(price) || Math.abs(price) > 1000
    ) {
      return "Price must be a finite number with absolute value at most 1000";
    }
  }
  if (sheet.max_input_size !== undefined) {
    const size = sheet.max_input_size;
    if (
      typeof size !== "number" || !Number.isInteger(size) || size < 1 ||
      size > 10_485_760
    ) {
      return "max_input_size must be an integer from 1 to 10485760";
    }
  }
  if (new TextEncoder().encode(canonicalJson(sheet)).length > MAX_SHEET_BYTES) {
    return `Skill sheet exceeds ${MAX_SHEET_BYTES} bytes`;
  }
  return null;
}

/** The sheet's normalized name. */
export function sheetName(sheet: JsonObject): string {
  return typeof sheet.name === "string" ? sheet.name.trim().toLowerCase() : "";
}

/** The sheet's lowercased tags. */
export function sheetTags(sheet: JsonObject): string[] {
  return Array.isArray(sheet.tags)
    ? sheet.tags.filter((t): t is string => typeof t === "string").map((t) =>
      t.trim().toLowerCase()
    )
    : [];
}

/** The sheet's price (default 1.0). */
export function sheetPrice(sheet: JsonObject): number {
  return toNumber(sheet.price) ?? DEFAULT_PRICE;
}

/** The sheet's max_input_size (default 65536). */
export function sheetMaxInputSize(sheet: JsonObject): number {
  return toNumber(sheet.max_input_size) ?? DEFAULT_MAX_INPUT_SIZE;
}

/** Keys the input must carry: `_required` if present, else every schema key. */
export function requiredInputs(sheet: JsonObject): string[] {
  const schema = sheet.input_schema;
  if (!isJsonObject(schema)) return [];
  const required = schema._required;
  if (Array.isArray(required)) {
    return required.filter((k): k is string => typeof k === "string");
  }
  return Object.keys(schema).filter((k) => k !== "_required");
}

/** Copies a sheet without `_`-prefixed keys (internals some nodes leak). */
export function stripInternal(value: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) {
    if (!k.startsWith("_")) out[k] = v;
  }
  return out;
}

/** Plain-JSON view of a lossless value (for printing). */
export function plainJson(value: JsonValue): unknown {
  if (value instanceof JsonFloat) return value.value;
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) return value.map(plainJson);
  if (isJsonObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, plainJson(v)]),
    );
  }
  return value;
}
