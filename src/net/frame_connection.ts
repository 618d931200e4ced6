/** A TCP connection carrying length-prefixed frames: bounded, coalesced writes; bounded reads; deadlines. */
import {
  encodeFrame,
  FRAME_HEADER_BYTES,
  FrameReader,
} from "./frame_reader.ts";
import type { FrameLimits } from "./frame_reader.ts";
import { FrameWriter } from "./_frame_writer.ts";

/** Why a connection closed. */
export type CloseKind =
  /** Closed by its owner, or the peer went away. */
  | "normal"
  /** Nothing arrived within `idleTimeoutMs` while waiting for data. */
  | "idle"
  /** {@linkcode FrameConnection.completeHandshake} was not called within `handshakeTimeoutMs`. */
  | "handshake_timeout"
  /** The outbound queue went over `maxQueueFrames` or `maxQueueBytes`. */
  | "slow"
  /** One write took longer than `writeTimeoutMs`. */
  | "write_timeout"
  /** A write failed. */
  | "write_failed";

/** Why the read side stopped. */
export type ReadEnd =
  /** The peer closed its side cleanly. */
  | "eof"
  /** A frame length outside the limits, or the stream ended inside a frame. */
  | "malformed"
  /** The connection failed or was closed locally. */
  | "failed";

/** The per-protocol limits and deadlines of a connection. */
export interface ConnectionLimits extends FrameLimits {
  /** First read buffer size; it grows while reads fill it. Default 1,024 bytes. */
  initialReadBufferBytes?: number;
  /** Received frames stay valid after later reads (zero-copy forwarding). Default false. */
  retainFrames?: boolean;
  /** Frames waiting behind a write in progress before the peer counts as too slow. Default: unbounded. */
  maxQueueFrames?: number;
  /** Bytes waiting behind a write in progress before the peer counts as too slow. Default: unbounded. */
  maxQueueBytes?: number;
  /** Close when no whole frame arrives for this long while waiting for one. Default 0: never. */
  idleTimeoutMs?: number;
  /** Close unless the owner calls `completeHandshake()` this soon after opening. Default 0: never. */
  handshakeTimeoutMs?: number;
  /** Close when one write takes longer than this. Default 0: never. */
  writeTimeoutMs?: number;
}

/** Options for {@linkcode FrameConnection}; one object may be shared by many connections. */
export interface FrameConnectionOptions extends ConnectionLimits {
  /** Time source of the deadlines (ms). Default `performance.now()`. */
  clock?: { now(): number };
  /** Called once, synchronously, when a connection closes (its queue is already dropped). */
  onClose?(conn: FrameConnection): void;
}

/** Where a connection comes from. */
export interface RemoteAddress {
  /** IP address. */
  hostname: string;
  /** TCP port. */
  port: number;
}

const SYSTEM_CLOCK = { now: () => performance.now() };
const CLOSED_ERROR = "Connection closed";

/**
 * Frames over one stream connection. Writes are queued and coalesced: frames queued in the same
 * tick, or while a write is in progress, go out together in one write, and never interleave.
 * Deadlines are checked by {@linkcode FrameConnection.enforceDeadlines} (the server sweeps).
 */
export class FrameConnection {
  /** The peer's address. */
  get remote(): RemoteAddress {
    return this.#conn.remoteAddr as Deno.NetAddr;
  }
  /** When the connection opened, on the clock of the options. */
  readonly openedAt: number;
  /** Why it closed or stopped reading ("idle timeout", a frame error, …), if it did. */
  closeReason: string | null = null;
  /** How it closed, once closed. */
  closeKind: CloseKind | null = null;
  /** Why the read side stopped, once it did. */
  readEnd: ReadEnd | null = null;
  #conn: Deno.Conn;
  #options: FrameConnectionOptions;
  #clock: { now(): number };
  #reader: FrameReader;
  // Created with the first frame sent: a connection that only reads stays small.
  #writer: FrameWriter | null = null;
  #readSince = -1;
  #handshaken: boolean;
  #closed = false;

  /** Wraps an open connection. */
  constructor(conn: Deno.Conn, options: FrameConnectionOptions = {}) {
    this.#conn = conn;
    this.#options = options;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.openedAt = this.#clock.now();
    this.#handshaken = !(options.handshakeTimeoutMs! > 0);
    this.#reader = new FrameReader(conn, {
      ...(options.minFrameBytes === undefined
        ? {}
        : { minFrameBytes: options.minFrameBytes }),
      ...(options.maxFrameBytes === undefined
        ? {}
        : { maxFrameBytes: options.maxFrameBytes }),
      ...(options.initialReadBufferBytes === undefined
        ? {}
        : { initialBufferBytes: options.initialReadBufferBytes }),
      retainFrames: options.retainFrames ?? false,
      peer: `"${formatAddress(this.remote)}"`,
    });
  }

  /** True once closed by either side. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Frames queued or being written. */
  get queuedFrames(): number {
    return this.#writer?.frames ?? 0;
  }

  /**
   * Yields frame bodies until the peer closes, the connection idles out, or a frame is
   * malformed (then `closeReason` says why); the connection is closed when it ends.
   */
  async *frames(): AsyncGenerator<Uint8Array<ArrayBuffer>> {
    try {
      for (;;) {
        const body = await this.readOne();
        if (body === null) return;
        yield body;
      }
    } finally {
      this.close();
    }
  }

  /** Reads the next frame body (a copy), or null and closes when the connection ends or a frame is malformed. */
  async readOne(): Promise<Uint8Array<ArrayBuffer> | null> {
    const frame = await this.readFrame();
    if (frame === null) {
      this.close();
      return null;
    }
    return frame.slice(FRAME_HEADER_BYTES);
  }

  /**
   * The next whole frame, length prefix included, as a view (valid until the next read unless
   * frames are retained); null when reading stopped (`readEnd` says why). Writing goes on.
   */
  readFrame(): Promise<Uint8Array | null> {
    const frame = this.bufferedFrame();
    if (frame !== undefined) return Promise.resolve(frame);
    if (this.readEnd !== null) return Promise.resolve(null);
    this.#readSince = this.#clock.now();
    return this.#readMore();
  }

  // A promise chain, not an async function: an idle connection waits here, and a suspended
  // async function costs it memory.
  #readMore(): Promise<Uint8Array | null> {
    try {
      return this.#conn.read(this.#reader.space()).then(
        this.#onRead,
        this.#onReadError,
      );
    } catch (error) {
      return Promise.resolve(this.#onReadError(error as Error));
    }
  }

  /** A whole frame already received, without waiting; undefined when none (or reading stopped). */
  bufferedFrame(): Uint8Array | undefined {
    if (this.readEnd !== null) return undefined;
    try {
      return this.#reader.buffered();
    } catch (error) {
      this.#stopReading(error as Error);
      return undefined;
    }
  }

  /** Marks the protocol's handshake done: the handshake deadline no longer applies. */
  completeHandshake(): void {
    this.#handshaken = true;
  }

  /** Frames `body` and resolves once it is written; rejects when the connection closes first. */
  send(body: Uint8Array): Promise<void> {
    try {
      return this.writeFrame(encodeFrame(body, this.#options));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Queues a whole frame and resolves once it is written; rejects when the connection closes first. */
  writeFrame(frame: Uint8Array): Promise<void> {
    if (!this.sendFrame(frame)) {
      return Promise.reject(
        new Deno.errors.BrokenPipe(this.closeReason ?? CLOSED_ERROR),
      );
    }
    return this.#writer!.written();
  }

  /**
   * Queues a whole frame without copying it (its bytes must not change until written). False
   * when closed, or when the backlog behind a write in progress would go over the queue caps:
   * then the connection closes as too slow.
   */
  sendFrame(frame: Uint8Array): boolean {
    if (this.#closed) return false;
    const writer = this.#writer ??= new FrameWriter(
      this.#conn,
      this.#clock,
      this.#options,
      (error) => this.close(`write failed: ${error.message}`, "write_failed"),
    );
    const overflow = writer.push(frame);
    if (overflow === null) return true;
    this.close(overflow, "slow");
    return false;
  }

  /** Resolves when everything queued is written, or the connection closed. */
  drained(): Promise<void> {
    return this.#writer?.drained() ?? Promise.resolve();
  }

  /** Closes on a passed deadline; the server calls this periodically with the current time. */
  enforceDeadlines(now: number): void {
    if (this.#closed) return;
    const { writeTimeoutMs, idleTimeoutMs, handshakeTimeoutMs } = this.#options;
    const writeStartedAt = this.#writer?.writeStartedAt ?? -1;
    if (
      writeTimeoutMs! > 0 && writeStartedAt >= 0 &&
      now - writeStartedAt > writeTimeoutMs!
    ) {
      this.close(
        `a write took longer than ${writeTimeoutMs} ms`,
        "write_timeout",
      );
    } else if (this.readEnd !== null) {
      // The owner is flushing its last writes: only the write deadline applies.
    } else if (
      !this.#handshaken && now - this.openedAt > handshakeTimeoutMs!
    ) {
      this.close(
        `no handshake within ${handshakeTimeoutMs} ms`,
        "handshake_timeout",
      );
    } else if (
      idleTimeoutMs! > 0 && this.#readSince >= 0 &&
      now - this.#readSince > idleTimeoutMs!
    ) {
      this.close("idle timeout", "idle");
    }
  }

  /** Closes the connection and drops the queue; pending writes reject. Idempotent. */
  close(reason?: string, kind: CloseKind = "normal"): void {
    if (this.#closed) return;
    this.#closed = true;
    this.closeKind = kind;
    if (reason !== undefined) this.closeReason = reason;
    this.readEnd ??= "failed";
    this.#writer?.close(
      new Deno.errors.BrokenPipe(this.closeReason ?? CLOSED_ERROR),
    );
    try {
      this.#conn.close();
    } catch {
      // already closed by the peer
    }
    this.#options.onClose?.(this);
  }

  /** Waits for pending writes, then closes. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.drained();
    this.close();
  }

  // Bound once: a pending read then costs no closure of its own.
  #onRead = (
    n: number | null,
  ): Uint8Array | null | Promise<Uint8Array | null> => {
    const reader = this.#reader;
    try {
      if (n === null) {
        reader.ended();
        this.readEnd ??= "eof";
      } else {
        reader.received(n);
        const frame = this.bufferedFrame();
        if (frame === undefined && this.readEnd === null) {
          return this.#readMore();
        }
        this.#readSince = -1;
        return frame ?? null;
      }
    } catch (error) {
      this.#stopReading(error as Error);
    }
    this.#readSince = -1;
    return null;
  };

  #onReadError = (error: Error): null => {
    this.#readSince = -1;
    this.#stopReading(error);
    return null;
  };

  #stopReading(error: Error): void {
    const malformed = error instanceof RangeError ||
      error instanceof SyntaxError;
    this.readEnd = malformed ? "malformed" : "failed";
    if (this.closeReason === null && (malformed || !this.#closed)) {
      this.closeReason = error.message;
    }
  }
}

/** `host:port`, with brackets around an IPv6 host. */
export function formatAddress(address: RemoteAddress): string {
  return address.hostname.includes(":")
    ? `[${address.hostname}]:${address.port}`
    : `${address.hostname}:${address.port}`;
}
