/** A bounded FIFO of received packets with waiting readers. */

/** Queue of items for `listen()`; the oldest item is dropped when full. */
export class Inbox<T> {
  #items: T[] = [];
  #head = 0;
  #waiters: ((item: T | null) => void)[] = [];
  #closed = false;
  #max: number;
  /** Items dropped because nobody read them in time. */
  dropped = 0;

  constructor(max: number) {
    this.#max = max;
  }

  /** Hands `item` to a waiting reader or queues it; false when it displaced the oldest item. */
  push(item: T): boolean {
    if (this.#closed) return true;
    const waiter = this.#waiters.shift();
    if (waiter) {
      waiter(item);
      return true;
    }
    this.#items.push(item);
    if (this.#items.length - this.#head <= this.#max) return true;
    this.#head++;
    this.dropped++;
    this.#compact();
    return false;
  }

  /** Ends every current and future wait once the queue is empty. */
  close(): void {
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) waiter(null);
  }

  /** The next item, or null when closed and empty or when `signal` aborts. */
  next(signal?: AbortSignal): Promise<T | null> {
    if (this.#head < this.#items.length) {
      const item = this.#items[this.#head++]!;
      this.#compact();
      return Promise.resolve(item);
    }
    if (this.#closed || signal?.aborted) return Promise.resolve(null);
    return new Promise((resolve) => {
      const onAbort = () => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        resolve(null);
      };
      const waiter = (item: T | null) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(item);
      };
      this.#waiters.push(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  #compact(): void {
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
