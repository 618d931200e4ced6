/** A token bucket that meters packets per connection. */
import type { Clock } from "./clock.ts";
import { RateMeter } from "./_rate_meter.ts";
import type { MeteredBucket } from "./_rate_meter.ts";

/** Options for {@linkcode TokenBucket}. */
export interface TokenBucketOptions {
  /** Tokens added per second (sustained packets per second). */
  ratePerSecond: number;
  /** Bucket capacity (largest burst); the bucket starts full. */
  burst: number;
}

/**
 * Token bucket that lends ahead: `take()` always takes a token and returns how long the caller
 * must wait before using it, so a throttled reader simply pauses (TCP pushes back on the peer).
 *
 * @example
 * ```ts
 * const bucket = new TokenBucket({ clock: SYSTEM_CLOCK }, { ratePerSecond: 100, burst: 10 });
 * const waitMs = bucket.take(); // 0 while the burst lasts
 * ```
 */
export class TokenBucket {
  #meter: RateMeter;
  #bucket: MeteredBucket = { emptyAt: -Infinity };

  /** Throws `RangeError` unless the rate and the burst are positive. */
  constructor(deps: { clock: Clock }, options: TokenBucketOptions) {
    this.#meter = new RateMeter(deps, options);
  }

  /** Takes one token; returns 0 when it was available, else the milliseconds until it is. */
  take(): number {
    return this.#meter.take(this.#bucket);
  }
}
