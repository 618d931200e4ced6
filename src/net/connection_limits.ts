/** What a framed connection allows and how it ends: limits, deadlines, close and read-end kinds, addresses. */
import type { FrameLimits } from "./frame_reader.ts";
import type { QueueBudget } from "./queue_budget.ts";

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
  | "write_failed"
  /** Closed to make room for a new connection at the server's connection cap. */
  | "evicted";

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
  /** The largest body accepted now, asked as each frame's prefix arrives (`FrameReaderOptions.frameLimit`). */
  frameLimit?: () => number;
  /** First read buffer size; it grows while reads fill it. Default 1,024 bytes. */
  initialReadBufferBytes?: number;
  /** Received frames stay valid after later reads (zero-copy forwarding). Default false. */
  retainFrames?: boolean;
  /** Frames waiting behind a write in progress before the peer counts as too slow. Default: unbounded. */
  maxQueueFrames?: number;
  /** Bytes waiting behind a write in progress before the peer counts as too slow. Default: unbounded. */
  maxQueueBytes?: number;
  /** A byte budget for the waiting bytes of all connections sharing it. Default: none. */
  queueBudget?: QueueBudget;
  /** Close when no whole frame arrives for this long while waiting for one. Default 0: never. */
  idleTimeoutMs?: number;
  /** Close unless the owner calls `completeHandshake()` this soon after opening. Default 0: never. */
  handshakeTimeoutMs?: number;
  /** Close when one write takes longer than this. Default 0: never. */
  writeTimeoutMs?: number;
}

/** Where a connection comes from. */
export interface RemoteAddress {
  /** IP address. */
  hostname: string;
  /** TCP port. */
  port: number;
}

/** `host:port`, with brackets around an IPv6 host. */
export function formatAddress(address: RemoteAddress): string {
  return address.hostname.includes(":")
    ? `[${address.hostname}]:${address.port}`
    : `${address.hostname}:${address.port}`;
}
