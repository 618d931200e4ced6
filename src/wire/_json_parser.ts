/** A strict JSON parser that also takes Python's bare NaN, Infinity and -Infinity. */
import { JsonFloat, type JsonObject, type JsonValue } from "./json_value.ts";

/** Deepest nesting accepted; Python's decoder gives up near its recursion limit of 1000. */
export const MAX_JSON_DEPTH = 1000;

const NUMBER_RE = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
const FLOAT_CHARS_RE = /[.eE]/;
// deno-lint-ignore no-control-regex -- control characters end a plain run (JSON forbids them raw)
const PLAIN_RUN_RE = /[^"\\\x00-\x1f]*/y;
const HEX4_RE = /^[0-9a-fA-F]{4}$/;

/** Turns a number lexeme and its value into a JSON value of the wire model. */
function numberOf(value: number, source: string): JsonValue {
  if (FLOAT_CHARS_RE.test(source)) {
    return Number.isInteger(value) || !Number.isFinite(value)
      ? new JsonFloat(value)
      : value;
  }
  return Number.isSafeInteger(value) ? value : BigInt(source);
}

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
    NUMBER_RE.lastIndex = this.#i;
    const m = NUMBER_RE.exec(this.#s);
    if (m === null) {
      this.#fail(
        this.#i < this.#s.length ? "unexpected character" : "unexpected end",
      );
    }
    this.#i = NUMBER_RE.lastIndex;
    return numberOf(Number(m[0]), m[0]);
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
    // Skip the run without quotes, escapes or control characters in one regex step.
    PLAIN_RUN_RE.lastIndex = first;
    PLAIN_RUN_RE.test(s);
    let i = PLAIN_RUN_RE.lastIndex;
    if (s.charCodeAt(i) === 0x22) {
      this.#i = i + 1;
      return s.slice(first, i);
    }
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
