/** One accepted keep connection: the framed connection itself, with what the relay keeps per peer. */
import { FrameConnection } from "../net/mod.ts";
import type { RouterPeer } from "./router.ts";
import type { MeteredBucket } from "./_rate_meter.ts";

/**
 * A relay-side connection; the router sees it as a {@linkcode RouterPeer}. It extends the
 * framed connection rather than wrapping it: ten thousand may sit idle at once, and each then
 * costs no object or map entry beyond the connection.
 */
export class RelayConnection extends FrameConnection
  implements RouterPeer, MeteredBucket {
  /** The identities it holds (maintained by the router). */
  identities: string | Set<string> | null = null;
  /** Its token bucket (see `RateMeter`): starts full. */
  emptyAt = -Infinity;
  /**
   * True once a frame it sent was forwarded: receivers' queues may then hold views of its read
   * buffer, which is therefore never released for reuse.
   */
  forwarded = false;
  // Created when first needed (a throttled wait): idle connections stay small.
  #abort: AbortController | null = null;

  /** Aborted when the connection closes (cancels throttling waits). */
  get signal(): AbortSignal {
    this.#abort ??= new AbortController();
    if (this.closed) this.#abort.abort();
    return this.#abort.signal;
  }

  /** Ends throttling waits; the server calls this once the connection has closed. */
  dispose(): void {
    this.#abort?.abort();
  }
}
