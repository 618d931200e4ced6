/** Small typed readers that turn TOML values into config values or throw ConfigError. */
import { ConfigError } from "./errors.ts";

/** A node id: 64 lowercase hex characters. */
export const NODE_ID_RE = /^[0-9a-f]{64}$/;

/** Context of one table being read. */
export class TableReader {
  readonly #file: string;
  readonly #prefix: string;
  readonly #table: Record<string, unknown>;
  readonly #known: readonly string[];

  constructor(
    file: string,
    prefix: string,
    table: unknown,
    known: readonly string[],
  ) {
    this.#file = file;
    this.#prefix = prefix;
    if (table === undefined) table = {};
    if (table === null || typeof table !== "object" || Array.isArray(table)) {
      throw new ConfigError(file, prefix, `must be a table ([${prefix}])`);
    }
    this.#table = table as Record<string, unknown>;
    this.#known = known;
    for (const key of Object.keys(this.#table)) {
      if (!known.includes(key)) {
        throw new ConfigError(
          file,
          this.key(key),
          `unknown key; known keys are ${known.join(", ")}`,
        );
      }
    }
  }

  /** Dotted name of a key of this table. */
  key(name: string): string {
    return this.#prefix ? `${this.#prefix}.${name}` : name;
  }

  /** Throws a ConfigError for a key of this table. */
  fail(name: string, problem: string): never {
    throw new ConfigError(this.#file, this.key(name), problem);
  }

  /** The raw value, or undefined. */
  raw(name: string): unknown {
    return this.#table[name];
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const v = this.#table[name];
    if (v === undefined) return fallback;
    const n = typeof v === "bigint" ? Number(v) : v;
    if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
      this.fail(
        name,
        `must be an integer from ${min} to ${max} (got ${show(v)})`,
      );
    }
    return n;
  }

  number(name: string, fallback: number, min: number, max: number): number {
    const v = this.#table[name];
    if (v === undefined) return fallback;
    const n = typeof v === "bigint" ? Number(v) : v;
    if (typeof n !== "number" || !Number.isFinite(n) || n < min || n > max) {
      this.fail(
        name,
        `must be a number from ${min} to ${max} (got ${show(v)})`,
      );
    }
    return n;
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.#table[name];
    if (v === undefined) return fallback;
    if (typeof v !== "boolean") {
      this.fail(name, `must be true or false (got ${show(v)})`);
    }
    return v;
  }

  string(
    name: string,
    fallback: string,
    options: { min?: number; max?: number } = {},
  ): string {
    const v = this.#table[name];
    if (v === undefined) return fallback;
    if (typeof v !== "string") {
      this.fail(name, `must be a string (got ${show(v)})`);
    }
    const min = options.min ?? 0;
    const max = options.max ?? Infinity;
    if (v.length < min || v.length > max) {
      this.fail(
        name,
        `must be ${min} to ${max} characters long (got ${v.length})`,
      );
    }
    return v;
  }

  stringList(name: string, fallback: string[]): string[] {
    const v = this.#table[name];
    if (v === undefined) return fallback;
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
      this.fail(name, `must be a list of strings (got ${show(v)})`);
    }
    return v as string[];
  }

  table(name: string): Record<string, unknown> {
    const v = this.#table[name];
    if (v === undefined) return {};
    if (
      v === null || typeof v !== "object" || Array.isArray(v) ||
      v instanceof Date
    ) {
      this.fail(name, `must be a table (got ${show(v)})`);
    }
    return v as Record<string, unknown>;
  }
}

/** Short quoted rendering of a value for error messages. */
export function show(v: unknown): string {
  if (typeof v === "string") {
    return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v);
  }
  if (typeof v === "bigint") return v.toString();
  if (Array.isArray(v)) return "a list";
  if (v instanceof Date) return "a date";
  if (v !== null && typeof v === "object") return "a table";
  return String(v);
}
