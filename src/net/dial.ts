/** Outbound connections: connect with a signal, or dial with a deadline. */
import { FrameConnection } from "./frame_connection.ts";
import { formatAddress } from "./connection_limits.ts";
import type { ConnectionLimits } from "./connection_limits.ts";
import { NetTimeoutError } from "./errors.ts";

/** Options for {@linkcode connect}: the signal and the connection's limits. */
export interface ConnectOptions extends ConnectionLimits {
  /** Aborts the connection attempt; it then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Opens a framed TCP connection to host:port. Rejects with the signal's reason when it aborts,
 * else with an Error naming the address, the OS error as cause.
 */
export async function connect(
  host: string,
  port: number,
  options: ConnectOptions = {},
): Promise<FrameConnection> {
  const conn = await openTcp(host, port, options.signal);
  try {
    conn.setNoDelay(true);
  } catch { /* already reset by the peer: the first read reports it */ }
  return new FrameConnection(conn, options);
}

/** Options for {@linkcode dial}. */
export interface DialOptions {
  /** Connect deadline in ms. Default 5000. */
  timeoutMs?: number;
  /** Aborts connecting. */
  signal?: AbortSignal;
  /** Largest frame body accepted on the connection. Default 1 MiB. */
  maxFrameBytes?: number;
}

/**
 * Opens a framed TCP connection to a knarr node at host:port within a deadline; rejects with
 * {@linkcode NetTimeoutError} when it passes.
 */
export async function dial(
  host: string,
  port: number,
  options: DialOptions = {},
): Promise<FrameConnection> {
  const conn = await openWithin(host, port, options);
  try {
    conn.setNoDelay(true);
  } catch { /* not fatal */ }
  return new FrameConnection(
    conn,
    options.maxFrameBytes ? { maxFrameBytes: options.maxFrameBytes } : {},
  );
}

async function openTcp(
  host: string,
  port: number,
  signal: AbortSignal | undefined,
): Promise<Deno.TcpConn> {
  signal?.throwIfAborted();
  try {
    return await Deno.connect({
      hostname: host,
      port,
      transport: "tcp",
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    const reason = error instanceof Deno.errors.ConnectionRefused
      ? "connection refused"
      : (error as Error).message;
    throw new Error(
      `Cannot connect to "${
        formatAddress({ hostname: host, port })
      }": ${reason}`,
      { cause: error },
    );
  }
}

async function openWithin(
  host: string,
  port: number,
  options: DialOptions,
): Promise<Deno.TcpConn> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal
    ? AbortSignal.any([options.signal, timeout])
    : timeout;
  try {
    return await openTcp(host, port, signal);
  } catch (error) {
    if (timeout.aborted && !options.signal?.aborted) {
      throw new NetTimeoutError(
        `Cannot connect to "${host}:${port}": no answer within ${timeoutMs} ms`,
        { cause: error },
      );
    }
    if (signal.aborted) {
      throw new Error(
        `Cannot connect to "${host}:${port}": ${(error as Error).message}`,
        { cause: error },
      );
    }
    if ((error as Error).cause instanceof Deno.errors.ConnectionRefused) {
      throw new Error(
        `${(error as Error).message} (is a node running there?)`,
        { cause: (error as Error).cause },
      );
    }
    throw error;
  }
}

/** Waits for `promise` but rejects with NetTimeoutError after `ms`, closing `conn`. */
export async function withDeadline<T>(
  promise: Promise<T>,
  ms: number,
  conn: FrameConnection,
  what: string,
  signal?: AbortSignal,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onAbort = () => conn.close();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          conn.close();
          reject(new NetTimeoutError(`${what}: no answer within ${ms} ms`));
        }, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}

/** The local address this machine uses to reach host:port (the interface a reply can come back to). */
export async function localAddressToward(
  host: string,
  port: number,
  options: DialOptions = {},
): Promise<string> {
  const conn = await openWithin(host, port, options);
  try {
    return (conn.localAddr as Deno.NetAddr).hostname;
  } finally {
    conn.close();
  }
}
