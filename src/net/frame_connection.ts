/** A TCP connection carrying length-prefixed frames: serialized single writes, bounded reads. */
import { encodeFrame, FrameDecoder, MAX_FRAME_BYTES } from "../wire/mod.ts";

const READ_BUFFER_BYTES = 64 * 1024;

/** Options for {@linkcode FrameConnection}. */
export interface FrameConnectionOptions {
  /** Largest accepted frame body. Default 1 MiB. */
  maxFrameBytes?: number;
  /** Close after this long without receiving anything. Default: never. */
  idleTimeoutMs?: number;
}

/** Where a connection comes from. */
export interface RemoteAddress {
  hostname: string;
  port: number;
}

/** Frames over one stream connection. */
export class FrameConnection {
  readonly remote: RemoteAddress;
  #conn: Deno.Conn;
  #decoder: FrameDecoder;
  #idleMs: number;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #writing: Promise<void> = Promise.resolve();
  #closed = false;
  #buffer = new Uint8Array(READ_BUFFER_BYTES);
  /** Why the read side ended early ("idle", "oversized", …), if it did. */
  closeReason: string | null = null;

  constructor(conn: Deno.Conn, options: FrameConnectionOptions = {}) {
    this.#conn = conn;
    const addr = conn.remoteAddr as Deno.NetAddr;
    this.remote = { hostname: addr.hostname, port: addr.port };
    this.#decoder = new FrameDecoder({
      maxFrameBytes: options.maxFrameBytes ?? MAX_FRAME_BYTES,
    });
    this.#idleMs = options.idleTimeoutMs ?? 0;
  }

  /** True once closed by either side. */
  get closed(): boolean {
    return this.#closed;
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

  /** Reads the next frame body, or null when the connection ends or a frame is malformed. */
  async readOne(): Promise<Uint8Array<ArrayBuffer> | null> {
    for (;;) {
      try {
        const ready = this.#decoder.next();
        if (ready !== undefined) return ready;
      } catch (error) {
        this.closeReason = (error as Error).message;
        this.close();
        return null;
      }
      if (this.#closed) return null;
      this.#armIdle();
      let n: number | null;
      try {
        n = await this.#conn.read(this.#buffer);
      } catch {
        n = null;
      }
      if (n === null) {
        this.close();
        return null;
      }
      this.#decoder.push(this.#buffer.subarray(0, n));
    }
  }

  /** Sends one frame with a single write; writes are serialized per connection. */
  send(body: Uint8Array): Promise<void> {
    const frame = encodeFrame(body);
    const next = this.#writing.then(() => this.#writeAll(frame));
    this.#writing = next.catch(() => {});
    return next;
  }

  /** Closes the connection; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    try {
      this.#conn.close();
    } catch {
      // already closed by the peer
    }
  }

  /** Waits for pending writes, then closes. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#writing;
    this.close();
  }

  async #writeAll(frame: Uint8Array): Promise<void> {
    if (this.#closed) throw new Deno.errors.BrokenPipe("Connection closed");
    let offset = 0;
    while (offset < frame.length) {
      offset += await this.#conn.write(frame.subarray(offset));
    }
  }

  #armIdle(): void {
    if (this.#idleMs <= 0) return;
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      this.closeReason = "idle timeout";
      this.close();
    }, this.#idleMs);
  }
}
