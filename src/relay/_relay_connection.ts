/** One accepted connection as the router sees it: identities and a rate meter over a framed connection. */
import type { FrameConnection } from "../net/mod.ts";
import type { RouterPeer } from "./router.ts";
import type { TokenBucket } from "./token_bucket.ts";

/** A relay-side connection; the router sees it as a {@linkcode RouterPeer}. */
export class RelayConnection implements RouterPeer {
  readonly identities = new Set<string>();
  readonly conn: FrameConnection;
  readonly bucket: TokenBucket | null;
  /** `host:port` of the peer, for messages. */
  readonly remote: string;
  // Created when first needed (a throttled wait): idle connections stay small.
  #abort: AbortController | null = null;

  constructor(
    conn: FrameConnection,
    bucket: TokenBucket | null,
    remote: string,
  ) {
    this.conn = conn;
    this.bucket = bucket;
    this.remote = remote;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.conn.closed;
  }

  /** Aborted when the connection closes (cancels throttling waits). */
  get signal(): AbortSignal {
    this.#abort ??= new AbortController();
    if (this.conn.closed) this.#abort.abort();
    return this.#abort.signal;
  }

  /** Queues a whole frame as it is (no copy); false when closed or just closed as too slow. */
  send(frame: Uint8Array): boolean {
    return this.conn.sendFrame(frame);
  }

  /** Closes the socket and drops the queue. Idempotent. */
  close(reason: string): void {
    this.conn.close(reason);
  }

  /** Ends throttling waits; the server calls this once the connection has closed. */
  dispose(): void {
    this.#abort?.abort();
  }
}
