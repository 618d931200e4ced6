/**
 * The server side of the sidecar's sockets and TLS (`_pinned_tls.ts` is the client
 * side; no other sidecar code touches either).
 *
 * Deno has no server-side TLS upgrade of an accepted socket (`node:tls` has one,
 * measured at a fifth of the speed), and `Deno.listenTls` answers a plaintext client with
 * a bare TLS alert. So the public port is plain TCP: the first byte tells a TLS
 * ClientHello (0x16) from plaintext HTTP, which gets a readable 400; TLS connections are
 * spliced to a `Deno.listenTls` listener on an ephemeral loopback port.
 */
import { within, writeAll } from "../util/mod.ts";
import { type Duplex, duplexOf, safeClose } from "./_duplex.ts";

/** A TCP peer address. */
export interface RemoteAddress {
  hostname: string;
  port: number;
}

/** What the listener calls. */
export interface TunnelHandlers {
  /**
   * A connection arrived: its admission number, or null to close it at once (over a cap).
   * `close` ends it (sockets and handlers), e.g. to make room for a newer one.
   */
  admit(remote: RemoteAddress, close: () => void): number | null;
  /** A client spoke plaintext (its first bytes are already read): the raw socket. */
  plaintext(conn: Duplex, remote: RemoteAddress): Promise<void>;
  /** A TLS connection, handshake done; `admission` is what `admit()` returned for it. */
  secure(
    conn: Duplex,
    remote: RemoteAddress,
    admission: number,
  ): Promise<void>;
  /** A connection ended (either kind), after its handler returned. */
  closed(admission: number): void;
}

/** Options of {@linkcode listenTunnel}. */
export interface TunnelOptions {
  hostname: string;
  port: number;
  certPem: string;
  keyPem: string;
  /** How long a client may take to send its first byte and finish the handshake. */
  handshakeTimeoutMs: number;
}

/** A listening tunnel. */
export interface Tunnel {
  readonly hostname: string;
  readonly port: number;
  close(): Promise<void>;
}

/** The client a splice carries, and its admission. */
interface Spliced {
  remote: RemoteAddress;
  admission: number;
}

const TLS_HANDSHAKE = 0x16;
const PIPE_BUFFER_BYTES = 128 * 1024;
/** How long an inner connection waits to be matched with its splice. */
const SPLICE_CLAIM_MS = 2_000;

/** Listens on `hostname:port`; see the module doc. */
export function listenTunnel(
  options: TunnelOptions,
  handlers: TunnelHandlers,
): Tunnel {
  let outer: Deno.TcpListener;
  try {
    outer = Deno.listen({ hostname: options.hostname, port: options.port });
  } catch (error) {
    const reason = error instanceof Deno.errors.AddrInUse
      ? "address in use; stop the other process or choose another --sidecar-port"
      : (error as Error).message;
    throw new Error(
      `Cannot listen for the asset sidecar on "${options.hostname}:${options.port}": ${reason}`,
      { cause: error },
    );
  }
  let inner: Deno.TlsListener;
  try {
    inner = Deno.listenTls({
      hostname: "127.0.0.1",
      port: 0,
      cert: options.certPem,
      key: options.keyPem,
    });
  } catch (error) {
    outer.close();
    throw error;
  }
  const innerPort = (inner.addr as Deno.NetAddr).port;
  // Our splice's local port → the client it carries. The inner accept may be seen
  // before the splice's connect resolves, so either side can arrive first.
  const spliced = new Map<number, Spliced>();
  const awaiting = new Map<
    number,
    (remote: Spliced | undefined) => void
  >();
  const claim = (port: number): Promise<Spliced | undefined> => {
    const known = spliced.get(port);
    if (known !== undefined) {
      spliced.delete(port);
      return Promise.resolve(known);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        awaiting.delete(port);
        resolve(undefined);
      }, SPLICE_CLAIM_MS);
      awaiting.set(port, (remote) => {
        clearTimeout(timer);
        awaiting.delete(port);
        resolve(remote);
      });
    });
  };
  const open = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  let closed = false;
  const track = (task: Promise<void>) => {
    const t = task.catch(() => {}).finally(() => tasks.delete(t));
    tasks.add(t);
  };
  const hold = (conn: Deno.Conn) => {
    open.add(conn);
    return () => {
      open.delete(conn);
      safeClose(conn);
    };
  };

  async function splice(conn: Deno.TcpConn, remote: RemoteAddress) {
    const release = hold(conn);
    // Closing the client's socket ends both pumps, and with them the inner connection.
    const admission = handlers.admit(remote, () => safeClose(conn));
    try {
      if (admission === null) return;
      const first = new Uint8Array(PIPE_BUFFER_BYTES);
      const n = await within(conn.read(first), options.handshakeTimeoutMs);
      if (n === null || n === "timeout") return;
      if (first[0] !== TLS_HANDSHAKE) {
        return await handlers.plaintext(duplexOf(conn), remote);
      }
      const link = await Deno.connect({
        hostname: "127.0.0.1",
        port: innerPort,
      });
      // Small writes (TLS handshake records, a response head) go out at once.
      link.setNoDelay(true);
      conn.setNoDelay(true);
      const releaseLink = hold(link);
      const linkPort = (link.localAddr as Deno.NetAddr).port;
      const waiter = awaiting.get(linkPort);
      if (waiter) waiter({ remote, admission });
      else spliced.set(linkPort, { remote, admission });
      try {
        await Promise.all([
          pump(conn, link, first.subarray(0, n)),
          pump(link, conn),
        ]);
      } finally {
        releaseLink();
      }
    } finally {
      release();
      if (admission !== null && !closed) handlers.closed(admission);
    }
  }

  async function serveSecure(conn: Deno.TlsConn) {
    const release = hold(conn);
    try {
      const from = await claim((conn.remoteAddr as Deno.NetAddr).port);
      // Only our own splice may come in here; a local process dialing in directly is refused.
      if (from === undefined) return;
      const done = await within(conn.handshake(), options.handshakeTimeoutMs);
      if (done === "timeout") return;
      await handlers.secure(duplexOf(conn), from.remote, from.admission);
    } finally {
      release();
    }
  }

  track((async () => {
    for await (const conn of outer) {
      if (closed) {
        safeClose(conn);
        break;
      }
      const a = conn.remoteAddr as Deno.NetAddr;
      track(splice(conn, { hostname: a.hostname, port: a.port }));
    }
  })());
  track((async () => {
    for await (const conn of inner) {
      if (closed) {
        safeClose(conn);
        break;
      }
      track(serveSecure(conn));
    }
  })());

  const addr = outer.addr as Deno.NetAddr;
  return {
    hostname: addr.hostname,
    port: addr.port,
    async close() {
      if (closed) return;
      closed = true;
      for (const resolve of [...awaiting.values()]) resolve(undefined);
      safeClose(outer);
      safeClose(inner);
      for (const conn of open) safeClose(conn);
      while (tasks.size > 0) await Promise.all([...tasks]);
    },
  };
}

/** Copies `from` to `to` until EOF, then half-closes `to`. */
async function pump(
  from: Deno.Conn,
  to: Deno.Conn,
  first?: Uint8Array,
): Promise<void> {
  try {
    if (first) await writeAll(to, first);
    const buffer = new Uint8Array(PIPE_BUFFER_BYTES);
    for (;;) {
      const n = await from.read(buffer);
      if (n === null) break;
      await writeAll(to, buffer.subarray(0, n));
    }
    await to.closeWrite();
  } catch {
    // One side went away: end both, so the other pump stops too.
    safeClose(from);
    safeClose(to);
  }
}
