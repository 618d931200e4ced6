/** The options, handler and counters of a protocol listener ({@linkcode TcpServer}). */
import type { Logger } from "../util/mod.ts";
import type { FrameConnection } from "./frame_connection.ts";
import type { FrameConnectionOptions } from "./frame_connection.ts";
import type { ConnectionLimits, RemoteAddress } from "./connection_limits.ts";

/** Options for {@linkcode TcpServer.listen}: the address, the caps, and each connection's limits. */
export interface TcpServerOptions<
  C extends FrameConnection = FrameConnection,
> extends ConnectionLimits {
  /** Interface to listen on. */
  hostname: string;
  /** 0 picks a free port. */
  port: number;
  /** Concurrent inbound connections; excess are closed at accept. Default 256. */
  maxConnections?: number;
  /** Concurrent inbound connections from one remote address. Default 64. */
  maxConnectionsPerAddress?: number;
  /** Idle timeout per connection in ms (0: none). Default 120 000. */
  idleTimeoutMs?: number;
  /**
   * At `maxConnections`, close a connection waiting for a frame to make room, rather than
   * refusing the newcomer: idle and slow-dripping connections cannot lock honest peers out.
   * Silent ones (no whole frame yet) go first: the oldest of the address holding the most of
   * them; a newcomer from an address holding silent ones itself, within one of the most, is
   * refused instead (a flood from many addresses is then refused at accept rather than
   * churned through accept, read and eviction). Without silent ones, the connection idle
   * longest goes. Needs an idle timeout. Default false.
   */
  evictWhenFull?: boolean;
  /** Largest frame body. Default 1 MiB. */
  maxFrameBytes?: number;
  /** How often deadlines are checked, in ms. Default: a quarter of the shortest, 10 to 1,000. */
  sweepIntervalMs?: number;
  /** Advice after "address in use" when the port is taken ("" for none). Default: stop the other process or choose another port. */
  inUseAdvice?: string;
  /** Time source of the deadlines (ms). Default `performance.now()`. */
  clock?: { now(): number };
  /** Called for each connection refused at accept; default: a warning in the log. */
  onRefused?(remote: RemoteAddress, limit: "total" | "per_address"): void;
  /** Called once, synchronously, when an accepted connection closes. */
  onClose?(conn: C): void;
  /**
   * The class of the accepted connections: a subclass of FrameConnection may keep what a
   * protocol needs per connection, without an object or a map entry of its own. Default
   * FrameConnection.
   */
  connectionClass?: new (
    conn: Deno.Conn,
    options: FrameConnectionOptions,
  ) => C;
  /** Default: silent. */
  logger?: Logger;
}

/**
 * Called for each accepted connection. When it returns a promise, the server closes the
 * connection once the promise settles, and `close()` waits for it; a handler that returns
 * nothing owns the connection until the connection closes (then the server holds nothing for
 * it but the connection: the cheapest way to serve many idle connections).
 */
export type ConnectionHandler<C extends FrameConnection = FrameConnection> = (
  conn: C,
) => Promise<void> | void;

/** Counters of refused connections. */
export interface TcpServerStats {
  /** Connections accepted. */
  accepted: number;
  /** Connections refused by `maxConnections`. */
  refusedTotal: number;
  /** Connections refused by `maxConnectionsPerAddress`. */
  refusedPerAddress: number;
  /** Connections closed to make room at `maxConnections` (`evictWhenFull`). */
  evicted: number;
  /** Sweeps that left the write deadline out: too many writes overdue at once (overload). */
  overloadedSweeps: number;
}
