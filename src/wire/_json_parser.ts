/** A strict JSON parser that also takes Python's bare NaN, Infinity and -Infinity. */
import { JsonFloat, type JsonObject, type JsonValue } from "./json_value.ts";

/** Deepest nesting accepted; Python's decoder gives up near its recursion limit of 1000. */
export const MAX_JSON_DEPTH = 1000;

/**
 * Most digits of an integer: Python (3.11 and later) refuses to convert longer ones
 * (`sys.int_max_str_digits`), so the original can neither read nor sign them, and
 * converting them costs time quadratic in their length.
 */
export const MAX_INTEGER_DIGITS = 4300;

const HEX4_RE = /^[0-9a-fA-F]{4}$/;

/** Sets a key without invoking the `__proto__` setter, as `JSON.parse` does. */
function setKey(obj: JsonObject, key: string, value: JsonValue): void {
  if (key === "__proto__") {
    Object.defineProperty(obj, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  } else {
    obj[key] = value;
  }
}

const ESCAPES: Record<string, string> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

/** Parses JSON text, Python's bare NaN/Infinity/-Infinity included; throws `SyntaxError`. */
export function parsePythonJson(text: string): JsonValue {
  return new Parser(text).parse();
}

class Parser {
  #s: string;
  #i = 0;

  constructor(text: string) {
    this.#s = text;
  }

  parse(): JsonValue {
    const value = this.#value(0);
    this.#skipWhitespace();
    if (this.#i < this.#s.length) this.#fail("unexpected data after the value");
    return value;
  }

  #fail(detail: string): never {
    throw new SyntaxError(
      `Cannot parse JSON: ${detail} at position ${this.#i}`,
    );
  }

  #skipWhitespace(): void {
    const s = this.#s;
    let i = this.#i;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    }
    this.#i = i;
  }

  #literal(word: string, value: JsonValue): JsonValue {
    if (!this.#s.startsWith(word, this.#i)) this.#fail("unexpected character");
    this.#i += word.length;
    return value;
  }

  #value(depth: number): JsonValue {
    this.#skipWhitespace();
    const c = this.#s.charCodeAt(this.#i);
    switch (c) {
      case 0x7b: // {
        return this.#object(depth + 1);
      case 0x5b: // [
        return this.#array(depth + 1);
      case 0x22: // "
        return this.#string();
      case 0x74:
        return this.#literal("true", true);
      case 0x66:
        return this.#literal("false", false);
      case 0x6e:
        return this.#literal("null", null);
      case 0x4e:
        return this.#literal("NaN", new JsonFloat(NaN));
      case 0x49:
        return this.#literal("Infinity", new JsonFloat(Infinity));
      default:
        if (c === 0x2d && this.#s.startsWith("-Infinity", this.#i)) {
          this.#i += 9;
          return new JsonFloat(-Infinity);
        }
        return this.#number();
    }
  }

  #number(): JsonValue {
    const s = this.#s;
    const start = this.#i;
    let i = start;
    let c = s.charCodeAt(i);
    if (c === 0x2d) c = s.charCodeAt(++i);
    if (c === 0x30) {
      c = s.charCodeAt(++i);
    } else if (c >= 0x31 && c <= 0x39) {
      do c = s.charCodeAt(++i); while (c >= 0x30 && c <= 0x39);
    } else {
      this.#fail(start < s.length ? "unexpected character" : "unexpected end");
    }
    const integerEnd = i;
    // A fraction or exponent without digits is not part of the number (the next token fails).
    if (c === 0x2e) {
      c = s.charCodeAt(i + 1);
      if (c >= 0x30 && c <= 0x39) {
        i += 2;
        while ((c = s.charCodeAt(i)) >= 0x30 && c <= 0x39) i++;
      } else {
        c = 0x2e;
      }
    }
    if (c === 0x65 || c === 0x45) {
      let j = i + 1;
      let d = s.charCodeAt(j);
      if (d === 0x2b || d === 0x2d) d = s.charCodeAt(++j);
      if (d >= 0x30 && d <= 0x39) {
        do d = s.charCodeAt(++j); while (d >= 0x30 && d <= 0x39);
        i = j;
      }
    }
    this.#i = i;
    if (i === integerEnd) return this.#integer(start, i);
    const value = Number(s.slice(start, i));
    return Number.isInteger(value) || !Number.isFinite(value)
      ? new JsonFloat(value)
      : value;
  }

  /** The integer lexeme `start`..`end`: a number, or a bigint past 2^53. */
  #integer(start: number, end: number): number | bigint {
    const s = this.#s;
    const negative = s.charCodeAt(start) === 0x2d;
    const digits = end - start - (negative ? 1 : 0);
    if (digits <= 15) {
      // Exact in a double: no string made.
      let value = 0;
      for (let k = negative ? start + 1 : start; k < end; k++) {
        value = value * 10 + (s.charCodeAt(k) - 0x30);
      }
      return negative ? -value : value;
    }
    if (digits > MAX_INTEGER_DIGITS) {
      this.#i = start;
      this.#fail(
        `integer of ${digits} digits exceeds the limit of ${MAX_INTEGER_DIGITS}`,
      );
    }
    const source = s.slice(start, end);
    const value = Number(source);
    return Number.isSafeInteger(value) ? value : BigInt(source);
  }

  #enter(depth: number): void {
    if (depth > MAX_JSON_DEPTH) {
      this.#fail(`nesting deeper than ${MAX_JSON_DEPTH} levels`);
    }
    this.#i++;
    this.#skipWhitespace();
  }

  #array(depth: number): JsonValue[] {
    this.#enter(depth);
    const out: JsonValue[] = [];
    if (this.#s.charCodeAt(this.#i) === 0x5d) {
      this.#i++;
      return out;
    }
    for (;;) {
      out.push(this.#value(depth));
      this.#skipWhitespace();
      const c = this.#s.charCodeAt(this.#i++);
      if (c === 0x5d) return out;
      if (c !== 0x2c) this.#fail("expected ',' or ']'");
    }
  }

  #object(depth: number): JsonObject {
    this.#enter(depth);
    const out: JsonObject = {};
    if (this.#s.charCodeAt(this.#i) === 0x7d) {
      this.#i++;
      return out;
    }
    for (;;) {
      this.#skipWhitespace();
      if (this.#s.charCodeAt(this.#i) !== 0x22) this.#fail("expected a key");
      const key = this.#string();
      this.#skipWhitespace();
      if (this.#s.charCodeAt(this.#i++) !== 0x3a) this.#fail("expected ':'");
      setKey(out, key, this.#value(depth));
      this.#skipWhitespace();
      const c = this.#s.charCodeAt(this.#i++);
      if (c === 0x7d) return out;
      if (c !== 0x2c) this.#fail("expected ',' or '}'");
    }
  }

  #string(): string {
    const s = this.#s;
    const first = this.#i + 1;
    let i = first;
    // Plain characters up to the closing quote: one slice, nothing else made.
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        this.#i = i + 1;
        return s.slice(first, i);
      }
      // A backslash, a control character, or the end of the text (NaN).
      if (c === 0x5c || !(c >= 0x20)) break;
      i++;
    }
    if (s.charCodeAt(i) === 0x5c) {
      // Escapes: the built-in parser decodes the whole literal, if it is valid.
      const end = closingQuote(s, i);
      if (end !== -1) {
        try {
          const value = JSON.parse(s.slice(first - 1, end + 1)) as string;
          this.#i = end + 1;
          return value;
        } catch {
          // Invalid: the loop below finds where.
        }
      }
    }
    return this.#escapedString(first);
  }

  /** The string from `first`, escapes decoded one by one; throws where it is invalid. */
  #escapedString(first: number): string {
    const s = this.#s;
    let i = first;
    let out = "";
    let start = first;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        this.#i = i + 1;
        return out + s.slice(start, i);
      }
      if (c !== c) {
        this.#i = i;
        this.#fail("unterminated string");
      }
      if (c < 0x20) {
        this.#i = i;
        this.#fail("control character in string");
      }
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += s.slice(start, i);
      const e = s[i + 1] ?? "";
      if (e === "u") {
        const hex = s.slice(i + 2, i + 6);
        if (!HEX4_RE.test(hex)) {
          this.#i = i;
          this.#fail("invalid \\u escape");
        }
        out += String.fromCharCode(parseInt(hex, 16));
        i += 6;
      } else {
        const ch = ESCAPES[e];
        if (ch === undefined) {
          this.#i = i;
          this.#fail("invalid escape");
        }
        out += ch;
        i += 2;
      }
      start = i;
    }
  }
}

/** Index of the quote closing a string whose backslash is at `from`; -1 when none. */
function closingQuote(s: string, from: number): number {
  let j = from;
  for (;;) {
    j = s.indexOf('"', j);
    if (j === -1) return -1;
    // Escaped when an odd number of backslashes precede it.
    let k = j - 1;
    while (s.charCodeAt(k) === 0x5c) k--;
    if (((j - 1 - k) & 1) === 0) return j;
    j++;
  }
}
