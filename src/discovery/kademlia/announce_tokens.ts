/**
 * BEP-5-style announce tokens: a GET_PROVIDERS answer carries an HMAC over the
 * requester's address and the current 5-minute window; a PUT_PROVIDER must echo a token
 * of the current or the previous window.
 */
import { createHmac, randomBytes } from "node:crypto";
import type { Clock } from "../types.ts";

/** Length of one token window in seconds. */
export const TOKEN_WINDOW_S = 300;

/** Issues and checks announce tokens under a secret that never leaves the node. */
export class AnnounceTokens {
  #clock: Clock;
  #secret: Uint8Array;

  /** Takes the clock and, for tests, a fixed secret (default: 32 random bytes). */
  constructor(deps: { clock: Clock; secret?: Uint8Array }) {
    this.#clock = deps.clock;
    this.#secret = deps.secret ?? randomBytes(32);
  }

  /** The token for a requester address in the current window. */
  issue(address: string): string {
    return this.#token(address, Math.floor(this.#clock.now() / TOKEN_WINDOW_S));
  }

  /** True when `token` is the address's token of this window or the previous one. */
  check(address: string, token: string): boolean {
    const w = Math.floor(this.#clock.now() / TOKEN_WINDOW_S);
    return token.length === 32 &&
      (token === this.#token(address, w) ||
        token === this.#token(address, w - 1));
  }

  #token(address: string, window: number): string {
    return createHmac("sha256", this.#secret).update(`${window}|${address}`)
      .digest("hex").slice(0, 32);
  }
}
