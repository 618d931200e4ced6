/** Newline-delimited text from a child's output, however its writes are split into chunks. */

const LF = 0x0a;
const CR = 0x0d;

/** What one chunk completed. */
export interface SplitLines {
  /** The complete lines, without their "\n" (and a "\r" before it). */
  lines: string[];
  /** How many lines over the limit were dropped (each counted when its end arrives). */
  dropped: number;
}

/**
 * Splits a byte stream into lines of at most `maxLineBytes` bytes. A longer line is dropped
 * whole, up to its newline, so nothing of it is read as a line of its own; the result is the
 * same however the stream is chunked. Each byte is looked at once (no rescans of a long line).
 * Invalid UTF-8 becomes U+FFFD. A last line without a newline is not a line.
 *
 * @example
 * ```ts
 * const splitter = new LineSplitter(1024);
 * splitter.push(new TextEncoder().encode('{"a":1}\n{"b"')).lines; // ['{"a":1}']
 * splitter.push(new TextEncoder().encode(":2}\n")).lines; // ['{"b":2}']
 * ```
 */
export class LineSplitter {
  #max: number;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #dropping = false;
  #decoder = new TextDecoder();

  /** Takes the longest line accepted, in bytes (without its newline). */
  constructor(maxLineBytes: number) {
    this.#max = maxLineBytes;
  }

  /** Feeds a chunk; returns the lines it completed. */
  push(chunk: Uint8Array): SplitLines {
    const out: SplitLines = { lines: [], dropped: 0 };
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(LF, start);
      if (newline < 0) {
        this.#keep(chunk.subarray(start));
        return out;
      }
      this.#keep(chunk.subarray(start, newline));
      if (this.#dropping) out.dropped++;
      else out.lines.push(this.#takeLine());
      this.#pending = [];
      this.#pendingBytes = 0;
      this.#dropping = false;
      start = newline + 1;
    }
  }

  #keep(part: Uint8Array): void {
    if (this.#dropping || part.length === 0) return;
    // A "\r" ending the line is not part of it, so it does not count against the limit.
    const last = part.length - 1;
    const counted = this.#pendingBytes + part.length -
      (part[last] === CR ? 1 : 0);
    if (counted > this.#max) {
      this.#dropping = true;
      this.#pending = [];
      this.#pendingBytes = 0;
      return;
    }
    // Copied: the chunk's buffer may be reused by the reader.
    this.#pending.push(part.slice());
    this.#pendingBytes += part.length;
  }

  #takeLine(): string {
    let bytes: Uint8Array;
    if (this.#pending.length === 1) bytes = this.#pending[0]!;
    else {
      bytes = new Uint8Array(this.#pendingBytes);
      let at = 0;
      for (const part of this.#pending) {
        bytes.set(part, at);
        at += part.length;
      }
    }
    if (bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, -1);
    return this.#decoder.decode(bytes);
  }
}
