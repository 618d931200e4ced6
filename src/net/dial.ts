/** Outbound connections: dial with a deadline. */
import { FrameConnection } from "./frame_connection.ts";
import { NetTimeoutError } from "./errors.ts";

/** Options for {@linkcode dial}. */
export interface DialOptions {
  /** Connect deadline in ms. Default 5000. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Largest frame body accepted on the connection. Default 1 MiB. */
  maxFrameBytes?: number;
}

/** Opens a framed TCP connection to host:port. */
export async function dial(
  host: string,
  port: number,
  options: DialOptions = {},
): Promise<FrameConnection> {
  const conn = await connectTcp(host, port, options);
  try {
    conn.setNoDelay(true);
  } catch { /* not fatal */ }
  return new FrameConnection(
    conn,
    options.maxFrameBytes ? { maxFrameBytes: options.maxFrameBytes } : {},
  );
}

async function connectTcp(
  host: string,
  port: number,
  options: DialOptions,
): Promise<Deno.TcpConn> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const signal = options.signal
    ? AbortSignal.any([options.signal, AbortSignal.timeout(timeoutMs)])
    : AbortSignal.timeout(timeoutMs);
  try {
    return await Deno.connect({
      hostname: host,
      port,
      transport: "tcp",
      signal,
    });
  } catch (error) {
    if (signal.aborted && !options.signal?.aborted) {
      throw new NetTimeoutError(
        `Cannot connect to "${host}:${port}": no answer within ${timeoutMs} ms`,
        {
          cause: error,
        },
      );
    }
    const reason = error instanceof Deno.errors.ConnectionRefused
      ? "connection refused (is a node running there?)"
      : (error as Error).message;
    throw new Error(`Cannot connect to "${host}:${port}": ${reason}`, {
      cause: error,
    });
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
  const conn = await connectTcp(host, port, options);
  try {
    return (conn.localAddr as Deno.NetAddr).hostname;
  } finally {
    conn.close();
  }
}
