/** Token buckets by key (a remote address): what one source may do per second. */

/** Options for {@linkcode RateLimiter}. */
export interface RateLimiterOptions {
  /** Tokens added per second to each key's bucket. */
  ratePerSecond: number;
  /** Bucket size: what a key may do at once; a new key starts full. */
  burst: number;
  /** Keys remembered; past it the least recently used is forgotten (it starts full again). Default 10,000. */
  maxKeys?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * One token bucket per key, in bounded memory.
 *
 * @example
 * ```ts
 * const joins = new RateLimiter({ ratePerSecond: 20, burst: 100 });
 * if (!joins.take(remoteHost)) return "close"; // over its rate: refused
 * ```
 */
export class RateLimiter {
  #rate: number;
  #burst: number;
  #maxKeys: number;
  #clock: { now(): number };
  #buckets = new Map<string, Bucket>();

  /** Throws `RangeError` unless the rate, the burst and `maxKeys` are positive. */
  constructor(
    options: RateLimiterOptions,
    clock: { now(): number } = performance,
  ) {
    this.#rate = options.ratePerSecond;
    this.#burst = options.burst;
    this.#maxKeys = options.maxKeys ?? 10_000;
    if (!(this.#rate > 0) || !(this.#burst >= 1) || !(this.#maxKeys >= 1)) {
      throw new RangeError(
        `Cannot create rate limiter: rate ${this.#rate}/s, burst ${this.#burst} and maxKeys ${this.#maxKeys} must be positive`,
      );
    }
    this.#clock = clock;
  }

  /** Takes a token from `key`'s bucket; false when it is empty (the caller refuses). */
  take(key: string): boolean {
    const now = this.#clock.now();
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxKeys) {
        this.#buckets.delete(this.#buckets.keys().next().value!);
      }
      bucket = { tokens: this.#burst, at: now };
    } else {
      // Most recently used last: the first key is the one to forget.
      this.#buckets.delete(key);
      bucket.tokens = Math.min(
        this.#burst,
        bucket.tokens + (now - bucket.at) * this.#rate / 1000,
      );
      bucket.at = now;
    }
    this.#buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens--;
    return true;
  }
}
