/**
 * The only sidecar code touching sockets and TLS.
 *
 * Server: Deno has no server-side TLS upgrade of an accepted socket (`node:tls` has one,
 * measured at a fifth of the speed), and `Deno.listenTls` answers a plaintext client with
 * a bare TLS alert. So the public port is plain TCP: the first byte tells a TLS
 * ClientHello (0x16) from plaintext HTTP, which gets a readable 400; TLS connections are
 * spliced to a `Deno.listenTls` listener on an ephemeral loopback port.
 *
 * Client: `fetch` refuses self-signed certificates, so the first connection to a node
 * uses `node:tls` without verification, reads the peer certificate and pins it: its key
 * must hash to the node id we expect. Later connections hand that certificate to
 * `Deno.connectTls` as the only trust anchor (twice as fast as `node:tls` for
 * downloads); certificates outside their validity dates keep using `node:tls` with the
 * same check, because the pin is on the key, not on the clock.
 */
import tls from "node:tls";
import { CertificatePinError } from "./errors.ts";
import {
  certificateMatchesNode,
  derToPem,
  parseCertificate,
} from "./certificate.ts";
import { within, writeAll } from "../util/mod.ts";
import type { Reader, Writer } from "./_http.ts";

/** A TCP peer address. */
export interface RemoteAddress {
  hostname: string;
  port: number;
}

/** A duplex byte stream. */
export interface Duplex extends Reader, Writer {
  /** Ends our direction (TLS close_notify); reads may go on. */
  closeWrite(): Promise<void>;
  /** Closes both directions; idempotent. */
  close(): void;
}

/** What the listener calls. */
export interface TunnelHandlers {
  /** A connection arrived; false closes it at once (over a hard cap). */
  admit(remote: RemoteAddress): boolean;
  /** A client spoke plaintext (its first bytes are already read): the raw socket. */
  plaintext(conn: Duplex, remote: RemoteAddress): Promise<void>;
  /** A TLS connection, handshake done. */
  secure(conn: Duplex, remote: RemoteAddress): Promise<void>;
  /** A connection ended (either kind), after its handler returned. */
  closed(remote: RemoteAddress): void;
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
  const spliced = new Map<number, RemoteAddress>();
  const awaiting = new Map<
    number,
    (remote: RemoteAddress | undefined) => void
  >();
  const claim = (port: number): Promise<RemoteAddress | undefined> => {
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

  async function splice(conn: Deno.Conn, remote: RemoteAddress) {
    const release = hold(conn);
    let admitted = false;
    try {
      admitted = handlers.admit(remote);
      if (!admitted) return;
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
      const releaseLink = hold(link);
      const linkPort = (link.localAddr as Deno.NetAddr).port;
      const waiter = awaiting.get(linkPort);
      if (waiter) waiter(remote);
      else spliced.set(linkPort, remote);
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
      if (admitted && !closed) handlers.closed(remote);
    }
  }

  async function serveSecure(conn: Deno.TlsConn) {
    const release = hold(conn);
    try {
      const remote = await claim((conn.remoteAddr as Deno.NetAddr).port);
      // Only our own splice may come in here; a local process dialing in directly is refused.
      if (remote === undefined) return;
      const done = await within(conn.handshake(), options.handshakeTimeoutMs);
      if (done === "timeout") return;
      await handlers.secure(duplexOf(conn), remote);
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

function safeClose(resource: { close(): void }): void {
  try {
    resource.close();
  } catch {
    // already closed
  }
}

/** A socket as a {@linkcode Duplex} whose close may be called twice. */
function duplexOf(conn: Deno.Conn): Duplex {
  return {
    read: (p) => conn.read(p),
    write: (p) => conn.write(p),
    closeWrite: () => conn.closeWrite(),
    close: () => safeClose(conn),
  };
}

// ---------------------------------------------------------------- client

/** Where a sidecar is and whose it must be. */
export interface PinnedTarget {
  host: string;
  port: number;
  /** The node id the certificate's key must hash to. */
  nodeId: string;
}

const PINNED_MAX = 1024;
/** node id → PEM of a certificate already checked against it. */
const pinned = new Map<
  string,
  { pem: string; notBefore: number; notAfter: number }
>();

/** Forgets pinned certificates (tests). */
export function forgetPinnedCertificates(): void {
  pinned.clear();
}

/**
 * Opens a TLS connection to a sidecar whose certificate key hashes to `target.nodeId`;
 * throws `CertificatePinError` for any other certificate.
 */
export async function connectPinned(
  target: PinnedTarget,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<Duplex> {
  options.signal?.throwIfAborted();
  const known = pinned.get(target.nodeId);
  const now = Date.now();
  if (known && known.notBefore <= now && now <= known.notAfter) {
    const conn = await within(
      Deno.connectTls({
        hostname: target.host,
        port: target.port,
        caCerts: [known.pem],
        unsafelyDisableHostnameVerification: true,
      }).then(async (c) => {
        try {
          await c.handshake();
          return c;
        } catch (error) {
          safeClose(c);
          throw error;
        }
      }),
      options.timeoutMs,
    ).catch((error) => {
      // The node may have a new certificate (same key): check it again below.
      pinned.delete(target.nodeId);
      return error as Error;
    });
    if (conn === "timeout") {
      throw new Error(
        `Cannot connect to sidecar at "${target.host}:${target.port}": no TLS handshake within ${options.timeoutMs} ms`,
      );
    }
    if (!(conn instanceof Error)) return duplexOf(conn);
  }
  return await connectNodeTls(target, options);
}

async function connectNodeTls(
  target: PinnedTarget,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<Duplex> {
  const where = `"${target.host}:${target.port}"`;
  const socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
    const s = tls.connect({
      host: target.host,
      port: target.port,
      // We check the certificate ourselves, against the node id, right below.
      rejectUnauthorized: false,
      minVersion: "TLSv1.2",
    });
    const timer = setTimeout(() => {
      s.destroy();
      reject(
        new Error(
          `Cannot connect to sidecar at ${where}: no TLS handshake within ${options.timeoutMs} ms`,
        ),
      );
    }, options.timeoutMs);
    s.once("secureConnect", () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once("error", (error: Error) => {
      clearTimeout(timer);
      s.destroy();
      reject(
        new Error(`Cannot connect to sidecar at ${where}: ${error.message}`, {
          cause: error,
        }),
      );
    });
  });
  const der = socket.getPeerCertificate(true)?.raw;
  const bytes = der ? new Uint8Array(der) : new Uint8Array(0);
  if (!(await certificateMatchesNode(bytes, target.nodeId))) {
    socket.destroy();
    throw new CertificatePinError(
      target.nodeId,
      `${target.host}:${target.port}`,
    );
  }
  const info = parseCertificate(bytes);
  if (pinned.size >= PINNED_MAX) pinned.delete(pinned.keys().next().value!);
  pinned.set(target.nodeId, {
    pem: derToPem(bytes, "CERTIFICATE"),
    notBefore: info.notBefore,
    notAfter: info.notAfter,
  });
  return new NodeTlsDuplex(socket);
}

const HIGH_WATER_BYTES = 1024 * 1024;

/** A `node:tls` socket as a {@linkcode Duplex}, with backpressure. */
class NodeTlsDuplex implements Duplex {
  #socket: tls.TLSSocket;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #ended = false;
  #error: Error | null = null;
  #wake: (() => void) | null = null;

  constructor(socket: tls.TLSSocket) {
    this.#socket = socket;
    socket.on("data", (data: Uint8Array) => {
      this.#chunks.push(data);
      this.#buffered += data.length;
      if (this.#buffered > HIGH_WATER_BYTES) socket.pause();
      this.#notify();
    });
    socket.on("end", () => {
      this.#ended = true;
      this.#notify();
    });
    socket.on("close", () => {
      this.#ended = true;
      this.#notify();
    });
    socket.on("error", (error: Error) => {
      this.#error = error;
      this.#notify();
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  async read(p: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#error) throw this.#error;
      if (this.#ended) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    const head = this.#chunks[0]!;
    const n = Math.min(p.length, head.length);
    p.set(head.subarray(0, n));
    if (n === head.length) this.#chunks.shift();
    else this.#chunks[0] = head.subarray(n);
    this.#buffered -= n;
    if (this.#buffered < HIGH_WATER_BYTES / 4) this.#socket.resume();
    return n;
  }

  write(p: Uint8Array): Promise<number> {
    if (this.#error) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      this.#socket.write(p, (error?: Error | null) => {
        if (error) reject(error);
        else resolve(p.length);
      });
    });
  }

  closeWrite(): Promise<void> {
    return new Promise((resolve) => this.#socket.end(() => resolve()));
  }

  close(): void {
    this.#socket.destroy();
  }
}
