/** How a node moves frame bodies: real TCP, or an in-memory network for simulations. */
import type { HostPort } from "../config/mod.ts";
import { dial, TcpServer, withDeadline } from "../net/mod.ts";
import type { FrameConnection } from "../net/mod.ts";
import type { Logger } from "../util/mod.ts";

/** What the node answers to one received body: reply bytes, nothing, or "close". */
export type BodyHandler = (
  body: Uint8Array,
  remoteHost: string,
) => Promise<Uint8Array | null | "close">;

/** A bound listener. */
export interface Listening {
  /** The bound host. */
  host: string;
  /** The bound port (the free one picked when asked for 0). */
  port: number;
  /** Stops accepting; the TCP transport also closes open connections and waits for their handlers. */
  close(): Promise<void>;
}

/** Options of one exchange. */
export interface ExchangeOptions {
  /** Deadline in ms, for connecting and again for the reply. */
  timeoutMs: number;
  /** Cancels the exchange; it rejects. */
  signal?: AbortSignal;
}

/** Moves frame bodies between nodes. */
export interface Transport {
  /** Sends one body on a fresh connection and resolves the first reply (null if none). */
  exchange(
    to: HostPort,
    body: Uint8Array,
    options: ExchangeOptions,
  ): Promise<Uint8Array | null>;
  /** Starts accepting; `port` 0 picks a free one. */
  listen(host: string, port: number, handler: BodyHandler): Promise<Listening>;
}

/** Listener limits of the TCP transport. */
export interface TcpTransportOptions {
  /** Concurrent inbound connections; excess are closed at accept. Default 256. */
  maxConnections?: number;
  /** Concurrent inbound connections from one remote address. Default 64. */
  maxConnectionsPerAddress?: number;
  /** Idle timeout per connection in ms. Default 120 000. */
  idleTimeoutMs?: number;
  /** A new connection must bring its first whole frame within this many ms. Default 10 000. */
  firstFrameTimeoutMs?: number;
  /** The largest frame body accepted now, asked as each frame's prefix arrives. Default 1 MiB. */
  frameLimit?: () => number;
  /** Told of a connection closed for a frame it could not read (too large, or cut short). */
  onMalformed?: (remoteHost: string, reason: string) => void;
  /** Default: silent. */
  logger?: Logger;
}

/** Real TCP sockets. */
export class TcpTransport implements Transport {
  #options: TcpTransportOptions;
  /** Takes the listener limits and logger for `listen()` (defaults: the TCP server's). */
  constructor(options: TcpTransportOptions = {}) {
    this.#options = options;
  }

  async exchange(
    to: HostPort,
    body: Uint8Array,
    options: ExchangeOptions,
  ): Promise<Uint8Array | null> {
    const conn = await dial(to.host, to.port, {
      timeoutMs: options.timeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    try {
      await conn.send(body);
      return await withDeadline(
        conn.readOne(),
        options.timeoutMs,
        conn,
        `Request to "${to.host}:${to.port}"`,
        options.signal,
      );
    } finally {
      conn.close();
    }
  }

  listen(host: string, port: number, handler: BodyHandler): Promise<Listening> {
    const { firstFrameTimeoutMs, onMalformed, ...limits } = this.#options;
    const server = TcpServer.listen({
      hostname: host,
      port,
      // Slow-dripping or silent connections time out and give way to new ones when full.
      handshakeTimeoutMs: firstFrameTimeoutMs ?? 10_000,
      evictWhenFull: true,
      ...limits,
    }, (conn) => serveFrames(conn, handler, onMalformed));
    return Promise.resolve({
      host: server.hostname,
      port: server.port,
      close: () => server.close(),
    });
  }
}

async function serveFrames(
  conn: FrameConnection,
  handler: BodyHandler,
  onMalformed?: (remoteHost: string, reason: string) => void,
): Promise<void> {
  for await (const body of conn.frames()) {
    conn.completeHandshake();
    const reply = await handler(body, conn.remote.hostname);
    if (reply === "close") return;
    if (reply) await conn.send(reply);
  }
  if (conn.readEnd === "malformed") {
    onMalformed?.(conn.remote.hostname, conn.closeReason ?? "malformed frame");
  }
}

/** An in-memory network of nodes: same bytes, no sockets. Counts every message. */
export class MemoryNetwork implements Transport {
  /** Bodies sent (requests and replies). */
  messages = 0;
  #handlers = new Map<string, BodyHandler>();
  #nextPort = 20_000;

  async exchange(
    to: HostPort,
    body: Uint8Array,
    options: ExchangeOptions,
  ): Promise<Uint8Array | null> {
    if (options.signal?.aborted) {
      throw new Error(`Request to "${to.host}:${to.port}" aborted`);
    }
    const handler = this.#handlers.get(`${to.host}:${to.port}`);
    if (!handler) {
      throw new Error(
        `Cannot connect to "${to.host}:${to.port}": connection refused`,
      );
    }
    this.messages++;
    const reply = await handler(body.slice(), "memory");
    if (reply === "close" || reply === null) return null;
    this.messages++;
    return reply;
  }

  listen(host: string, port: number, handler: BodyHandler): Promise<Listening> {
    const bound = port === 0 ? this.#nextPort++ : port;
    const key = `${host}:${bound}`;
    if (this.#handlers.has(key)) {
      throw new Error(`Cannot listen on "${key}": address in use`);
    }
    this.#handlers.set(key, handler);
    return Promise.resolve({
      host,
      port: bound,
      close: () => {
        this.#handlers.delete(key);
        return Promise.resolve();
      },
    });
  }
}
