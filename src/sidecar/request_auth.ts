/**
 * Signed sidecar requests (the original's `X-Knarr-*` headers) and their verification,
 * with the replay protection the original lacks.
 */
import type { Identity } from "../crypto/mod.ts";
import { nodeIdOf, verifyHex } from "../crypto/mod.ts";
import { ReplayMemory } from "./_replay_memory.ts";

/** How far a request's timestamp may be from the server clock, in seconds. */
export const AUTH_WINDOW_SECONDS = 60;
const DEFAULT_MAX_REMEMBERED = 100_000;
const PUBLIC_KEY_RE = /^[0-9a-fA-F]{64}$/;
const SIGNATURE_RE = /^[0-9a-fA-F]{128}$/;
const TIMESTAMP_RE = /^[0-9]{1,12}$/;
// Header values are written raw into the request head: no spaces or control characters.
const CONTENT_HASH_RE = /^[\x21-\x7e]{1,256}$/;

/**
 * The string a request signature covers: `METHOD:PATH:TIMESTAMP:CONTENT_HASH`.
 *
 * @example
 * ```ts
 * signedString("get", "/assets", 1700000000); // "GET:/assets:1700000000:empty"
 * ```
 */
export function signedString(
  method: string,
  path: string,
  timestamp: number | string,
  contentHash = "empty",
): string {
  return `${method.toUpperCase()}:${path}:${timestamp}:${contentHash}`;
}

/** Options for {@linkcode signRequest}. */
export interface SignRequestOptions {
  /** Unix seconds (an integer); default now. */
  timestamp?: number;
  /** Sent as `x-knarr-content-hash` when given; signed as "empty" otherwise. */
  contentHash?: string;
}

/**
 * The authentication headers of one sidecar request, names in lower case as the
 * original CLI sends them.
 *
 * @example
 * ```ts
 * import { Identity } from "../crypto/mod.ts";
 * const headers = await signRequest(await Identity.generate(), "GET", "/assets");
 * ```
 */
export async function signRequest(
  identity: Identity,
  method: string,
  path: string,
  options: SignRequestOptions = {},
): Promise<Record<string, string>> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new RangeError(
      `Cannot sign request: timestamp ${timestamp} is not a whole number of unix seconds`,
    );
  }
  const { contentHash } = options;
  if (contentHash !== undefined && !CONTENT_HASH_RE.test(contentHash)) {
    throw new TypeError(
      `Cannot sign request: content hash "${
        contentHash.slice(0, 80)
      }" must be 1 to 256 visible ASCII characters`,
    );
  }
  const signed = signedString(method, path, timestamp, contentHash);
  const headers: Record<string, string> = {
    "x-knarr-publickey": identity.publicKey,
    "x-knarr-signature": await identity.sign(new TextEncoder().encode(signed)),
    "x-knarr-timestamp": String(timestamp),
  };
  if (contentHash !== undefined) headers["x-knarr-content-hash"] = contentHash;
  return headers;
}

/** The outcome of {@linkcode RequestVerifier.verify}. */
export type AuthResult =
  | {
    ok: true;
    /** The signer's public key, 64 lowercase hex. */
    publicKey: string;
    /** The signer's node id. */
    nodeId: string;
    /** The `x-knarr-content-hash` header, or "empty". */
    contentHash: string;
  }
  | {
    ok: false;
    /** Why, for the server's log (never sent to the client). */
    reason: string;
  };

/** Options for {@linkcode RequestVerifier}. */
export interface RequestVerifierOptions {
  /** Seconds a timestamp may be off the server clock; default 60. */
  windowSeconds?: number;
  /**
   * Verified signatures remembered against replay at once; default 100000. Past half of it,
   * timestamps more than 5 s ahead are refused; when full, the oldest second is forgotten and
   * requests stamped at or before it are refused from then on.
   */
  maxRemembered?: number;
}

/**
 * Checks signed sidecar requests: headers, timestamp window, Ed25519 signature, and
 * that no signature is accepted twice while its timestamp is in the window. The replay
 * memory is bounded without a replay hole, and a flood filling it costs honest clients
 * (who stamp the current second) nothing until it brings `maxRemembered` requests within
 * about 10 seconds.
 *
 * @example
 * ```ts
 * const verifier = new RequestVerifier();
 * const auth = await verifier.verify("GET", "/assets", new Map());
 * if (!auth.ok) console.log(auth.reason); // "missing x-knarr-publickey"
 * ```
 */
export class RequestVerifier {
  #clock: { now(): number };
  #window: number;
  #max: number;
  #seen: ReplayMemory;

  /** Takes an optional clock in unix seconds (default the system clock) and limits. */
  constructor(
    deps: { clock?: { now(): number } } = {},
    options: RequestVerifierOptions = {},
  ) {
    this.#clock = deps.clock ?? { now: () => Date.now() / 1000 };
    this.#window = options.windowSeconds ?? AUTH_WINDOW_SECONDS;
    this.#max = options.maxRemembered ?? DEFAULT_MAX_REMEMBERED;
    if (!(this.#window >= 0) || !(this.#max >= 1)) {
      throw new RangeError(
        `Cannot create request verifier: window ${this.#window} s must be at least 0 and maxRemembered ${this.#max} at least 1`,
      );
    }
    this.#seen = new ReplayMemory(this.#max, this.#window);
  }

  /** Signatures remembered against replay now. */
  get remembered(): number {
    return this.#seen.size;
  }

  /** Verifies one request; `headers` has lowercase names. */
  async verify(
    method: string,
    path: string,
    headers: ReadonlyMap<string, string>,
  ): Promise<AuthResult> {
    const publicKeyHeader = headers.get("x-knarr-publickey");
    const signatureHeader = headers.get("x-knarr-signature");
    const timestampHeader = headers.get("x-knarr-timestamp");
    const contentHash = headers.get("x-knarr-content-hash") ?? "empty";
    if (publicKeyHeader === undefined) {
      return refuse("missing x-knarr-publickey");
    }
    if (signatureHeader === undefined) {
      return refuse("missing x-knarr-signature");
    }
    if (timestampHeader === undefined) {
      return refuse("missing x-knarr-timestamp");
    }
    if (!PUBLIC_KEY_RE.test(publicKeyHeader)) {
      return refuse("x-knarr-publickey is not 64 hex characters");
    }
    if (!SIGNATURE_RE.test(signatureHeader)) {
      return refuse("x-knarr-signature is not 128 hex characters");
    }
    if (!TIMESTAMP_RE.test(timestampHeader)) {
      return refuse("x-knarr-timestamp is not an integer of at most 12 digits");
    }
    const now = this.#clock.now();
    const skew = Math.abs(now - Number(timestampHeader));
    if (!(skew <= this.#window)) {
      return refuse(`timestamp ${Math.ceil(skew)} s from server time`);
    }
    const publicKey = publicKeyHeader.toLowerCase();
    const signature = signatureHeader.toLowerCase();
    const timestamp = Number(timestampHeader);
    const early = this.#seen.check(signature, timestamp, now);
    if (early) return refuse(early);
    const signed = signedString(method, path, timestampHeader, contentHash);
    if (
      !(await verifyHex(publicKey, signature, new TextEncoder().encode(signed)))
    ) {
      return refuse("bad signature");
    }
    // Checked again: the same signature may have been verified while we awaited.
    const late = this.#seen.add(signature, timestamp, this.#clock.now());
    if (late) return refuse(late);
    return {
      ok: true,
      publicKey,
      nodeId: await nodeIdOf(publicKey),
      contentHash,
    };
  }
}

function refuse(reason: string): AuthResult {
  return { ok: false, reason };
}
