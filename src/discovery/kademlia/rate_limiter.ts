/** Per-peer sliding-window rate limits of inbound Kademlia requests. */
import type { Clock } from "../types.ts";

/** Limits of {@linkcode RateLimiter}. */
export interface RateLimiterOptions {
  /** Requests allowed per window per peer. */
  limit: number;
  /** Window length in seconds. Default 60. */
  windowS?: number;
  /** Peers tracked at most; the longest idle is forgotten first. Default 10 000. */
  maxPeers?: number;
}

/** Counts each peer's requests in the last window. */
export class RateLimiter {
  #hits = new Map<string, number[]>();
  #clock: Clock;
  #limit: number;
  #windowS: number;
  #maxPeers: number;

  /** Takes the clock and the limit. */
  constructor(deps: { clock: Clock }, options: RateLimiterOptions) {
    this.#clock = deps.clock;
    this.#limit = options.limit;
    this.#windowS = options.windowS ?? 60;
    this.#maxPeers = options.maxPeers ?? 10_000;
  }

  /** Records one request of `peer`; false when it is over the limit (not recorded). */
  allow(peer: string): boolean {
    const now = this.#clock.now();
    const hits = (this.#hits.get(peer) ?? []).filter((t) =>
      t > now - this.#windowS
    );
    this.#hits.delete(peer);
    if (hits.length >= this.#limit) {
      this.#hits.set(peer, hits);
      return false;
    }
    hits.push(now);
    this.#hits.set(peer, hits);
    if (this.#hits.size > this.#maxPeers) {
      this.#hits.delete(this.#hits.keys().next().value!);
    }
    return true;
  }
}
