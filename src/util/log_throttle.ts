/** Warnings that a peer can trigger at will, limited per kind so that a flood is not a log flood. */
import type { LogFields, Logger } from "./logger.ts";

/** Options for {@linkcode LogThrottle}. */
export interface LogThrottleOptions {
  /** Lines written per key and window; the rest are counted. Default 10. */
  perWindow?: number;
  /** Length of a window in ms. Default 60,000. */
  windowMs?: number;
}

interface KeyWindow {
  startedAt: number;
  written: number;
  suppressed: number;
  timer: ReturnType<typeof setTimeout> | null;
}

/**
 * Writes at most `perWindow` warnings per key in each window; the others are counted and
 * summed up in one line when their window ends ("…: 1,234 more in the last 60 s").
 *
 * @example
 * ```ts
 * const drops = new LogThrottle(logger, { perWindow: 10, windowMs: 60_000 });
 * drops.warn("bad signature", `Dropped message (bad signature): QUERY from ${host}`);
 * ```
 */
export class LogThrottle {
  #logger: Logger;
  #perWindow: number;
  #windowMs: number;
  #clock: { now(): number };
  #keys = new Map<string, KeyWindow>();

  /** Takes the logger written to, the limits, and optionally a clock in ms (tests). */
  constructor(
    logger: Logger,
    options: LogThrottleOptions = {},
    clock: { now(): number } = performance,
  ) {
    this.#logger = logger;
    this.#perWindow = options.perWindow ?? 10;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#clock = clock;
  }

  /** Warns `message`, unless `key` has had its share of lines in this window. */
  warn(key: string, message: string, fields?: LogFields): void {
    if (!this.#logger.enabled("warn")) return;
    const now = this.#clock.now();
    let window = this.#keys.get(key);
    if (window !== undefined && now - window.startedAt >= this.#windowMs) {
      this.#flush(key);
      window = undefined;
    }
    if (window === undefined) {
      window = { startedAt: now, written: 0, suppressed: 0, timer: null };
      this.#keys.set(key, window);
    }
    if (window.written < this.#perWindow) {
      window.written++;
      this.#logger.warn(message, fields);
      return;
    }
    window.suppressed++;
    if (window.timer === null) {
      const timer = setTimeout(
        () => this.#flush(key),
        Math.max(0, window.startedAt + this.#windowMs - now),
      );
      // A summary due later never keeps the process (or a test) alive.
      Deno.unrefTimer(timer);
      window.timer = timer;
    }
  }

  /** Writes the summaries of every window now and starts afresh. */
  flush(): void {
    for (const key of [...this.#keys.keys()]) this.#flush(key);
  }

  #flush(key: string): void {
    const window = this.#keys.get(key);
    if (window === undefined) return;
    this.#keys.delete(key);
    if (window.timer !== null) clearTimeout(window.timer);
    if (window.suppressed === 0) return;
    const seconds = Math.round((this.#clock.now() - window.startedAt) / 1000);
    this.#logger.warn(
      `${key}: ${
        window.suppressed.toLocaleString("en")
      } more in the last ${seconds} s (not logged one by one)`,
      { key, suppressed: window.suppressed, seconds },
    );
  }
}
