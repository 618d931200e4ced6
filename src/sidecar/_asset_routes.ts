/** The sidecar's HTTP API on the asset store: list, upload, download, HEAD and DELETE. */
import {
  AssetHashMismatchError,
  AssetQuotaError,
  AssetTooLargeError,
  AssetTruncatedError,
} from "../assets/mod.ts";
import type { AssetStore } from "../assets/mod.ts";
import type { Identity } from "../crypto/mod.ts";
import { isHex64, type Logger } from "../util/mod.ts";
import { RequestVerifier } from "./request_auth.ts";
import type { Duplex } from "./_duplex.ts";
import {
  type BufferedReader,
  contentLength,
  type RequestHead,
  responseHead,
  writeAll,
} from "./_http.ts";
import type { Responder } from "./_responder.ts";

const STREAM_CHUNK_BYTES = 256 * 1024;

/** True for the errors of a client that went away (reset, closed without TLS close_notify). */
export function clientGone(error: unknown): boolean {
  return error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.UnexpectedEof;
}

/** Why an upload body stopped arriving. */
class BodyTimeout extends Error {}

/** Why an upload was cut short: its body came slower than the minimum rate. */
class BodyTooSlow extends Error {}

// How often an upload's rate is checked.
const RATE_CHECK_MS = 1_000;

/** Collaborators of {@linkcode AssetRoutes}. */
export interface AssetRoutesDeps {
  /** The node identity: only it may DELETE. */
  identity: Identity;
  /** The asset directory served. */
  assets: AssetStore;
  /** Unix seconds, for request signatures. Default: the system clock. */
  clock?: { now(): number } | undefined;
  /** Whether a signer may upload. Default: every signer. */
  allowUpload?:
    | ((who: { nodeId: string; publicKey: string }) => boolean)
    | undefined;
  /** Sends and counts the responses. */
  responder: Responder;
  /** The server's body byte counters. */
  stats: { bytesIn: number; bytesOut: number };
  /** Where refused requests and store faults are logged. */
  logger: Logger;
}

/** Options of {@linkcode AssetRoutes}. */
export interface AssetRoutesOptions {
  /** An upload body must arrive within this many ms. */
  bodyTimeoutMs: number;
  /** After `uploadGraceMs`, the body must average at least this many bytes a second. */
  minUploadBytesPerSecond: number;
  /** Milliseconds before the rate is checked. */
  uploadGraceMs: number;
  /** Signatures remembered against replay at most. */
  replayMemory: number;
}

/** Checks a request's signature and answers it from the asset store. */
export class AssetRoutes {
  #d: AssetRoutesDeps;
  #o: AssetRoutesOptions;
  #verifier: RequestVerifier;
  #responder: Responder;
  #stats: { bytesIn: number; bytesOut: number };
  #log: Logger;

  /** Takes the store, identity and responder, and the body timeout. */
  constructor(deps: AssetRoutesDeps, options: AssetRoutesOptions) {
    this.#d = deps;
    this.#o = options;
    this.#responder = deps.responder;
    this.#stats = deps.stats;
    this.#log = deps.logger;
    this.#verifier = new RequestVerifier(
      deps.clock ? { clock: deps.clock } : {},
      { maxRemembered: options.replayMemory },
    );
  }

  /** Answers one request; returns the status sent. */
  async route(
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
      return await this.#responder.json(conn, 404, { error: "Not found" }, {
        headOnly,
        linger: true,
      });
    }
    const auth = await this.#verifier.verify(method, head.target, head.headers);
    if (!auth.ok) {
      this.#log.debug(`Sidecar: unauthorized ${method}: ${auth.reason}`);
      return await this.#responder.json(conn, 401, { error: "Unauthorized" }, {
        headOnly,
        linger: true,
      });
    }
    if (hash !== null && !isHex64(hash)) {
      return await this.#responder.json(conn, 400, {
        error: "Invalid asset hash: expected 64 lowercase hex characters",
      }, { headOnly, linger: true });
    }
    if (method === "PUT") return await this.#put(conn, reader, head, auth);
    if (hash === null) {
      const { assets, totalSize } = this.#d.assets.list(1000);
      return await this.#responder.json(conn, 200, {
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
        return await this.#responder.json(conn, 403, {
          error: "Forbidden: only this node may delete its assets",
        });
      }
      return await this.#d.assets.delete(hash)
        ? await this.#responder.json(conn, 200, { status: "ok" })
        : await this.#responder.json(conn, 404, { error: "Asset not found" });
    }
    if (method === "HEAD") {
      const info = this.#d.assets.info(hash);
      if (info === null) {
        return await this.#responder.json(conn, 404, {
          error: "Asset not found",
        }, { headOnly });
      }
      await writeAll(
        conn,
        responseHead(200, "application/octet-stream", info.size),
      );
      return this.#responder.count(200);
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
      this.#responder.json(conn, status, { error }, { linger: true });
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
    // As Apache's mod_reqtimeout: the deadline is the grace plus 1 s per minimum rate's worth
    // of bytes received, so a trickling upload cannot hold a connection and its quota share.
    const started = performance.now();
    let received = 0;
    const counted = {
      read: async (p: Uint8Array) => {
        const n = await reader.read(p);
        if (n !== null) received += n;
        return n;
      },
    };
    const { minUploadBytesPerSecond: minRate, uploadGraceMs } = this.#o;
    const rateCheck = setInterval(() => {
      const dueBytes = (performance.now() - started - uploadGraceMs) / 1000 *
        minRate;
      if (received < Math.min(size, dueBytes)) {
        deadline.abort(new BodyTooSlow());
      }
    }, RATE_CHECK_MS);
    try {
      // The store's copy races every read against the deadline.
      const outcome = await this.#d.assets.write(
        counted,
        {
          size,
          ...(expected ? { expectedHash: expected } : {}),
          signal: deadline.signal,
        },
      );
      this.#stats.bytesIn += size;
      return await this.#responder.json(conn, 200, {
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
      if (error instanceof BodyTooSlow) {
        return await fail(
          408,
          `Body arrived slower than ${minRate} bytes a second`,
        );
      }
      if (clientGone(error)) {
        // The uploader hung up mid-body: ordinary (and peers could flood the log with it).
        this.#log.debug(
          `Sidecar: upload ended early: ${(error as Error).message}`,
        );
        return await fail(400, "Upload ended before its body was complete");
      }
      this.#log.warn(
        `Sidecar: cannot store upload: ${(error as Error).message}`,
      );
      return await fail(500, "Cannot store asset");
    } finally {
      clearTimeout(timer);
      clearInterval(rateCheck);
    }
  }

  async #get(conn: Duplex, hash: string): Promise<number> {
    const opened = await this.#d.assets.openRead(hash);
    if (opened === null) {
      return await this.#responder.json(conn, 404, {
        error: "Asset not found",
      });
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
      this.#stats.bytesOut += sent;
      await conn.closeWrite().catch(() => {});
      return this.#responder.count(200);
    } finally {
      opened.file.close();
    }
  }
}
