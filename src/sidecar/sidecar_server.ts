/** The asset sidecar: signed HTTPS access to the node's asset directory. */
import {
  AssetHashMismatchError,
  AssetQuotaError,
  AssetTooLargeError,
  AssetTruncatedError,
} from "../assets/mod.ts";
import type { AssetStore } from "../assets/mod.ts";
import type { Identity } from "../crypto/mod.ts";
import { isHex64, type Logger, SILENT_LOGGER } from "../util/mod.ts";
import type { SidecarCertificate } from "./certificate.ts";
import { RequestVerifier } from "./request_auth.ts";
import {
  BufferedReader,
  contentLength,
  HeadError,
  jsonResponse,
  parseRequestHead,
  type RequestHead,
  responseHead,
  writeAll,
} from "./_http.ts";
import { type Duplex, listenTunnel, type Tunnel } from "./_tls.ts";

/** Collaborators of {@linkcode SidecarServer}. */
export interface SidecarServerDeps {
  /** The node identity: its key is the TLS key, and only it may DELETE. */
  identity: Identity;
  /** The node's self-signed certificate (see `loadOrCreateCertificate`). */
  certificate: SidecarCertificate;
  /** The asset directory served. */
  assets: AssetStore;
  /** Unix seconds, for request signatures. Default: the system clock. */
  clock?: { now(): number };
  /** Where requests and faults are logged. Default: silent. */
  logger?: Logger;
  /** Whether a signer may upload (`[sidecar] allow_uploads`). Default: every signer. */
  allowUpload?: (who: { nodeId: string; publicKey: string }) => boolean;
}

/** Options for {@linkcode SidecarServer.start}. */
export interface SidecarServerOptions {
  /** Interface to listen on. Default "127.0.0.1". */
  host?: string;
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /** Requests served at once; more get 503. Default 64. */
  maxConnections?: number;
  /** Each header line must arrive within this many ms. Default 10000. */
  headerLineTimeoutMs?: number;
  /** The whole head must arrive within this many ms. Default 30000. */
  headTimeoutMs?: number;
  /** An upload body must arrive within this many ms. Default 300000. */
  bodyTimeoutMs?: number;
  /** Largest request head in bytes. Default 16384. */
  maxHeadBytes?: number;
}

/** Counters of a sidecar, for operators. */
export interface SidecarStats {
  /** Connections taken. */
  connections: number;
  /** Connections closed at once over the hard cap (4 × `maxConnections`). */
  refused: number;
  /** Plaintext clients answered 400. */
  plaintext: number;
  /** Responses by status code. */
  responses: Record<number, number>;
  /** Body bytes stored. */
  bytesIn: number;
  /** Body bytes sent. */
  bytesOut: number;
}

const DEFAULTS = {
  host: "127.0.0.1",
  port: 0,
  maxConnections: 64,
  headerLineTimeoutMs: 10_000,
  headTimeoutMs: 30_000,
  bodyTimeoutMs: 300_000,
  maxHeadBytes: 16_384,
};

const STREAM_CHUNK_BYTES = 256 * 1024;
/** After an early answer, unread body bytes are drained this long so the client sees it. */
const LINGER_MS = 1_000;

/** Why an upload body stopped arriving. */
class BodyTimeout extends Error {}

/**
 * The asset sidecar server, wire-compatible with the original Python node's.
 *
 * @example
 * ```ts
 * import { AssetStore } from "../assets/mod.ts";
 * import { Identity } from "../crypto/mod.ts";
 * import { createCertificate, SidecarServer } from "./mod.ts";
 * const identity = await Identity.generate();
 * await using sidecar = await SidecarServer.start({
 *   identity,
 *   certificate: await createCertificate(identity),
 *   assets: new AssetStore("/tmp/assets"),
 * }, { port: 9001 });
 * ```
 */
export class SidecarServer {
  /** Counters since start. */
  readonly stats: SidecarStats = {
    connections: 0,
    refused: 0,
    plaintext: 0,
    responses: {},
    bytesIn: 0,
    bytesOut: 0,
  };
  #d: SidecarServerDeps;
  #o: typeof DEFAULTS;
  #verifier: RequestVerifier;
  #log: Logger;
  #tunnel: Tunnel | null = null;
  #admitted = 0;
  #serving = 0;

  private constructor(deps: SidecarServerDeps, options: typeof DEFAULTS) {
    this.#d = deps;
    this.#o = options;
    this.#log = deps.logger ?? SILENT_LOGGER;
    this.#verifier = new RequestVerifier(
      deps.clock ? { clock: deps.clock } : {},
    );
  }

  /** Opens the asset directory and listens; throws when the port is taken. */
  static async start(
    deps: SidecarServerDeps,
    options: SidecarServerOptions = {},
  ): Promise<SidecarServer> {
    const o = { ...DEFAULTS };
    for (const [k, v] of Object.entries(options)) {
      if (v !== undefined) (o as Record<string, unknown>)[k] = v;
    }
    const server = new SidecarServer(deps, o);
    await deps.assets.open();
    server.#tunnel = listenTunnel({
      hostname: o.host,
      port: o.port,
      certPem: deps.certificate.certPem,
      keyPem: deps.certificate.keyPem,
      handshakeTimeoutMs: o.headerLineTimeoutMs,
    }, {
      admit: () => server.#admit(),
      plaintext: (conn) => server.#plaintext(conn),
      secure: (conn, remote) => server.#secure(conn, remote.hostname),
      closed: () => server.#admitted--,
    });
    return server;
  }

  /** The bound host. */
  get host(): string {
    return this.#tunnel?.hostname ?? this.#o.host;
  }

  /** The bound port. */
  get port(): number {
    return this.#tunnel?.port ?? 0;
  }

  /** Stops listening and closes every connection; idempotent. */
  async close(): Promise<void> {
    const tunnel = this.#tunnel;
    this.#tunnel = null;
    await tunnel?.close();
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #admit(): boolean {
    if (this.#admitted >= this.#o.maxConnections * 4) {
      this.stats.refused++;
      return false;
    }
    this.#admitted++;
    this.stats.connections++;
    return true;
  }

  async #plaintext(conn: Duplex): Promise<void> {
    this.stats.plaintext++;
    await this.#respond(conn, 400, {
      error:
        "This port speaks HTTPS only: the knarr asset sidecar needs TLS (https://)",
    }, { linger: true });
  }

  async #secure(conn: Duplex, remote: string): Promise<void> {
    const over = this.#serving >= this.#o.maxConnections;
    this.#serving++;
    try {
      const reader = new BufferedReader(conn);
      let head: RequestHead;
      try {
        head = parseRequestHead(
          await reader.readHeadText({
            maxBytes: this.#o.maxHeadBytes,
            lineTimeoutMs: this.#o.headerLineTimeoutMs,
            totalTimeoutMs: this.#o.headTimeoutMs,
          }),
        );
      } catch (error) {
        if (!(error instanceof HeadError)) throw error;
        if (error.message === "No request") return;
        this.#log.debug(
          `Sidecar: bad request from ${remote}: ${error.message}`,
        );
        await this.#respond(conn, error.status, { error: error.message }, {
          linger: true,
        });
        return;
      }
      if (over) {
        await this.#respond(conn, 503, {
          error:
            `Too many connections: at most ${this.#o.maxConnections} at once; try again`,
        }, { linger: true });
        return;
      }
      const status = await this.#route(conn, reader, head);
      this.#log.debug(
        `Sidecar: ${head.method} ${
          head.target.slice(0, 80)
        } -> ${status} (${remote})`,
      );
    } catch (error) {
      // A client that hangs up mid-download is ordinary; anything else is worth a warning.
      const gone = error instanceof Deno.errors.BrokenPipe ||
        error instanceof Deno.errors.ConnectionReset;
      this.#log[gone ? "debug" : "warn"](
        `Sidecar: request from ${remote} failed: ${(error as Error).message}`,
      );
    } finally {
      this.#serving--;
    }
  }

  /** Answers one request; returns the status sent. */
  async #route(
    conn: Duplex,
    reader: BufferedReader,
    head: RequestHead,
  ): Promise<number> {
    const path = head.target.split("?")[0]!;
    const method = head.method;
    let hash: string | null = null;
    if (path.startsWith("/assets/")) hash = path.slice("/assets/".length);
    const known =
      (path === "/assets" && (method === "PUT" || method === "GET")) ||
      (hash !== null &&
        (method === "GET" || method === "HEAD" || method === "DELETE"));
    const headOnly = method === "HEAD";
    if (!known) {
      return await this.#respond(conn, 404, { error: "Not found" }, {
        headOnly,
        linger: true,
      });
    }
    const auth = await this.#verifier.verify(method, head.target, head.headers);
    if (!auth.ok) {
      this.#log.debug(`Sidecar: unauthorized ${method}: ${auth.reason}`);
      return await this.#respond(conn, 401, { error: "Unauthorized" }, {
        headOnly,
        linger: true,
      });
    }
    if (hash !== null && !isHex64(hash)) {
      return await this.#respond(conn, 400, {
        error: "Invalid asset hash: expected 64 lowercase hex characters",
      }, { headOnly, linger: true });
    }
    if (method === "PUT") return await this.#put(conn, reader, head, auth);
    if (hash === null) {
      const { assets, totalSize } = this.#d.assets.list(1000);
      return await this.#respond(conn, 200, {
        assets: assets.map((a) => ({
          hash: a.hash,
          size: a.size,
          uploaded_at: a.uploadedAt,
          access_count: a.accessCount,
        })),
        total_size: totalSize,
      });
    }
    if (method === "DELETE") {
      if (auth.nodeId !== this.#d.identity.nodeId) {
        return await this.#respond(conn, 403, {
          error: "Forbidden: only this node may delete its assets",
        });
      }
      return await this.#d.assets.delete(hash)
        ? await this.#respond(conn, 200, { status: "ok" })
        : await this.#respond(conn, 404, { error: "Asset not found" });
    }
    if (method === "HEAD") {
      const info = this.#d.assets.info(hash);
      if (info === null) {
        return await this.#respond(conn, 404, { error: "Asset not found" }, {
          headOnly,
        });
      }
      await writeAll(
        conn,
        responseHead(200, "application/octet-stream", info.size),
      );
      return this.#count(200);
    }
    return await this.#get(conn, hash);
  }

  async #put(
    conn: Duplex,
    reader: BufferedReader,
    head: RequestHead,
    auth: { nodeId: string; publicKey: string; contentHash: string },
  ): Promise<number> {
    const fail = (status: number, error: string) =>
      this.#respond(conn, status, { error }, { linger: true });
    if (this.#d.allowUpload && !this.#d.allowUpload(auth)) {
      return await fail(403, "Uploads from this node are not allowed here");
    }
    if (head.headers.has("transfer-encoding")) {
      return await fail(
        400,
        "Chunked bodies are not supported: send Content-Length",
      );
    }
    let size: number | null;
    try {
      size = contentLength(head.headers);
    } catch (error) {
      return await fail(400, (error as Error).message);
    }
    if (size === null || size === 0) {
      return await fail(
        400,
        "Body required: Content-Length must be greater than 0",
      );
    }
    const expected = auth.contentHash === "empty"
      ? undefined
      : auth.contentHash;
    if (expected !== undefined && !isHex64(expected)) {
      return await fail(
        400,
        "Invalid X-Knarr-Content-Hash: expected 64 lowercase hex characters",
      );
    }
    const deadline = new AbortController();
    const timer = setTimeout(
      () => deadline.abort(new BodyTimeout()),
      this.#o.bodyTimeoutMs,
    );
    try {
      // The store's copy races every read against the deadline.
      const outcome = await this.#d.assets.write(
        reader,
        {
          size,
          ...(expected ? { expectedHash: expected } : {}),
          signal: deadline.signal,
        },
      );
      this.stats.bytesIn += size;
      return await this.#respond(conn, 200, {
        hash: outcome.hash,
        size: outcome.size,
      });
    } catch (error) {
      if (error instanceof AssetTooLargeError) {
        return await fail(413, error.message);
      }
      if (error instanceof AssetQuotaError) {
        return await fail(507, "Storage quota exceeded");
      }
      if (error instanceof AssetHashMismatchError) {
        return await fail(400, "Content hash mismatch");
      }
      if (error instanceof AssetTruncatedError) {
        return await fail(400, error.message);
      }
      if (error instanceof BodyTimeout) {
        return await fail(
          408,
          `Body not received within ${this.#o.bodyTimeoutMs / 1000} s`,
        );
      }
      this.#log.warn(
        `Sidecar: cannot store upload: ${(error as Error).message}`,
      );
      return await fail(500, "Cannot store asset");
    } finally {
      clearTimeout(timer);
    }
  }

  async #get(conn: Duplex, hash: string): Promise<number> {
    const opened = await this.#d.assets.openRead(hash);
    if (opened === null) {
      return await this.#respond(conn, 404, { error: "Asset not found" });
    }
    try {
      await writeAll(
        conn,
        responseHead(200, "application/octet-stream", opened.size),
      );
      const buffer = new Uint8Array(STREAM_CHUNK_BYTES);
      let sent = 0;
      while (sent < opened.size) {
        const n = await opened.file.read(
          buffer.subarray(0, Math.min(buffer.length, opened.size - sent)),
        );
        if (n === null) break;
        await writeAll(conn, buffer.subarray(0, n));
        sent += n;
      }
      this.stats.bytesOut += sent;
      await conn.closeWrite().catch(() => {});
      return this.#count(200);
    } finally {
      opened.file.close();
    }
  }

  /** Sends a JSON response (head only for HEAD) and ends the connection. */
  async #respond(
    conn: Duplex,
    status: number,
    body: unknown,
    options: { headOnly?: boolean; linger?: boolean } = {},
  ): Promise<number> {
    const bytes = jsonResponse(status, body, { headOnly: options.headOnly });
    try {
      await writeAll(conn, bytes);
      await conn.closeWrite();
      // Unread request bytes would make our close a reset that can swallow the answer.
      if (options.linger) await drain(conn, LINGER_MS);
    } catch {
      // The client left; nothing to tell it.
    }
    return this.#count(status);
  }

  #count(status: number): number {
    this.stats.responses[status] = (this.stats.responses[status] ?? 0) + 1;
    return status;
  }
}

/** Reads and drops bytes until EOF, an error or `ms` elapse. */
async function drain(conn: Duplex, ms: number): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  const end = performance.now() + ms;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  try {
    while (performance.now() < end) {
      const n = await Promise.race([conn.read(buffer), timeout]);
      if (n === null) return;
    }
  } catch {
    // reset by the client: done
  } finally {
    clearTimeout(timer);
  }
}
