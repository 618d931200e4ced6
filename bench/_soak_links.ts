/**
 * The connections of the relay soak's agents: a `node:net` socket for a reading agent, and for
 * a slow consumer a `Deno.connect` connection that reads until its registration is answered and
 * never again (a paused `node:net` socket still reads into its stream buffer).
 */
import type { Socket } from "node:net";

/** Where the relay listens. */
export interface RelayAddress {
  host: string;
  port: number;
}

/** An agent's connection as the soak drives it. */
export interface AgentLink {
  /** Queues bytes (in order, never interleaved). */
  write(bytes: Uint8Array): void;
  /** The registration was answered. */
  registered(): void;
  /** Bytes written but still held by this process (not yet handed to the kernel). */
  queuedBytes(): number;
  /** Closes and waits until closed. */
  close(): Promise<void>;
}

export function socketLink(socket: Socket): AgentLink {
  return {
    write: (bytes) => void socket.write(bytes),
    registered: () => {},
    queuedBytes: () => socket.writableLength,
    close: () =>
      new Promise<void>((resolve) => {
        if (socket.destroyed) return resolve();
        socket.once("close", () => resolve());
        socket.destroy();
      }),
  };
}

/** A connection that reads until its registration is answered, then never again. */
export class SilentLink implements AgentLink {
  #conn: Deno.TcpConn;
  #queue: Uint8Array[] = [];
  #writing = false;
  #reading = true;
  #closed = false;
  #onClose: (reason: string) => void;

  private constructor(conn: Deno.TcpConn, onClose: (reason: string) => void) {
    this.#conn = conn;
    this.#onClose = onClose;
  }

  static async open(
    options: RelayAddress,
    onData: (chunk: Uint8Array) => void,
    onClose: (reason: string) => void,
  ): Promise<SilentLink> {
    const conn = await Deno.connect({
      hostname: options.host,
      port: options.port,
    });
    conn.setNoDelay(true);
    const link = new SilentLink(conn, onClose);
    void link.#readUntilRegistered(onData);
    return link;
  }

  async #readUntilRegistered(
    onData: (chunk: Uint8Array) => void,
  ): Promise<void> {
    const buffer = new Uint8Array(4096);
    while (this.#reading) {
      const n = await this.#conn.read(buffer).catch(() => null);
      if (n === null) return this.#fail("closed by the relay");
      onData(buffer.slice(0, n));
    }
  }

  registered(): void {
    this.#reading = false;
  }

  queuedBytes(): number {
    let bytes = 0;
    for (const chunk of this.#queue) bytes += chunk.length;
    return bytes;
  }

  write(bytes: Uint8Array): void {
    if (this.#closed) return;
    this.#queue.push(bytes);
    if (!this.#writing) void this.#pump();
  }

  async #pump(): Promise<void> {
    this.#writing = true;
    try {
      for (
        let bytes = this.#queue.shift();
        bytes;
        bytes = this.#queue.shift()
      ) {
        for (let offset = 0; offset < bytes.length;) {
          offset += await this.#conn.write(bytes.subarray(offset));
        }
      }
    } catch (error) {
      this.#fail(`write failed: ${(error as Error).message}`);
    }
    this.#writing = false;
  }

  #fail(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#onClose(reason);
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }

  close(): Promise<void> {
    this.#fail("closed by the soak");
    return Promise.resolve();
  }
}
