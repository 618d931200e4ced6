/** Raw-socket peers and small waits for the relay's end-to-end tests. */
import type { Identity } from "../src/crypto/mod.ts";
import {
  decodePacket,
  encodeFrame,
  encodePacket,
  FrameReader,
  RelayServer,
  signPacket,
} from "../src/relay/mod.ts";
import type {
  Packet,
  PacketInit,
  RelayServerDeps,
  RelayServerOptions,
} from "../src/relay/mod.ts";

/** A relay on 127.0.0.1 and a free port, unsigned replies unless asked (byte-exact vectors). */
export function startRelay(
  options: RelayServerOptions = {},
  deps: RelayServerDeps = {},
): Promise<RelayServer> {
  return RelayServer.start(deps, {
    host: "127.0.0.1",
    port: 0,
    signReplies: false,
    ...options,
  });
}

/** The framed, signed encoding of a packet. */
export async function signedFrame(
  identity: Identity,
  init: PacketInit,
): Promise<Uint8Array> {
  return encodeFrame(encodePacket(await signPacket(init, identity)));
}

/** A client speaking raw frames, like the raw-socket scripts of the original protocol. */
export class RawPeer {
  readonly conn: Deno.TcpConn;
  #reader: FrameReader;

  private constructor(conn: Deno.TcpConn) {
    this.conn = conn;
    this.#reader = new FrameReader(conn);
  }

  static async connect(port: number): Promise<RawPeer> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    return new RawPeer(conn);
  }

  /** Writes all bytes. */
  async write(bytes: Uint8Array): Promise<void> {
    for (let offset = 0; offset < bytes.length;) {
      offset += await this.conn.write(bytes.subarray(offset));
    }
  }

  /** Signs and writes a packet. */
  async send(identity: Identity, init: PacketInit): Promise<void> {
    await this.write(await signedFrame(identity, init));
  }

  /** The next frame (length prefix included); closes the socket and throws after `timeoutMs`. */
  async readFrame(timeoutMs = 5_000): Promise<Uint8Array> {
    const timer = setTimeout(() => this.close(), timeoutMs);
    try {
      const frame = await this.#reader.next();
      if (frame === null) {
        throw new Error("Connection closed while waiting for a frame");
      }
      return frame.slice();
    } catch (error) {
      throw new Error(
        `No frame within ${timeoutMs} ms: ${(error as Error).message}`,
        { cause: error },
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /** The next packet. */
  async readPacket(timeoutMs?: number): Promise<Packet> {
    return decodePacket((await this.readFrame(timeoutMs)).subarray(4));
  }

  /** The next packet that is not a heartbeat. */
  async readNonHeartbeat(timeoutMs?: number): Promise<Packet> {
    for (;;) {
      const packet = await this.readPacket(timeoutMs);
      if (!(packet.typ === 2 && packet.src === "server" && packet.dst === "")) {
        return packet;
      }
    }
  }

  /** Resolves when the relay closed the connection; fails if any byte arrives first. */
  async expectClosed(timeoutMs = 5_000): Promise<void> {
    const timer = setTimeout(() => this.close(), timeoutMs);
    const buffer = new Uint8Array(1);
    let result: number | null | "reset";
    try {
      result = await this.conn.read(buffer);
    } catch (error) {
      if (error instanceof Deno.errors.ConnectionReset) result = "reset";
      else {throw new Error(
          `Connection not closed by the relay within ${timeoutMs} ms`,
          { cause: error },
        );}
    } finally {
      clearTimeout(timer);
    }
    if (result !== null && result !== "reset") {
      throw new Error(`Expected the connection closed, got ${result} byte(s)`);
    }
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Polls `condition` every 5 ms; throws naming `what` after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean,
  what: string,
  timeoutMs = 5_000,
): Promise<void> {
  const start = performance.now();
  while (!condition()) {
    if (performance.now() - start > timeoutMs) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await delay(5);
  }
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
