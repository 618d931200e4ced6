/** The protocol listener (Deno.listen): connection caps, per-address caps, idle timeouts. */
import type { Logger } from "../util/mod.ts";
import { SILENT_LOGGER } from "../util/mod.ts";
import { FrameConnection } from "./frame_connection.ts";

/** Options for {@linkcode TcpServer.listen}. */
export interface TcpServerOptions {
  hostname: string;
  /** 0 picks a free port. */
  port: number;
  /** Concurrent inbound connections; excess are closed at accept. Default 256. */
  maxConnections?: number;
  /** Concurrent inbound connections from one remote address. Default 64. */
  maxConnectionsPerAddress?: number;
  /** Idle timeout per connection in ms. Default 120 000. */
  idleTimeoutMs?: number;
  /** Largest frame body. Default 1 MiB. */
  maxFrameBytes?: number;
  logger?: Logger;
}

/** Called for each accepted connection; the server closes it when the promise settles. */
export type ConnectionHandler = (conn: FrameConnection) => Promise<void>;

/** Counters of refused connections. */
export interface TcpServerStats {
  accepted: number;
  refusedTotal: number;
  refusedPerAddress: number;
}

/** A TCP listener dispatching framed connections to a handler. */
export class TcpServer {
  readonly hostname: string;
  readonly port: number;
  readonly stats: TcpServerStats = {
    accepted: 0,
    refusedTotal: 0,
    refusedPerAddress: 0,
  };
  #listener: Deno.TcpListener;
  #handler: ConnectionHandler;
  #options: TcpServerOptions;
  #logger: Logger;
  #open = new Set<FrameConnection>();
  #perAddress = new Map<string, number>();
  #tasks = new Set<Promise<void>>();
  #acceptLoop: Promise<void>;
  #closed = false;

  private constructor(
    listener: Deno.TcpListener,
    handler: ConnectionHandler,
    options: TcpServerOptions,
  ) {
    this.#listener = listener;
    this.#handler = handler;
    this.#options = options;
    this.#logger = options.logger ?? SILENT_LOGGER;
    const addr = listener.addr as Deno.NetAddr;
    this.hostname = addr.hostname;
    this.port = addr.port;
    this.#acceptLoop = this.#accept();
  }

  /** Binds and starts accepting; throws a one-line error when the address is unusable. */
  static listen(
    options: TcpServerOptions,
    handler: ConnectionHandler,
  ): TcpServer {
    let listener: Deno.TcpListener;
    try {
      listener = Deno.listen({
        hostname: options.hostname,
        port: options.port,
        transport: "tcp",
      });
    } catch (error) {
      const reason = error instanceof Deno.errors.AddrInUse
        ? "address in use; stop the other process or choose another port"
        : (error as Error).message;
      throw new Error(
        `Cannot listen on "${options.hostname}:${options.port}": ${reason}`,
        { cause: error },
      );
    }
    return new TcpServer(listener, handler, options);
  }

  /** Number of open inbound connections. */
  get connectionCount(): number {
    return this.#open.size;
  }

  async #accept(): Promise<void> {
    const max = this.#options.maxConnections ?? 256;
    const maxPer = this.#options.maxConnectionsPerAddress ?? 64;
    for (;;) {
      let raw: Deno.TcpConn;
      try {
        raw = await this.#listener.accept();
      } catch {
        return; // listener closed
      }
      const host = (raw.remoteAddr as Deno.NetAddr).hostname;
      const perAddress = this.#perAddress.get(host) ?? 0;
      if (this.#open.size >= max || perAddress >= maxPer) {
        if (this.#open.size >= max) this.stats.refusedTotal++;
        else this.stats.refusedPerAddress++;
        this.#logger.warn(
          `Refused connection from "${host}": connection limit reached`,
        );
        try {
          raw.close();
        } catch { /* already gone */ }
        continue;
      }
      this.stats.accepted++;
      try {
        raw.setNoDelay(true);
      } catch { /* not fatal */ }
      const conn = new FrameConnection(raw, {
        idleTimeoutMs: this.#options.idleTimeoutMs ?? 120_000,
        maxFrameBytes: this.#options.maxFrameBytes ?? 1_048_576,
      });
      this.#open.add(conn);
      this.#perAddress.set(host, perAddress + 1);
      const task = this.#run(conn, host);
      this.#tasks.add(task);
      task.finally(() => this.#tasks.delete(task));
    }
  }

  async #run(conn: FrameConnection, host: string): Promise<void> {
    try {
      await this.#handler(conn);
    } catch (error) {
      this.#logger.warn(
        `Connection from "${host}" failed: ${(error as Error).message}`,
      );
    } finally {
      conn.close();
      this.#open.delete(conn);
      const left = (this.#perAddress.get(host) ?? 1) - 1;
      if (left <= 0) this.#perAddress.delete(host);
      else this.#perAddress.set(host, left);
    }
  }

  /** Stops accepting, closes every connection and waits for handlers; idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#listener.close();
    } catch { /* already closed */ }
    await this.#acceptLoop;
    for (const conn of this.#open) conn.close();
    await Promise.allSettled([...this.#tasks]);
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
