/** The options and collaborators of a keep relay ({@linkcode RelayServer}). */
import type { Identity } from "../crypto/mod.ts";
import type { Logger } from "../util/mod.ts";
import type { Clock } from "./clock.ts";

/** Options for {@linkcode RelayServer.start}; the defaults are those of the `[relay]` config section. */
export interface RelayServerOptions {
  /** Interface to listen on. Default "0.0.0.0". */
  host?: string;
  /** TCP port; 0 picks a free one (read it back from `port`). Default 9009. */
  port?: number;
  /** Version reported by `discover:info`. Default "0.5.0". */
  version?: string;
  /** Milliseconds between heartbeats to registered connections. Default 60,000. */
  heartbeatIntervalMs?: number;
  /** Open connections allowed in total. Default 10,000. */
  maxConnections?: number;
  /** Open connections allowed per remote IP address. Default 1,000. */
  maxConnectionsPerIp?: number;
  /** Sustained packets per second per connection (`Infinity` turns metering off). Default 1,000. */
  rateLimit?: number;
  /** Packets a connection may send at once before being metered. Default 2,000. */
  rateBurst?: number;
  /** Frames waiting for one receiver behind its write in progress before it is disconnected as too slow. Default 1,024. */
  maxQueue?: number;
  /** Bytes waiting for one receiver behind its write in progress before it is disconnected as too slow. Default 8 MiB. */
  maxQueueBytes?: number;
  /**
   * Bytes waiting for all receivers together; over it, the receiver with the most is
   * disconnected as too slow (many slow readers cannot hold unbounded memory). Default 256 MiB.
   */
  maxQueueBytesTotal?: number;
  /** Milliseconds a connection may stay open without registering an identity. Default 30,000. */
  idleTimeoutMs?: number;
  /** Milliseconds one write may take before the connection is closed. Default 10,000. */
  writeTimeoutMs?: number;
  /** Pin each identity to the first public key that registers it. Default false. */
  bindIdentities?: boolean;
  /** Who may take over an identity an open connection holds: its own key only, or any key (the original). Default "same_key". */
  takeover?: "same_key" | "any";
  /** Sign replies and heartbeats with the relay key (`sig`/`pk`). Default true. */
  signReplies?: boolean;
  /** Milliseconds between checks for unregistered connections and overdue writes. Default: a quarter of the shorter deadline, 10 to 1,000. */
  sweepIntervalMs?: number;
}

/** Collaborators of {@linkcode RelayServer}. */
export interface RelayServerDeps {
  /** The relay's own key; generated when absent. */
  identity?: Identity;
  /** Where the relay logs; default: silent. */
  logger?: Logger;
  /** The time source of deadlines, rates and uptime; default: `performance.now()`. */
  clock?: Clock;
}
