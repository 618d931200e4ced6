/** One byte budget for the outbound queues of many connections, so that slow readers cannot hold unbounded memory together. */

/**
 * Counts the bytes waiting in the outbound queues of the connections sharing it (behind a write
 * in progress, as each connection's own `maxQueueBytes`). When they go over `limitBytes`,
 * `onOver` runs (soon after, not inside the queuing call) until they are back under it or it
 * finds nothing to close.
 *
 * @example
 * ```ts
 * const budget = new QueueBudget(256 * 1024 * 1024, () => closeTheLargestQueue());
 * TcpServer.listen({ hostname: "0.0.0.0", port: 9009, queueBudget: budget }, serve);
 * ```
 */
export class QueueBudget {
  /** The most bytes all queues may hold together. */
  readonly limitBytes: number;
  /** Bytes the queues hold now. */
  usedBytes = 0;
  /** Times `onOver` was called. */
  overruns = 0;
  #onOver: () => boolean;
  #scheduled = false;

  /** `onOver` closes a connection (freeing its queue) and returns true, or false when none. */
  constructor(limitBytes: number, onOver: () => boolean) {
    if (!(limitBytes > 0)) {
      throw new RangeError(
        `Cannot create queue budget: ${limitBytes} bytes must be positive`,
      );
    }
    this.limitBytes = limitBytes;
    this.#onOver = onOver;
  }

  /**
   * A queue grew or shrank by `deltaBytes` (the writers' call).
   *
   * @ignore
   */
  charge(deltaBytes: number): void {
    this.usedBytes += deltaBytes;
    if (this.usedBytes <= this.limitBytes || this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => this.#relieve());
  }

  #relieve(): void {
    this.#scheduled = false;
    while (this.usedBytes > this.limitBytes) {
      this.overruns++;
      if (!this.#onOver()) return;
    }
  }
}
