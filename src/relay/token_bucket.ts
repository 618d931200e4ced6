/** A token bucket that meters packets per connection. */
import type { Clock } from "./clock.ts";

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
  #clock: Clock;
  #ratePerMs: number;
  #burst: number;
  #tokens: number;
  #updatedAt: number;

  constructor(deps: { clock: Clock }, options: TokenBucketOptions) {
    if (!(options.ratePerSecond > 0) || !(options.burst >= 1)) {
      throw new RangeError(
        `Cannot create token bucket: rate ${options.ratePerSecond} and burst ${options.burst} must be positive`,
      );
    }
    this.#clock = deps.clock;
    this.#ratePerMs = options.ratePerSecond / 1000;
    this.#burst = options.burst;
    this.#tokens = options.burst;
    this.#updatedAt = deps.clock.now();
  }

  /** Takes one token; returns 0 when it was available, else the milliseconds until it is. */
  take(): number {
    const now = this.#clock.now();
    this.#tokens = Math.min(
      this.#burst,
      this.#tokens + (now - this.#updatedAt) * this.#ratePerMs,
    );
    this.#updatedAt = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : -this.#tokens / this.#ratePerMs;
  }
}
