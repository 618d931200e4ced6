/**
 * The little HTTP/1.1 the sidecar speaks: one request per connection, `Content-Length`
 * bodies, the connection closed after the response. Written by hand because the
 * original Python client looks for the bytes `Content-Length:` case-sensitively and
 * reads to EOF, which `Deno.serve` (lowercase headers, keep-alive) breaks.
 */

import { within, writeAll, type Writer } from "../util/mod.ts";

export { writeAll, type Writer };

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** A byte stream with `read` in the style of `Deno.Conn`. */
export interface Reader {
  read(p: Uint8Array): Promise<number | null>;
}

/** A request line and headers (names lowercased). */
export interface RequestHead {
  method: string;
  /** The path exactly as in the request line (it is signed as is). */
  target: string;
  headers: Map<string, string>;
}

/** A status line and headers (names lowercased). */
export interface ResponseHead {
  status: number;
  headers: Map<string, string>;
}

/** Why a head could not be read; `status` is what a server answers. */
export class HeadError extends Error {
  /** The HTTP status a server answers with. */
  readonly status: number;
  /** Takes the status and the message. */
  constructor(status: number, message: string) {
    super(message);
    this.name = "HeadError";
    this.status = status;
  }
}

/** Limits of {@linkcode readHead}. */
export interface HeadLimits {
  /** Largest head in bytes. */
  maxBytes: number;
  /** Each line must arrive within this many ms of the previous one. */
  lineTimeoutMs: number;
  /** The whole head must arrive within this many ms. */
  totalTimeoutMs: number;
}

const CRLF2 = [13, 10, 13, 10];

/**
 * A reader that keeps bytes read past the head, so the body starts exactly after it.
 * Reads of the body go to the source directly once the leftover is used up.
 */
export class BufferedReader implements Reader {
  #source: Reader;
  #pending: Uint8Array = new Uint8Array(0);

  /** Wraps a source. */
  constructor(source: Reader) {
    this.#source = source;
  }

  /** Reads leftover bytes first, then from the source. */
  read(p: Uint8Array): Promise<number | null> {
    if (this.#pending.length > 0) {
      const n = Math.min(p.length, this.#pending.length);
      p.set(this.#pending.subarray(0, n));
      this.#pending = this.#pending.subarray(n);
      return Promise.resolve(n);
    }
    return this.#source.read(p);
  }

  /**
   * Reads up to and including the blank line ending a head and returns its text;
   * throws `HeadError` on EOF, oversize, timeouts or bytes that are not a head.
   */
  async readHeadText(limits: HeadLimits): Promise<string> {
    const buffer = new Uint8Array(limits.maxBytes);
    let filled = 0;
    let scanned = 0;
    const started = performance.now();
    let lineDeadline = started + limits.lineTimeoutMs;
    const chunk = new Uint8Array(Math.min(limits.maxBytes, 16 * 1024));
    for (;;) {
      // Look for the end of the head in what we have.
      for (; scanned < filled; scanned++) {
        if (buffer[scanned] !== 10) continue;
        // A completed line buys the next one its own timeout (slow-loris bound).
        lineDeadline = performance.now() + limits.lineTimeoutMs;
        if (
          scanned >= 3 && CRLF2.every((b, i) => buffer[scanned - 3 + i] === b)
        ) {
          const end = scanned + 1;
          this.#pending = buffer.slice(end, filled);
          return decodeHead(buffer.subarray(0, end));
        }
      }
      if (filled >= limits.maxBytes) {
        throw new HeadError(
          431,
          `Request head exceeds ${limits.maxBytes} bytes`,
        );
      }
      const now = performance.now();
      const wait = Math.min(
        lineDeadline - now,
        started + limits.totalTimeoutMs - now,
      );
      if (wait <= 0) throw new HeadError(408, "Request head timed out");
      const n = await within(
        this.#source.read(chunk.subarray(0, limits.maxBytes - filled)),
        wait,
      );
      if (n === "timeout") throw new HeadError(408, "Request head timed out");
      if (n === null) {
        throw new HeadError(
          400,
          filled === 0 ? "No request" : "Truncated head",
        );
      }
      buffer.set(chunk.subarray(0, n), filled);
      filled += n;
    }
  }
}

function decodeHead(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new HeadError(400, "Head is not UTF-8");
  }
}

const TOKEN_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function parseHeaders(lines: string[]): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of lines) {
    if (line === "") continue;
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon) : "";
    if (!TOKEN_RE.test(name)) {
      throw new HeadError(
        400,
        `Malformed header line "${line.slice(0, 40)}"`,
      );
    }
    const key = name.toLowerCase();
    const value = line.slice(colon + 1).trim();
    const old = headers.get(key);
    if (old !== undefined && old !== value) {
      if (key === "content-length") {
        throw new HeadError(400, "Conflicting Content-Length headers");
      }
      headers.set(key, `${old}, ${value}`);
    } else {
      headers.set(key, value);
    }
  }
  return headers;
}

/** Parses a request head; throws `HeadError` (400) when it is not HTTP/1.x. */
export function parseRequestHead(text: string): RequestHead {
  const lines = text.split("\r\n");
  const parts = (lines[0] ?? "").split(" ");
  if (
    parts.length !== 3 || !TOKEN_RE.test(parts[0]!) ||
    !parts[1]!.startsWith("/") || !/^HTTP\/1\.[01]$/.test(parts[2]!)
  ) {
    throw new HeadError(
      400,
      `Malformed request line "${(lines[0] ?? "").slice(0, 60)}"`,
    );
  }
  return {
    method: parts[0]!,
    target: parts[1]!,
    headers: parseHeaders(lines.slice(1)),
  };
}

/** Parses a response head; throws `HeadError` when it is not HTTP/1.x. */
export function parseResponseHead(text: string): ResponseHead {
  const lines = text.split("\r\n");
  const match = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0] ?? "");
  if (!match) {
    throw new HeadError(
      502,
      `Malformed status line "${(lines[0] ?? "").slice(0, 60)}"`,
    );
  }
  return { status: Number(match[1]), headers: parseHeaders(lines.slice(1)) };
}

/** A Content-Length value: digits only, a safe integer; null when absent; throws when bad. */
export function contentLength(headers: Map<string, string>): number | null {
  const raw = headers.get("content-length");
  if (raw === undefined) return null;
  if (!/^\d{1,16}$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new HeadError(400, `Invalid Content-Length "${raw.slice(0, 20)}"`);
  }
  return Number(raw);
}

const REASONS: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  408: "Request Timeout",
  413: "Payload Too Large",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  503: "Service Unavailable",
  507: "Insufficient Storage",
};

/**
 * A response head. `Content-Length:` is spelled with exactly that case (the original
 * client searches for those bytes), and every response closes its connection.
 */
export function responseHead(
  status: number,
  contentType: string,
  length: number,
): Uint8Array {
  return encoder.encode(
    `HTTP/1.1 ${status} ${REASONS[status] ?? "Error"}\r\n` +
      `Content-Type: ${contentType}\r\nContent-Length: ${length}\r\n` +
      "Connection: close\r\n\r\n",
  );
}

/** A whole JSON response: head and compact body (only the head for a HEAD request). */
export function jsonResponse(
  status: number,
  body: unknown,
  options: { headOnly?: boolean | undefined } = {},
): Uint8Array {
  const json = encoder.encode(JSON.stringify(body));
  const head = responseHead(status, "application/json", json.length);
  if (options.headOnly) return head;
  const out = new Uint8Array(head.length + json.length);
  out.set(head);
  out.set(json, head.length);
  return out;
}

/** A request head as the original CLI writes it (no Host header). */
export function requestHead(
  method: string,
  target: string,
  headers: Record<string, string>,
): Uint8Array {
  let text = `${method} ${target} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    text += `${name}: ${value}\r\n`;
  }
  return encoder.encode(text + "\r\n");
}
