/** Outstanding Kademlia requests, matched to replies by `_request_id` and sender. */
import type { KadResponse } from "./rpc_codec.ts";

/** Timers the requests use; injectable so tests and simulations run on virtual time. */
export interface Timers {
  /** Calls `fn` after `ms`; returns a handle. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a handle of `setTimeout`. */
  clearTimeout(handle: unknown): void;
}

/** The global timers. */
export const SYSTEM_TIMERS: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as number),
};

interface Waiter {
  from: string;
  resolve(response: KadResponse | null): void;
  timer: unknown;
}

/** Requests waiting for replies; a missing reply resolves null at its deadline. */
export class PendingRequests {
  #waiting = new Map<string, Waiter>();
  #timers: Timers;

  /** Takes the timers. */
  constructor(timers: Timers) {
    this.#timers = timers;
  }

  /** Number of requests in flight. */
  get size(): number {
    return this.#waiting.size;
  }

  /** Waits for `from`'s reply to `requestId`; null after `timeoutMs` or on abort. */
  wait(
    requestId: string,
    from: string,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<KadResponse | null> {
    return new Promise((resolve) => {
      const done = (r: KadResponse | null) => {
        const w = this.#waiting.get(requestId);
        if (!w) return;
        this.#waiting.delete(requestId);
        this.#timers.clearTimeout(w.timer);
        signal?.removeEventListener("abort", onAbort);
        resolve(r);
      };
      const onAbort = () => done(null);
      const timer = this.#timers.setTimeout(() => done(null), timeoutMs);
      this.#waiting.set(requestId, { from, resolve: done, timer });
      if (signal?.aborted) done(null);
      else signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Settles the request a reply answers; false when none waits for it from that sender. */
  settle(requestId: string, from: string, response: KadResponse): boolean {
    const w = this.#waiting.get(requestId);
    if (!w || w.from !== from) return false;
    w.resolve(response);
    return true;
  }

  /** Resolves one waiting request null at once (it could not be sent). */
  settleNull(requestId: string): void {
    this.#waiting.get(requestId)?.resolve(null);
  }

  /** Resolves every waiting request null (shutdown). */
  cancelAll(): void {
    for (const w of [...this.#waiting.values()]) w.resolve(null);
  }
}
