/** Reads one top-level string field of a JSON message without parsing the message. */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
/** Longest value returned: message types and task ids are short. */
const MAX_VALUE_BYTES = 256;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * The value of the top-level key `key` of a JSON object in UTF-8 bytes, when it is a
 * plain string (printable ASCII, no escapes, at most 256 bytes); otherwise null. It
 * stops at the first occurrence of the key and never builds the rest: a node uses it to
 * learn a large frame's message type (and so its size limit) before paying for a parse.
 * Whatever it returns, the message must still be parsed and verified before it is
 * trusted; the scan costs about a millisecond per MiB and allocates nothing but the
 * value.
 *
 * @example
 * ```ts
 * peekStringField(new TextEncoder().encode('{"type": "QUERY", "value": "x"}'), "type"); // "QUERY"
 * ```
 */
export function peekStringField(body: Uint8Array, key: string): string | null {
  const n = body.length;
  let i = skipSpace(body, 0);
  if (body[i] !== OPEN_BRACE) return null;
  i = skipSpace(body, i + 1);
  if (body[i] === CLOSE_BRACE) return null;
  for (;;) {
    if (body[i] !== QUOTE) return null;
    const keyStart = i + 1;
    i = stringEnd(body, keyStart);
    if (i < 0) return null;
    const wanted = matches(body, keyStart, i, key);
    i = skipSpace(body, i + 1);
    if (body[i] !== COLON) return null;
    i = skipSpace(body, i + 1);
    if (i >= n) return null;
    if (wanted) return plainString(body, i);
    i = valueEnd(body, i);
    if (i < 0) return null;
    i = skipSpace(body, i);
    if (body[i] !== COMMA) return null;
    i = skipSpace(body, i + 1);
  }
}

function skipSpace(body: Uint8Array, i: number): number {
  while (i < body.length && isSpace(body[i]!)) i++;
  return i;
}

/** Index of the quote closing a string whose content starts at `i`; -1 when none. */
function stringEnd(body: Uint8Array, i: number): number {
  const n = body.length;
  while (i < n) {
    const c = body[i]!;
    if (c === QUOTE) return i;
    i += c === BACKSLASH ? 2 : 1;
  }
  return -1;
}

function matches(
  body: Uint8Array,
  start: number,
  end: number,
  key: string,
): boolean {
  if (end - start !== key.length) return false;
  for (let k = 0; k < key.length; k++) {
    if (body[start + k] !== key.charCodeAt(k)) return false;
  }
  return true;
}

/** The string value at `i` if it is plain printable ASCII, else null. */
function plainString(body: Uint8Array, i: number): string | null {
  if (body[i] !== QUOTE) return null;
  const start = i + 1;
  let j = start;
  while (j < body.length && j - start <= MAX_VALUE_BYTES) {
    const c = body[j]!;
    if (c === QUOTE) {
      return String.fromCharCode(...body.subarray(start, j));
    }
    if (c === BACKSLASH || c < 0x20 || c > 0x7e) return null;
    j++;
  }
  return null;
}

/** Index just past the value at `i` (a string, object, array or scalar); -1 when cut short. */
function valueEnd(body: Uint8Array, i: number): number {
  const n = body.length;
  const c = body[i]!;
  if (c === QUOTE) {
    const end = stringEnd(body, i + 1);
    return end < 0 ? -1 : end + 1;
  }
  if (c === OPEN_BRACE || c === OPEN_BRACKET) {
    let depth = 0;
    while (i < n) {
      const d = body[i]!;
      if (d === QUOTE) {
        i = stringEnd(body, i + 1);
        if (i < 0) return -1;
      } else if (d === OPEN_BRACE || d === OPEN_BRACKET) {
        depth++;
      } else if (d === CLOSE_BRACE || d === CLOSE_BRACKET) {
        if (--depth === 0) return i + 1;
      }
      i++;
    }
    return -1;
  }
  // A number, true, false, null (or junk the parser will refuse): up to a delimiter.
  while (i < n) {
    const d = body[i]!;
    if (d === COMMA || d === CLOSE_BRACE || isSpace(d)) return i;
    i++;
  }
  return -1;
}
