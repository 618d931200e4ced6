/**
 * The cockpit's access rules: the token (bearer header, `?token=` on a GET, or the
 * session cookie a `?token=` login sets) on every request, and for a session's actions
 * a same-origin request carrying that session's CSRF token in a header.
 */
import { bytesToHex } from "../util/mod.ts";

const encoder = new TextEncoder();

/** Compares two strings in time that depends only on their lengths. */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < x.length; i++) {
    diff |= x[i]! ^ (y.length === 0 ? 0 : y[i % y.length]!);
  }
  return diff === 0;
}

/** A browser session opened with the token. */
export interface Session {
  /** The cookie value. */
  id: string;
  /** What actions must send back in `X-CSRF-Token`. */
  csrf: string;
  /** Unix ms after which the session is gone. */
  expires: number;
}

/** How a request proved it has the token. */
export type Access =
  | { kind: "bearer" }
  | { kind: "query" }
  | { kind: "session"; session: Session };

/** Options for {@linkcode CockpitAuth}. */
export interface CockpitAuthOptions {
  /** Name of the session cookie (per port: cookies ignore ports); read when used. */
  cookieName: string | (() => string);
  /** Sessions kept at most; the oldest goes first. Default 64. */
  maxSessions?: number;
  /** Session lifetime in ms. Default 12 hours. */
  sessionTtlMs?: number;
  /** Unix ms. Default `Date.now`. */
  clock?: () => number;
}

function randomHex(bytes: number): string {
  return bytesToHex(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** Checks the token and keeps the sessions it opened. */
export class CockpitAuth {
  #token: string;
  #sessions = new Map<string, Session>();
  #cookieName: () => string;
  #max: number;
  #ttlMs: number;
  #clock: () => number;

  /** Takes the token and the cookie settings. */
  constructor(token: string, options: CockpitAuthOptions) {
    if (token.length < 16) {
      throw new RangeError(
        "Cannot start cockpit: the token must be at least 16 characters",
      );
    }
    this.#token = token;
    const name = options.cookieName;
    this.#cookieName = typeof name === "string" ? () => name : name;
    this.#max = options.maxSessions ?? 64;
    this.#ttlMs = options.sessionTtlMs ?? 12 * 3600_000;
    this.#clock = options.clock ?? Date.now;
  }

  /** True when `candidate` is the token. */
  isToken(candidate: string | null | undefined): boolean {
    return typeof candidate === "string" &&
      constantTimeEqual(candidate, this.#token);
  }

  /** How `request` proves it has the token, or null when it does not. */
  access(request: Request, url: URL): Access | null {
    const header = request.headers.get("authorization");
    if (header !== null) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      return match && this.isToken(match[1]) ? { kind: "bearer" } : null;
    }
    if (request.method === "GET" && url.searchParams.has("token")) {
      return this.isToken(url.searchParams.get("token"))
        ? { kind: "query" }
        : null;
    }
    const id = cookieValue(request.headers.get("cookie"), this.#cookieName());
    const session = id === null ? undefined : this.#sessions.get(id);
    if (!session) return null;
    if (session.expires < this.#clock()) {
      this.#sessions.delete(session.id);
      return null;
    }
    return { kind: "session", session };
  }

  /** Opens a session; returns it with its `Set-Cookie` value. */
  login(): { session: Session; cookie: string } {
    if (this.#sessions.size >= this.#max) {
      this.#sessions.delete(this.#sessions.keys().next().value!);
    }
    const session: Session = {
      id: randomHex(32),
      csrf: randomHex(32),
      expires: this.#clock() + this.#ttlMs,
    };
    this.#sessions.set(session.id, session);
    const cookie = `${this.#cookieName()}=${session.id}; Path=/; HttpOnly; ` +
      `SameSite=Strict; Max-Age=${Math.floor(this.#ttlMs / 1000)}`;
    return { session, cookie };
  }

  /**
   * Why a session's state-changing request is refused (a cross-site request, or the
   * CSRF token missing or wrong), or null when it may go ahead.
   */
  csrfProblem(request: Request, url: URL, session: Session): string | null {
    const site = request.headers.get("sec-fetch-site");
    if (site !== null && site !== "same-origin") {
      return `cross-site request (Sec-Fetch-Site: ${site})`;
    }
    const origin = request.headers.get("origin");
    if (origin !== null && origin !== url.origin) {
      return "request from another origin";
    }
    if (
      !constantTimeEqual(
        request.headers.get("x-csrf-token") ?? "",
        session.csrf,
      )
    ) {
      return "missing or wrong X-CSRF-Token";
    }
    return null;
  }
}

function cookieValue(header: string | null, name: string): string | null {
  if (header === null) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      return part.slice(eq + 1).trim();
    }
  }
  return null;
}
