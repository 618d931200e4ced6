/**
 * The client side of the sidecar's TLS.
 *
 * `fetch` refuses self-signed certificates, so the first connection to a node uses
 * `node:tls` without verification, reads the peer certificate and pins it: its key
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
import { within } from "../util/mod.ts";
import { type Duplex, duplexOf, safeClose } from "./_duplex.ts";

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
      connectTls(target, known.pem).then(async (c) => {
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

/**
 * `Deno.connectTls` cannot turn Nagle's algorithm off, and with it on every request waited
 * ≈ 40 ms for a delayed ACK (the TLS Finished and the request head are two small writes):
 * TCP first, no delay, then TLS over it.
 */
async function connectTls(
  target: PinnedTarget,
  pem: string,
): Promise<Deno.TlsConn> {
  const tcp = await Deno.connect({ hostname: target.host, port: target.port });
  try {
    tcp.setNoDelay(true);
    return await Deno.startTls(tcp, {
      hostname: target.host,
      caCerts: [pem],
      unsafelyDisableHostnameVerification: true,
    });
  } catch (error) {
    safeClose(tcp);
    throw error;
  }
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
