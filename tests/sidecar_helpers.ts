/** A real sidecar on 127.0.0.1 with a temporary asset directory, and raw TLS requests to it. */
import { AssetStore } from "../src/assets/mod.ts";
import type { AssetStoreOptions } from "../src/assets/mod.ts";
import { Identity } from "../src/crypto/mod.ts";
import {
  createCertificate,
  type SidecarCertificate,
  SidecarServer,
  type SidecarServerDeps,
  type SidecarServerOptions,
  signRequest,
} from "../src/sidecar/mod.ts";
import { hexToBytes } from "../src/util/mod.ts";

/** A started sidecar and what a test needs around it. */
export interface TestSidecar {
  server: SidecarServer;
  port: number;
  node: Identity;
  certificate: SidecarCertificate;
  store: AssetStore;
  dir: string;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options of {@linkcode startSidecar}. */
export interface StartSidecarOptions {
  store?: AssetStoreOptions;
  server?: SidecarServerOptions;
  deps?: Partial<Pick<SidecarServerDeps, "clock" | "allowUpload" | "logger">>;
}

/** Starts a sidecar for a fresh node identity. */
export async function startSidecar(
  options: StartSidecarOptions = {},
): Promise<TestSidecar> {
  const dir = await Deno.makeTempDir({ prefix: "knarr-sidecar-" });
  const node = await Identity.generate();
  const certificate = await createCertificate(node);
  const store = new AssetStore(dir, options.store);
  const server = await SidecarServer.start({
    identity: node,
    certificate,
    assets: store,
    ...options.deps,
  }, { host: "127.0.0.1", port: 0, ...options.server });
  return {
    server,
    port: server.port,
    node,
    certificate,
    store,
    dir,
    async [Symbol.asyncDispose]() {
      await server.close();
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** The seed of the signer in `sidecar_auth.json`. */
export function vectorSigner(): Promise<Identity> {
  return Identity.fromSeed(
    hexToBytes(
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
    ),
  );
}

/** What a raw exchange returned. */
export interface RawAnswer {
  /** The status code, or 0 when no status line came back. */
  status: number;
  /** The head as sent, CRLFs included. */
  head: string;
  body: Uint8Array;
  /** The body as text. */
  text: string;
  /** True when the server closed the connection after its answer. */
  closed: boolean;
}

/** Options of {@linkcode rawExchange}. */
export interface RawOptions {
  /** Plain TCP instead of TLS. */
  plaintext?: boolean;
  /** Half-close after sending (as a truncated upload would). Default true. */
  closeWrite?: boolean;
  /** Give up reading after this many ms. Default 10000. */
  timeoutMs?: number;
}

/** Sends bytes to the sidecar and reads everything until the server closes. */
export async function rawExchange(
  sidecar: TestSidecar,
  bytes: Uint8Array | string,
  options: RawOptions = {},
): Promise<RawAnswer> {
  const conn = options.plaintext
    ? await Deno.connect({ hostname: "127.0.0.1", port: sidecar.port })
    : await Deno.connectTls({
      hostname: "127.0.0.1",
      port: sidecar.port,
      caCerts: [sidecar.certificate.certPem],
      unsafelyDisableHostnameVerification: true,
    });
  try {
    const data = typeof bytes === "string"
      ? new TextEncoder().encode(bytes)
      : bytes;
    let offset = 0;
    while (offset < data.length) {
      offset += await conn.write(data.subarray(offset));
    }
    if (options.closeWrite !== false) await conn.closeWrite();
    return await readAnswer(conn, options.timeoutMs ?? 10_000);
  } finally {
    try {
      conn.close();
    } catch {
      // closed by the read
    }
  }
}

/** Reads a whole answer from a connection until EOF. */
export async function readAnswer(
  conn: Deno.Conn,
  timeoutMs: number,
): Promise<RawAnswer> {
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(64 * 1024);
  let closed = false;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const n = await Promise.race([
      conn.read(buffer).catch(() => null),
      new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), deadline - Date.now());
      }),
    ]);
    clearTimeout(timer);
    if (n === "timeout") break;
    if (n === null) {
      closed = true;
      break;
    }
    chunks.push(buffer.slice(0, n));
  }
  const all = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  const split = indexOfCrlf2(all);
  const head = new TextDecoder().decode(
    all.subarray(0, split < 0 ? all.length : split + 4),
  );
  const body = split < 0 ? new Uint8Array(0) : all.subarray(split + 4);
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
  return { status, head, body, text: new TextDecoder().decode(body), closed };
}

function indexOfCrlf2(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (
      bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 &&
      bytes[i + 3] === 10
    ) return i;
  }
  return -1;
}

let skew = 0;

/**
 * A signed request head, header names as the original CLI writes them. Without a
 * timestamp each call takes a different second of the ±60 s window: Ed25519 signs
 * alike, and the sidecar refuses a signature it has seen.
 */
export async function signedHead(
  signer: Identity,
  method: string,
  path: string,
  options: {
    contentLength?: number;
    contentHash?: string;
    timestamp?: number;
  } = {},
): Promise<string> {
  const timestamp = options.timestamp ??
    Math.floor(Date.now() / 1000) - (skew++ % 50);
  const headers = await signRequest(signer, method, path, {
    timestamp,
    ...(options.contentHash ? { contentHash: options.contentHash } : {}),
  });
  let text = `${method} ${path} HTTP/1.1\r\n`;
  if (options.contentLength !== undefined) {
    text += `Content-Length: ${options.contentLength}\r\n`;
  }
  for (const [k, v] of Object.entries(headers)) text += `${k}: ${v}\r\n`;
  return text + "\r\n";
}

/** Concatenates a head and a body. */
export function withBody(head: string, body: Uint8Array): Uint8Array {
  const h = new TextEncoder().encode(head);
  const out = new Uint8Array(h.length + body.length);
  out.set(h);
  out.set(body, h.length);
  return out;
}

/** Names in the asset directory that are not complete assets (temp files, partial writes). */
export async function strayFiles(dir: string): Promise<string[]> {
  const stray: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isDirectory) continue;
    if (!/^[0-9a-f]{64}$/.test(entry.name)) stray.push(entry.name);
  }
  return stray;
}
