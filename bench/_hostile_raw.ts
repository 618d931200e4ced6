/**
 * Raw sockets for the hostile-peers benchmark's attackers: `node:net` (and `node:tls`) so that
 * each attacker can dial from a loopback source address of its own (127.0.0.x), away from
 * the honest consumer's 127.0.0.1 and so from its per-address caps.
 */
import net from "node:net";
import tls from "node:tls";

/** Outcome of waiting for a frame. */
export type FrameWait = Uint8Array | "closed" | "timeout";

/** A client socket that collects what it receives and notices when the server closes it. */
export class RawConn {
  /** True once the socket closed (either side). */
  closed = false;
  /** True when the server ended or reset the connection (not our own destroy). */
  closedByPeer = false;
  /** When it opened and closed (performance.now()). */
  openedAt = performance.now();
  closedAt = -1;
  /** Bytes received so far and not yet taken as frames. */
  #buffer = new Uint8Array(0);
  #socket: net.Socket;
  #wake: (() => void) | null = null;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on("data", (chunk: Uint8Array) => {
      const next = new Uint8Array(this.#buffer.length + chunk.length);
      next.set(this.#buffer);
      next.set(chunk, this.#buffer.length);
      this.#buffer = next;
      this.#poke();
    });
    const gone = (byPeer: boolean) => {
      if (this.closed) return;
      this.closed = true;
      this.closedByPeer = byPeer;
      this.closedAt = performance.now();
      this.#poke();
    };
    socket.on("end", () => {
      gone(true);
      socket.destroy();
    });
    socket.on("error", () => gone(true));
    socket.on("close", () => gone(true));
    socket.setNoDelay(true);
  }

  /** Dials `host:port` from `localAddress`; rejects when the connect fails or times out. */
  static open(
    host: string,
    port: number,
    localAddress?: string,
    timeoutMs = 3_000,
  ): Promise<RawConn> {
    return connected(
      net.connect({ host, port, ...(localAddress ? { localAddress } : {}) }),
      "connect",
      timeoutMs,
    ).then((socket) => new RawConn(socket));
  }

  /** Dials with TLS (certificate not checked: attackers do not care who answers). */
  static async openTls(
    host: string,
    port: number,
    localAddress?: string,
    timeoutMs = 5_000,
  ): Promise<RawConn> {
    const tcp = await connected(
      net.connect({ host, port, ...(localAddress ? { localAddress } : {}) }),
      "connect",
      timeoutMs,
    );
    const secure = tls.connect({ socket: tcp, rejectUnauthorized: false });
    return new RawConn(await connected(secure, "secureConnect", timeoutMs));
  }

  /** Writes bytes; false when closed (or the write failed). */
  write(bytes: Uint8Array | string): boolean {
    if (this.closed) return false;
    try {
      this.#socket.write(bytes);
      return true;
    } catch {
      return false;
    }
  }

  /** Stops reading: what the server sends piles up in its socket buffers and queues. */
  stopReading(): void {
    this.#socket.pause();
  }

  /** Resolves once the socket's write buffer has drained, it closed, or `maxMs` passed. */
  drained(maxMs = 1_000): Promise<void> {
    if (this.closed || this.#socket.writableLength === 0) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#socket.off("drain", done);
        this.#socket.off("close", done);
        resolve();
      };
      // A "drain" that never comes (a stalled peer) must not stall the attack past its end.
      const timer = setTimeout(done, maxMs);
      this.#socket.once("drain", done);
      this.#socket.once("close", done);
    });
  }

  /** Ends our side (FIN) while still reading. */
  endWrite(): void {
    if (!this.closed) this.#socket.end();
  }

  /** Everything received so far, as text. */
  text(): string {
    return new TextDecoder().decode(this.#buffer);
  }

  /** The next length-prefixed frame body, or why there is none. */
  async nextFrame(timeoutMs: number): Promise<FrameWait> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (this.#buffer.length >= 4) {
        const length = new DataView(
          this.#buffer.buffer,
          this.#buffer.byteOffset,
        ).getUint32(0);
        if (this.#buffer.length >= 4 + length) {
          const body = this.#buffer.slice(4, 4 + length);
          this.#buffer = this.#buffer.slice(4 + length);
          return body;
        }
      }
      if (this.closed) return "closed";
      const left = deadline - performance.now();
      if (left <= 0) return "timeout";
      await this.#sleepUntilPoked(left);
    }
  }

  /** Resolves true once closed, false when `timeoutMs` passes first. */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (!this.closed) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      await this.#sleepUntilPoked(left);
    }
    return true;
  }

  /** Resolves once some text matching `re` arrived, or on close or timeout; the text so far. */
  async waitText(re: RegExp, timeoutMs: number): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    while (!re.test(this.text()) && !this.closed) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      await this.#sleepUntilPoked(left);
    }
    return this.text();
  }

  /** Closes at once. */
  destroy(): void {
    if (!this.closed) {
      this.closed = true;
      this.closedAt = performance.now();
    }
    this.#socket.destroy();
    this.#poke();
  }

  #poke(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  #sleepUntilPoked(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = null;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

function connected<S extends net.Socket>(
  socket: S,
  event: "connect" | "secureConnect",
  timeoutMs: number,
): Promise<S> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${event} timed out`));
    }, timeoutMs);
    socket.once(event, () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      // Errors after connecting are seen through "close"; none may go unhandled.
      socket.on("error", () => {});
      resolve(socket);
    });
    socket.once("error", (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    });
  });
}

/** `[uint32 big-endian length][body]`. */
export function frameOf(body: Uint8Array): Uint8Array {
  const frame = new Uint8Array(4 + body.length);
  new DataView(frame.buffer).setUint32(0, body.length);
  frame.set(body, 4);
  return frame;
}

/** Source addresses for attackers: `127.0.<block>.<1..count>`. */
export function sources(block: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `127.0.${block}.${i + 1}`);
}

/** Runs `worker` on `n` concurrent loops until `until` (performance.now()) passes. */
export async function loops(
  n: number,
  until: number,
  worker: (index: number) => Promise<void>,
): Promise<void> {
  await Promise.all(
    Array.from({ length: n }, async (_, index) => {
      while (performance.now() < until) await worker(index);
    }),
  );
}

/** Counts of one attack, printed by the attacker process as one JSON line. */
export interface AttackCounts {
  /** Attack packets (messages, frames, connections or requests) sent. */
  sent: number;
  /** Of those, refused by the target (closed without reply, an error code, a drop counted, …). */
  rejected: number;
  /** What "sent" and "rejected" count, and anything odd seen. */
  note: string;
}
