/** Token-bucket metering for many connections at once: the rate and burst are held once. */
import type { Clock } from "./clock.ts";

/** Options for {@linkcode RateMeter}. */
export interface RateMeterOptions {
  /** Tokens added per second (sustained packets per second). */
  ratePerSecond: number;
  /** Bucket capacity (largest burst); a bucket starts full. */
  burst: number;
}

/** The state of one bucket, kept by its owner: one number, so that idle connections stay small. */
export interface MeteredBucket {
  /** When the bucket was, or will be, empty (ms on the meter's clock); -Infinity: full. */
  emptyAt: number;
}

/**
 * Token buckets that lend ahead: `take()` always takes a token and returns how long the caller
 * must wait before using it. A bucket is the time it runs empty (holding `(now - emptyAt) ×
 * rate` tokens, at most the burst), so it needs no object of its own.
 *
 * @example
 * ```ts
 * const meter = new RateMeter({ clock: SYSTEM_CLOCK }, { ratePerSecond: 100, burst: 10 });
 * const bucket = { emptyAt: -Infinity };
 * const waitMs = meter.take(bucket); // 0 while the burst lasts
 * ```
 */
export class RateMeter {
  #clock: Clock;
  #intervalMs: number;
  #burstMs: number;

  /** Throws `RangeError` unless the rate and the burst are positive. */
  constructor(deps: { clock: Clock }, options: RateMeterOptions) {
    if (!(options.ratePerSecond > 0) || !(options.burst >= 1)) {
      throw new RangeError(
        `Cannot create token bucket: rate ${options.ratePerSecond} and burst ${options.burst} must be positive`,
      );
    }
    this.#clock = deps.clock;
    this.#intervalMs = 1000 / options.ratePerSecond;
    this.#burstMs = options.burst * this.#intervalMs;
  }

  /** Takes one token from `bucket`; returns 0 when it was available, else the milliseconds until it is. */
  take(bucket: MeteredBucket): number {
    const now = this.#clock.now();
    // A bucket refills no further than the burst: it was empty at most a burst ago.
    const emptyAt = Math.max(bucket.emptyAt, now - this.#burstMs) +
      this.#intervalMs;
    bucket.emptyAt = emptyAt;
    return emptyAt > now ? emptyAt - now : 0;
  }
}
