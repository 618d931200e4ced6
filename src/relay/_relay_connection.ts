/** One accepted connection: a bounded outbound queue drained by a single serialized writer. */
import type { Clock } from "./clock.ts";
import type { RouterPeer } from "./router.ts";
import type { TokenBucket } from "./token_bucket.ts";
import type { ByteConn } from "./_tcp.ts";

// Several queued frames are copied into one write up to this size (fewer syscalls under load).
const COALESCE_BYTES = 64 * 1024;

/** Why a connection closed, for counters. */
export type CloseKind = "normal" | "slow" | "write_timeout" | "write_failed";

/** Options for {@linkcode RelayConnection}. */
export interface RelayConnectionOptions {
  /** Frames queued or being written before the peer counts as too slow. */
  maxQueue: number;
  /** Bytes queued or being written before the peer counts as too slow. */
  maxQueueBytes: number;
  /** A single write may take this long before the connection is closed. */
  writeTimeoutMs: number;
}

/** Collaborators of {@linkcode RelayConnection}. */
export interface RelayConnectionDeps {
  conn: ByteConn;
  clock: Clock;
  bucket: TokenBucket | null;
  /** Called once, synchronously, when the connection closes. */
  onClose(connection: RelayConnection, kind: CloseKind, reason: string): void;
}

/** A relay-side connection; the router sees it as a {@linkcode RouterPeer}. */
export class RelayConnection implements RouterPeer {
  readonly identities = new Set<string>();
  readonly conn: ByteConn;
  readonly bucket: TokenBucket | null;
  readonly acceptedAt: number;
  /** Set when the peer stopped sending: the queue is flushed, then the socket closes. */
  draining = false;
  #clock: Clock;
  #onClose: RelayConnectionDeps["onClose"];
  #options: RelayConnectionOptions;
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #writing: Promise<void> | null = null;
  #writeStartedAt = -1;
  #closed = false;
  #abort = new AbortController();

  constructor(deps: RelayConnectionDeps, options: RelayConnectionOptions) {
    this.conn = deps.conn;
    this.bucket = deps.bucket;
    this.#clock = deps.clock;
    this.#onClose = deps.onClose;
    this.#options = options;
    this.acceptedAt = deps.clock.now();
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Aborted when the connection closes (cancels throttling waits). */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Queues a whole frame; closes the connection and returns false when the queue is full. */
  send(frame: Uint8Array): boolean {
    if (this.#closed) return false;
    if (
      this.#queue.length >= this.#options.maxQueue ||
      this.#queuedBytes + frame.length > this.#options.maxQueueBytes
    ) {
      this.#close(
        "slow",
        `outbound queue full (${this.#queue.length} frames, ${this.#queuedBytes} bytes)`,
      );
      return false;
    }
    this.#queue.push(frame);
    this.#queuedBytes += frame.length;
    this.#writing ??= this.#drain();
    return true;
  }

  /** True when the write in progress has taken longer than the write timeout. */
  writeOverdue(now: number): boolean {
    return this.#writeStartedAt >= 0 &&
      now - this.#writeStartedAt > this.#options.writeTimeoutMs;
  }

  /** Closes the socket (pending reads and writes reject) and drops the queue. Idempotent. */
  close(reason: string, kind: CloseKind = "normal"): void {
    this.#close(kind, reason);
  }

  /** Resolves when the writer has stopped. */
  async drained(): Promise<void> {
    await this.#writing;
  }

  #close(kind: CloseKind, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.conn.close();
    this.#abort.abort();
    this.#onClose(this, kind, reason);
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const [chunk, count] = this.#nextChunk();
        this.#writeStartedAt = this.#clock.now();
        await this.conn.writeAll(chunk);
        this.#writeStartedAt = -1;
        if (this.#closed) break;
        this.#queue.splice(0, count);
        this.#queuedBytes -= chunk.length;
      }
    } catch (error) {
      this.#close("write_failed", `write failed: ${(error as Error).message}`);
    } finally {
      this.#writeStartedAt = -1;
      this.#writing = null;
    }
  }

  /** The head frame, or several whole frames copied into one buffer; and how many it holds. */
  #nextChunk(): [Uint8Array, number] {
    const queue = this.#queue;
    const first = queue[0]!;
    let size = first.length;
    let count = 1;
    while (
      count < queue.length && size + queue[count]!.length <= COALESCE_BYTES
    ) size += queue[count++]!.length;
    if (count === 1) return [first, 1];
    const chunk = new Uint8Array(size);
    for (let i = 0, offset = 0; i < count; i++) {
      chunk.set(queue[i]!, offset);
      offset += queue[i]!.length;
    }
    return [chunk, count];
  }
}
