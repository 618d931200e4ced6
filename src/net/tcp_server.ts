/** The protocol listener (Deno.listen): connection caps, per-address caps, one sweep for all deadlines. */
import type { Logger } from "../util/mod.ts";
import { LogThrottle, SILENT_LOGGER, sleep } from "../util/mod.ts";
import { FrameConnection } from "./frame_connection.ts";
import type { FrameConnectionOptions } from "./frame_connection.ts";
import { formatAddress } from "./connection_limits.ts";
import type {
  ConnectionHandler,
  TcpServerOptions,
  TcpServerStats,
} from "./tcp_server_options.ts";

export type {
  ConnectionHandler,
  TcpServerOptions,
  TcpServerStats,
} from "./tcp_server_options.ts";

const ACCEPT_RETRY_MS = 100;
// Writes overdue on more connections than this, and on more than this share of them, at one
// sweep are the server's own backlog, not slow peers: a saturated Deno process serves some
// sockets' I/O more than 10 s late (relay soak: offered 20,000 msg/s, a relay forwarding
// 13,000 cut 2,400 reading agents off, and at 10,000 msg/s with the two cores shared, 118 of
// 5,000; with the deadline left out every message arrived). A few non-readers among many
// connections are still cut off.
const OVERLOAD_MIN_OVERDUE = 16;
const OVERLOAD_OVERDUE_SHARE = 0.02;
const DEFAULT_IN_USE_ADVICE = "stop the other process or choose another port";

/** A TCP listener dispatching framed connections (of class `C`) to a handler. */
export class TcpServer<C extends FrameConnection = FrameConnection> {
  /** The bound host. */
  readonly hostname: string;
  /** The bound port (the free one picked when asked for 0). */
  readonly port: number;
  /** Accepted and refused connections since start. */
  readonly stats: TcpServerStats = {
    accepted: 0,
    refusedTotal: 0,
    refusedPerAddress: 0,
    evicted: 0,
    overloadedSweeps: 0,
  };
  #listener: Deno.TcpListener;
  #handler: ConnectionHandler<C>;
  #options: TcpServerOptions<C>;
  // Shared by every connection: the limits, and the close bookkeeping.
  #connectionOptions: FrameConnectionOptions;
  #connectionClass: new (conn: Deno.Conn, options: FrameConnectionOptions) => C;
  #logger: Logger;
  // A connection flood would otherwise write a warning per refused connection (overload
  // warnings, one per sweep, share it).
  #refusals: LogThrottle;
  #open = new Set<C>();
  #perAddress = new Map<string, number>();
  /** Open connections that have not completed their handshake (sent no whole frame), by address. */
  #silent = new Map<string, number>();
  #tasks = new Set<Promise<void>>();
  // Resolved when accepting stopped; accepting is a promise chain, not an async loop: an
  // await per connection costs more than a reaction.
  #acceptStopped = Promise.withResolvers<void>();
  #onAccepted = this.#accepted.bind(this);
  #onAcceptFailed = this.#acceptFailed.bind(this);
  #sweep: ReturnType<typeof setInterval> | undefined;
  #stop = new AbortController();
  #closing: Promise<void> | null = null;

  private constructor(
    listener: Deno.TcpListener,
    handler: ConnectionHandler<C>,
    options: TcpServerOptions<C>,
  ) {
    this.#listener = listener;
    this.#handler = handler;
    this.#options = options;
    this.#logger = options.logger ?? SILENT_LOGGER;
    this.#refusals = new LogThrottle(this.#logger);
    // Without a class of its own, C is FrameConnection.
    this.#connectionClass = options.connectionClass ??
      (FrameConnection as new (
        conn: Deno.Conn,
        options: FrameConnectionOptions,
      ) => C);
    const addr = listener.addr as Deno.NetAddr;
    this.hostname = addr.hostname;
    this.port = addr.port;
    const idleTimeoutMs = options.idleTimeoutMs ?? 120_000;
    this.#connectionOptions = {
      ...options,
      idleTimeoutMs,
      maxFrameBytes: options.maxFrameBytes ?? 1_048_576,
      onClose: (conn) => this.#forget(conn as C),
      onHandshake: (conn) =>
        this.#count(this.#silent, conn.remote.hostname, -1),
    };
    const deadlines = [
      idleTimeoutMs,
      options.handshakeTimeoutMs ?? 0,
      options.writeTimeoutMs ?? 0,
    ].filter((ms) => ms > 0);
    if (deadlines.length > 0) {
      const every = options.sweepIntervalMs ??
        Math.min(1_000, Math.max(10, Math.min(...deadlines) / 4));
      this.#sweep = setInterval(() => this.#enforceDeadlines(), every);
    }
    this.#acceptNext();
  }

  /** Binds and starts accepting; throws a one-line error naming the address when it is unusable. */
  static listen<C extends FrameConnection = FrameConnection>(
    options: TcpServerOptions<C>,
    handler: ConnectionHandler<C>,
  ): TcpServer<C> {
    let listener: Deno.TcpListener;
    try {
      listener = Deno.listen({
        hostname: options.hostname,
        port: options.port,
        transport: "tcp",
      });
    } catch (error) {
      const advice = options.inUseAdvice ?? DEFAULT_IN_USE_ADVICE;
      const reason = error instanceof Deno.errors.AddrInUse
        ? `address in use${advice === "" ? "" : `; ${advice}`}`
        : error instanceof Deno.errors.PermissionDenied
        ? "permission denied"
        : error instanceof Deno.errors.AddrNotAvailable
        ? "address not available on this machine"
        : (error as Error).message;
      const where = formatAddress({
        hostname: options.hostname,
        port: options.port,
      });
      throw new Error(`Cannot listen on "${where}": ${reason}`, {
        cause: error,
      });
    }
    return new TcpServer(listener, handler, options);
  }

  /** Number of open inbound connections. */
  get connectionCount(): number {
    return this.#open.size;
  }

  /** The open inbound connections. */
  connections(): IterableIterator<C> {
    return this.#open.values();
  }

  #acceptNext(): void {
    if (this.#stop.signal.aborted) return this.#acceptStopped.resolve();
    this.#listener.accept().then(this.#onAccepted, this.#onAcceptFailed);
  }

  #accepted(raw: Deno.TcpConn): void {
    const remote = raw.remoteAddr as Deno.NetAddr;
    const host = remote.hostname;
    const perAddress = this.#perAddress.get(host) ?? 0;
    const overAddress =
      perAddress >= (this.#options.maxConnectionsPerAddress ?? 64);
    const total = this.#open.size >= (this.#options.maxConnections ?? 256) &&
      (overAddress || !this.#makeRoom(host));
    if (total || overAddress) {
      this.#refuse(raw, remote, total);
    } else {
      this.stats.accepted++;
      try {
        raw.setNoDelay(true);
      } catch { /* already reset by the peer: the first read reports it */ }
      const conn = new this.#connectionClass(raw, this.#connectionOptions);
      this.#open.add(conn);
      this.#perAddress.set(host, perAddress + 1);
      if (!conn.handshaken) this.#count(this.#silent, host, 1);
      this.#run(conn);
    }
    this.#acceptNext();
  }

  /**
   * With `evictWhenFull`, closes a connection waiting for a frame to make room for one from
   * `host` (see the option); false when the newcomer is to be refused.
   */
  #makeRoom(host: string): boolean {
    if (!this.#options.evictWhenFull) return false;
    // Counted as connections come, handshake and go: a flood refused here costs no scan.
    let most = 0;
    let mostHost = "";
    this.#silent.forEach((count, from) => {
      if (count > most) {
        most = count;
        mostHost = from;
      }
    });
    let victim: C | null = null;
    if (most > 0) {
      // An address holding within one of the most is refused: a flood from many addresses
      // would otherwise churn, each newcomer evicting one of an address holding one more.
      const own = this.#silent.get(host) ?? 0;
      if (own > 0 && own >= most - 1) return false;
      // Its oldest silent connection: the first of them in accept order.
      for (const conn of this.#open) {
        if (
          !conn.handshaken && !conn.closed && conn.remote.hostname === mostHost
        ) {
          victim = conn;
          break;
        }
      }
    } else {
      this.#open.forEach((conn) => {
        const since = conn.waitingSince;
        if (since < 0 || conn.closed) return;
        if (victim === null || since < victim.waitingSince) victim = conn;
      });
    }
    if (victim === null) return false;
    this.stats.evicted++;
    (victim as C).close(
      "closed to make room: connection limit reached",
      "evicted",
    );
    return true;
  }

  /** Adds `delta` to the count of `key` (a count of 0 is removed). */
  #count(counts: Map<string, number>, key: string, delta: number): void {
    const n = (counts.get(key) ?? 0) + delta;
    if (n > 0) counts.set(key, n);
    else counts.delete(key);
  }

  #acceptFailed(error: unknown): void {
    if (this.#stop.signal.aborted) return this.#acceptStopped.resolve();
    // e.g. out of file descriptors: back off instead of spinning
    this.#logger.warn(`Cannot accept connection: ${(error as Error).message}`);
    sleep(ACCEPT_RETRY_MS, this.#stop.signal).catch(() => {}).then(() =>
      this.#acceptNext()
    );
  }

  #refuse(raw: Deno.TcpConn, remote: Deno.NetAddr, total: boolean): void {
    if (total) this.stats.refusedTotal++;
    else this.stats.refusedPerAddress++;
    const limit = total ? "total" : "per_address";
    if (this.#options.onRefused) {
      this.#options.onRefused(
        { hostname: remote.hostname, port: remote.port },
        limit,
      );
    } else {
      this.#refusals.warn(
        `Refused connections (${
          limit === "total" ? "total" : "per-address"
        } limit reached)`,
        `Refused connection from "${remote.hostname}": connection limit reached`,
      );
    }
    try {
      raw.close();
    } catch { /* already gone */ }
  }

  // A promise chain rather than an async function: every idle connection holds one.
  #run(conn: C): void {
    let handled: Promise<void> | void;
    try {
      handled = this.#handler(conn);
    } catch (error) {
      handled = Promise.reject(error);
    }
    if (handled === undefined) return;
    const task: Promise<void> = handled.then(
      () => this.#settled(conn, task, null),
      (error) => this.#settled(conn, task, error as Error),
    );
    this.#tasks.add(task);
  }

  #settled(conn: C, task: Promise<void>, error: Error | null) {
    if (error !== null) {
      this.#logger.warn(
        `Connection from "${conn.remote.hostname}" failed: ${error.message}`,
      );
    }
    conn.close();
    this.#tasks.delete(task);
  }

  #forget(conn: C): void {
    if (!this.#open.delete(conn)) return;
    const host = conn.remote.hostname;
    this.#count(this.#perAddress, host, -1);
    if (!conn.handshaken) this.#count(this.#silent, host, -1);
    this.#options.onClose?.(conn);
  }

  #enforceDeadlines(): void {
    const now = (this.#options.clock ?? performance).now();
    // forEach, not for…of: a sweep runs too rarely to be optimized, and unoptimized for…of
    // allocates an iterator result per connection (garbage that grows the young heap).
    let overdue = 0;
    if ((this.#options.writeTimeoutMs ?? 0) > 0) {
      this.#open.forEach((conn) => {
        if (conn.writeOverdue(now)) overdue++;
      });
    }
    const overloaded = overdue > OVERLOAD_MIN_OVERDUE &&
      overdue > this.#open.size * OVERLOAD_OVERDUE_SHARE;
    if (overloaded) {
      this.stats.overloadedSweeps++;
      this.#refusals.warn(
        "Write deadline suspended (overloaded)",
        `Write deadline suspended: writes to ${overdue} of ${this.#open.size} connections are overdue at once (the server is overloaded, not its peers)`,
      );
    }
    this.#open.forEach((conn) => conn.enforceDeadlines(now, !overloaded));
  }

  /** Stops accepting, closes every connection and waits for handlers; idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stop.abort();
      clearInterval(this.#sweep);
      try {
        this.#listener.close();
      } catch { /* already closed */ }
      await this.#acceptStopped.promise;
      for (const conn of [...this.#open]) conn.close("server shutting down");
      await Promise.allSettled([...this.#tasks]);
      this.#refusals.flush();
    })();
    return this.#closing;
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
