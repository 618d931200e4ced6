/** The timer behind `AssetStore.startSweeper()`. */
import type { Logger } from "../util/mod.ts";

/** Runs a sweep every interval, never two at once; `stop()` waits for one in progress. */
export class Sweeper {
  readonly #sweep: () => Promise<unknown>;
  readonly #log: Logger;
  #timer: ReturnType<typeof setInterval> | undefined;
  #sweeping: Promise<unknown> = Promise.resolve();

  /** Takes the sweep to run and where its failures go. */
  constructor(sweep: () => Promise<unknown>, log: Logger) {
    this.#sweep = sweep;
    this.#log = log;
  }

  /** Starts sweeping every `intervalMs`; does nothing when already started. */
  start(intervalMs: number): void {
    if (this.#timer !== undefined) return;
    let running = false;
    this.#timer = setInterval(() => {
      // a slow sweep (a huge directory) is not stacked with the next one
      if (running) return;
      running = true;
      this.#sweeping = this.#sweep()
        .finally(() => running = false).catch((error) =>
          this.#log.warn(`Asset sweep failed: ${(error as Error).message}`)
        );
    }, intervalMs);
  }

  /** Stops the timer and waits for a sweep in progress; idempotent. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#sweeping;
  }
}
