/** A TCP connection carrying length-prefixed frames: bounded, coalesced writes; bounded reads; deadlines. */
import {
  encodeFrame,
  FRAME_HEADER_BYTES,
  FrameReader,
} from "./frame_reader.ts";
import { FrameWriter, WRITER_IDLE } from "./_frame_writer.ts";
import { readerOptionsOf } from "./_reader_options.ts";
import type {
  CloseKind,
  ConnectionLimits,
  ReadEnd,
  RemoteAddress,
} from "./connection_limits.ts";

/**
 * Receives the next frame of {@linkcode FrameConnection.waitForFrame}: a whole frame, length
 * prefix included, as a view (valid until the next read unless frames are retained), or null
 * when reading stopped (`readEnd` says why).
 */
export type FrameCallback = (
  conn: FrameConnection,
  frame: Uint8Array | null,
) => void;

/** Options for {@linkcode FrameConnection}; one object may be shared by many connections. */
export interface FrameConnectionOptions extends ConnectionLimits {
  /** Time source of the deadlines (ms). Default `performance.now()`. */
  clock?: { now(): number };
  /** Called once, synchronously, when a connection closes (its queue is already dropped). */
  onClose?(conn: FrameConnection): void;
  /** Called once, synchronously, when an open connection completes its handshake. */
  onHandshake?(conn: FrameConnection): void;
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
  // Created when a frame is sent, dropped once everything is written: idle connections stay small.
  #writer: FrameWriter | null = null;
  #readSince = -1;
  #handshaken: boolean;
  #closed = false;
  // Set while waitForFrame() waits: the bytes read are handed to it instead of to a promise.
  #waiting: FrameCallback | null = null;

  /** Wraps an open connection. */
  constructor(conn: Deno.Conn, options: FrameConnectionOptions = {}) {
    this.#conn = conn;
    this.#options = options;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.openedAt = this.#clock.now();
    this.#handshaken = !(options.handshakeTimeoutMs! > 0);
    this.#reader = new FrameReader(conn, readerOptionsOf(options));
  }

  /** True once closed by either side. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * When it started waiting for the frame it now waits for (the clock of its options), or -1
   * when it is not waiting (its owner is handling a frame) or it has no idle deadline.
   */
  get waitingSince(): number {
    return this.#readSince;
  }

  /** True once the owner called `completeHandshake()`, or when there is no handshake deadline. */
  get handshaken(): boolean {
    return this.#handshaken;
  }

  /** Frames queued or being written. */
  get queuedFrames(): number {
    return this.#writer?.frames ?? 0;
  }

  /** Bytes waiting behind the write in progress. */
  get waitingBytes(): number {
    return this.#writer?.waitingBytes ?? 0;
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
    this.#startWaiting();
    return this.#readMore();
  }

  /**
   * Calls `callback` once with the next whole frame, or with null when reading stopped (as
   * {@linkcode readFrame} resolves). A connection waiting this way holds no promise or suspended
   * function of its owner: the cheapest way for many idle connections to wait. One wait at a
   * time; an exception from `callback` closes the connection.
   */
  waitForFrame(callback: FrameCallback): void {
    const frame = this.bufferedFrame();
    if (frame !== undefined || this.readEnd !== null) {
      this.#deliverSoon(callback, frame ?? null);
      return;
    }
    this.#waiting = callback;
    this.#startWaiting();
    // Settles with null once the callback has the frame: nothing waits on it.
    this.#readMore();
  }

  // A promise chain, not an async function: an idle connection waits here, and a suspended
  // async function costs it memory.
  #readMore(): Promise<Uint8Array | null> {
    try {
      return this.#conn.read(this.#reader.space()).then(
        this.#onRead,
        this.#onRead,
      );
    } catch (error) {
      return Promise.resolve(this.#readDone(error as Error));
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

  /**
   * Declares that no frame read so far is referenced any more (with `retainFrames`): the read
   * buffer is then reused instead of replaced. Releasing a frame still in use corrupts it.
   */
  releaseFrames(): void {
    this.#reader.releaseFrames();
  }

  /** Marks the protocol's handshake done: the handshake deadline no longer applies. */
  completeHandshake(): void {
    if (this.#handshaken) return;
    this.#handshaken = true;
    if (!this.#closed) this.#options.onHandshake?.(this);
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
      this,
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

  /** True when, at `now`, one write has been in progress for longer than `writeTimeoutMs`. */
  writeOverdue(now: number): boolean {
    const writeTimeoutMs = this.#options.writeTimeoutMs!;
    const writeStartedAt = this.#writer?.writeStartedAt ?? -1;
    return !this.#closed && writeTimeoutMs > 0 && writeStartedAt >= 0 &&
      now - writeStartedAt > writeTimeoutMs;
  }

  /**
   * Closes on a passed deadline; the server calls this periodically with the current time.
   * With `writes` false the write deadline is left out (the server is overloaded, see
   * `TcpServer`); the queue caps still apply.
   */
  enforceDeadlines(now: number, writes = true): void {
    if (this.#closed) return;
    const { writeTimeoutMs, idleTimeoutMs, handshakeTimeoutMs } = this.#options;
    if (writes && this.writeOverdue(now)) {
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

  /**
   * The writer has nothing left to do (its call, private to `net/`): it is dropped.
   *
   * @ignore
   */
  [WRITER_IDLE](writer: FrameWriter): void {
    if (this.#writer === writer) this.#writer = null;
  }

  /** Waits for pending writes, then closes. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.drained();
    this.close();
  }

  // Bound once, and one function for both outcomes: a waiting connection holds one bound
  // function rather than two closures and their context.
  #onRead = this.#readDone.bind(this);

  /** A read resolved to a count or null (the end), or rejected (with anything else). */
  #readDone(result: unknown): Uint8Array | null | Promise<Uint8Array | null> {
    if (typeof result !== "number" && result !== null) {
      this.#stopReading(
        result instanceof Error ? result : new Error(String(result)),
      );
      return this.#settle(null);
    }
    const n = result;
    const reader = this.#reader;
    let frame: Uint8Array | null = null;
    try {
      if (n === null) {
        reader.ended();
        this.readEnd ??= "eof";
      } else {
        reader.received(n);
        const next = this.bufferedFrame();
        if (next === undefined && this.readEnd === null) {
          return this.#readMore();
        }
        frame = next ?? null;
      }
    } catch (error) {
      this.#stopReading(error as Error);
    }
    return this.#settle(frame);
  }

  /** The read is over: the frame goes to the waiting callback, if any, else to the promise. */
  #settle(frame: Uint8Array | null): Uint8Array | null {
    this.#readSince = -1;
    const callback = this.#waiting;
    if (callback === null) return frame;
    this.#waiting = null;
    this.#deliver(callback, frame);
    return null;
  }

  // Only an idle deadline needs the time: without one, a waiting connection holds no number.
  #startWaiting(): void {
    if (this.#options.idleTimeoutMs! > 0) this.#readSince = this.#clock.now();
  }

  // A method of its own: the closure would otherwise cost every waitForFrame() a context.
  #deliverSoon(callback: FrameCallback, frame: Uint8Array | null): void {
    queueMicrotask(() => this.#deliver(callback, frame));
  }

  #deliver(callback: FrameCallback, frame: Uint8Array | null): void {
    try {
      callback(this, frame);
    } catch (error) {
      this.close(`Cannot handle frame: ${(error as Error).message}`);
    }
  }

  #stopReading(error: Error): void {
    const malformed = error instanceof RangeError ||
      error instanceof SyntaxError;
    this.readEnd = malformed ? "malformed" : "failed";
    if (this.closeReason === null && (malformed || !this.#closed)) {
      this.closeReason = error.message;
    }
  }
}
