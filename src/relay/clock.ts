/** Injectable time source, so tests can move time by hand. */

/** Milliseconds on a monotonic scale. */
export interface Clock {
  now(): number;
}

/** The process's monotonic clock (`performance.now()`). */
export const SYSTEM_CLOCK: Clock = { now: () => performance.now() };
