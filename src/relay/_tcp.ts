/** The relay layer's one use of sockets: TCP listen and connect behind two small interfaces. */

/** A byte stream to one peer. */
export interface ByteConn {
  /** Reads into `buffer`; null at end of stream. */
  read(buffer: Uint8Array): Promise<number | null>;
  /** Writes all of `bytes` (the caller serializes writes, so frames never interleave). */
  writeAll(bytes: Uint8Array): Promise<void>;
  /** Closes the stream; pending reads and writes reject. Safe to call twice. */
  close(): void;
  /** Remote IP address. */
  readonly remoteHost: string;
  /** Remote "host:port", for messages. */
  readonly remote: string;
}

/** Accepts incoming byte streams. */
export interface ByteListener {
  accept(): Promise<ByteConn>;
  readonly host: string;
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  /** Stops accepting; a pending accept rejects. Safe to call twice. */
  close(): void;
}

function formatAddr(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

function wrap(conn: Deno.TcpConn): ByteConn {
  const addr = conn.remoteAddr;
  let closed = false;
  try {
    conn.setNoDelay(true);
  } catch {
    // already reset by the peer: the first read reports it
  }
  return {
    read: (buffer) => conn.read(buffer),
    async writeAll(bytes) {
      // The kernel may take part of a large frame; the rest follows before any other frame.
      for (let offset = 0; offset < bytes.length;) {
        offset += await conn.write(bytes.subarray(offset));
      }
    },
    close() {
      if (closed) return;
      closed = true;
      try {
        conn.close();
      } catch {
        // already closed by the runtime
      }
    },
    remoteHost: addr.hostname,
    remote: formatAddr(addr.hostname, addr.port),
  };
}

/** Listens on `host:port`; throws an Error naming the address, with the OS error as cause. */
export function listenTcp(host: string, port: number): ByteListener {
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({ hostname: host, port, transport: "tcp" });
  } catch (error) {
    const reason = error instanceof Deno.errors.AddrInUse
      ? "address in use"
      : error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : error instanceof Deno.errors.AddrNotAvailable
      ? "address not available on this machine"
      : (error as Error).message;
    throw new Error(`Cannot listen on "${formatAddr(host, port)}": ${reason}`, {
      cause: error,
    });
  }
  let closed = false;
  return {
    accept: async () => wrap(await listener.accept()),
    host: listener.addr.hostname,
    port: listener.addr.port,
    close() {
      if (closed) return;
      closed = true;
      try {
        listener.close();
      } catch {
        // already closed
      }
    },
  };
}

/** Options for {@linkcode connectTcp}. */
export interface ConnectTcpOptions {
  /** Aborts the connection attempt. */
  signal?: AbortSignal;
}

/** Connects to `host:port`; throws an Error naming the address, with the OS error as cause. */
export async function connectTcp(
  host: string,
  port: number,
  options: ConnectTcpOptions = {},
): Promise<ByteConn> {
  options.signal?.throwIfAborted();
  try {
    const connectOptions: Deno.ConnectOptions = {
      hostname: host,
      port,
      transport: "tcp",
    };
    if (options.signal) connectOptions.signal = options.signal;
    return wrap(await Deno.connect(connectOptions));
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    const reason = error instanceof Deno.errors.ConnectionRefused
      ? "connection refused"
      : (error as Error).message;
    throw new Error(
      `Cannot connect to "${formatAddr(host, port)}": ${reason}`,
      { cause: error },
    );
  }
}
