/** The one sidecar client: the CLI, the node and skills' asset fetches use it. */
import { copyHashed } from "../assets/mod.ts";
import type { AssetStore, WriteOutcome } from "../assets/mod.ts";
import type { Identity } from "../crypto/mod.ts";
import { SidecarHttpError } from "./errors.ts";
import {
  type Answer,
  assetListOf,
  type Body,
  checkHash,
  errorOf,
  hashBytes,
  hashFile,
  type ListedAsset,
  readJson,
  sendFile,
  sleepToNextSecond,
} from "./_client_io.ts";
import { signRequest } from "./request_auth.ts";
import {
  BufferedReader,
  contentLength,
  HeadError,
  parseResponseHead,
  requestHead,
  type ResponseHead,
  writeAll,
} from "./_http.ts";
import type { Duplex } from "./_duplex.ts";
import { connectPinned } from "./_pinned_tls.ts";

export type { ListedAsset };

/** A node's sidecar: where it is and which node it must be. */
export interface SidecarTarget {
  /** The node id its certificate key must hash to. */
  nodeId: string;
  /** Host of the node. */
  host: string;
  /** The node's sidecar port (its announced `sidecar_port`). */
  port: number;
}

/** Collaborators of {@linkcode SidecarClient}. */
export interface SidecarClientDeps {
  /** Signs every request. */
  identity: Identity;
  /** Unix seconds for request timestamps. Default: the system clock. */
  clock?: { now(): number };
}

/** Options for {@linkcode SidecarClient}. */
export interface SidecarClientOptions {
  /** Milliseconds to connect and to get the answer's head. Default 30000. */
  timeoutMs?: number;
}

/** Options of one transfer. */
export interface TransferOptions {
  /** Cancels the transfer (a partial download is removed). */
  signal?: AbortSignal;
  /** Called as bytes move: bytes done and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** What {@linkcode SidecarClient.upload} did. */
export interface UploadOutcome {
  /** SHA-256 of the content. */
  hash: string;
  /** Bytes. */
  size: number;
  /** False when the provider already had it (a HEAD answered 200). */
  uploaded: boolean;
}

/**
 * Signed requests to asset sidecars, with the certificate pinned to the node id.
 *
 * @example
 * ```ts
 * import { Identity } from "../crypto/mod.ts";
 * import { SidecarClient } from "./mod.ts";
 * const client = new SidecarClient({ identity: await Identity.generate() });
 * const target = { nodeId: "5f0c…", host: "127.0.0.1", port: 9001 };
 * const { hash } = await client.upload(target, "photo.png");
 * await client.download(target, hash, "copy.png");
 * ```
 */
export class SidecarClient {
  #identity: Identity;
  #clock: { now(): number };
  #timeoutMs: number;

  /** Takes the signing identity and the timeout. */
  constructor(deps: SidecarClientDeps, options: SidecarClientOptions = {}) {
    this.#identity = deps.identity;
    this.#clock = deps.clock ?? { now: () => Date.now() / 1000 };
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Size of an asset on the sidecar, or null when it does not have it. */
  async head(
    target: SidecarTarget,
    hash: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<number | null> {
    checkHash(hash);
    const answer = await this.#request(
      target,
      "HEAD",
      `/assets/${hash}`,
      options,
    );
    answer.conn.close();
    if (answer.head.status === 404) return null;
    if (answer.head.status !== 200) {
      throw new SidecarHttpError("check asset", answer.head.status, "");
    }
    return contentLength(answer.head.headers) ?? 0;
  }

  /**
   * Uploads bytes or a file (streamed from disk). A signed HEAD comes first: when the
   * sidecar already has the content, nothing is sent.
   */
  async upload(
    target: SidecarTarget,
    source: Uint8Array | string,
    options: TransferOptions = {},
  ): Promise<UploadOutcome> {
    const { hash, size } = typeof source === "string"
      ? await hashFile(source, options.signal)
      : { hash: hashBytes(source), size: source.length };
    if (size === 0) {
      throw new RangeError(
        "Cannot upload an empty asset: the sidecar refuses empty bodies",
      );
    }
    if ((await this.head(target, hash, options)) === size) {
      options.onProgress?.(size, size);
      return { hash, size, uploaded: false };
    }
    const send = typeof source === "string"
      ? (conn: Duplex) => sendFile(conn, source, size, options)
      : async (conn: Duplex) => {
        await writeAll(conn, source);
        options.onProgress?.(size, size);
      };
    const answer = await this.#request(target, "PUT", "/assets", {
      ...options,
      contentHash: hash,
      body: { size, send },
    });
    const body = await readJson(answer, "upload asset");
    if (answer.head.status !== 200) {
      throw new SidecarHttpError(
        "upload asset",
        answer.head.status,
        errorOf(body),
      );
    }
    const stored = (body ?? {}) as { hash?: unknown };
    if (stored.hash !== hash) {
      throw new Error(
        `Cannot upload asset: sidecar stored "${
          String(stored.hash)
        }", expected "${hash}"`,
      );
    }
    return { hash, size, uploaded: true };
  }

  /**
   * Downloads an asset to `path`: streamed to a temporary file beside it, checked
   * against the hash and size, then renamed into place. Returns the byte count.
   */
  async download(
    target: SidecarTarget,
    hash: string,
    path: string,
    options: TransferOptions = {},
  ): Promise<number> {
    const { answer, size } = await this.#get(target, hash, options);
    const temp = `${path}.part-${crypto.randomUUID().slice(0, 8)}`;
    try {
      const file = await Deno.open(temp, { write: true, createNew: true });
      let digest: string;
      try {
        digest = await copyHashed(answer.reader, file, {
          size,
          signal: options.signal,
          onProgress: options.onProgress &&
            ((done: number) => options.onProgress!(done, size)),
        });
      } finally {
        file.close();
      }
      if (digest !== hash) {
        throw new Error(
          `Cannot download asset "${hash}": content hashes to "${digest}"`,
        );
      }
      await Deno.rename(temp, path);
      return size;
    } catch (error) {
      await Deno.remove(temp).catch(() => {});
      throw error;
    } finally {
      answer.conn.close();
    }
  }

  /** Downloads an asset straight into an asset store (checked by the store against its hash). */
  async fetchInto(
    target: SidecarTarget,
    hash: string,
    store: AssetStore,
    options: TransferOptions = {},
  ): Promise<WriteOutcome> {
    const { answer, size } = await this.#get(target, hash, options);
    try {
      return await store.write(answer.reader, {
        size,
        expectedHash: hash,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress
          ? { onProgress: (done: number) => options.onProgress!(done, size) }
          : {}),
      });
    } finally {
      answer.conn.close();
    }
  }

  /** The sidecar's asset list (at most 1,000 entries) and total size. */
  async list(
    target: SidecarTarget,
    options: { signal?: AbortSignal } = {},
  ): Promise<{ assets: ListedAsset[]; total_size: number }> {
    const answer = await this.#request(target, "GET", "/assets", options);
    const body = await readJson(answer, "list assets");
    if (answer.head.status !== 200) {
      throw new SidecarHttpError(
        "list assets",
        answer.head.status,
        errorOf(body),
      );
    }
    return assetListOf(body);
  }

  /** Deletes an asset (only a node's own key may); false when it was not there. */
  async delete(
    target: SidecarTarget,
    hash: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<boolean> {
    checkHash(hash);
    const answer = await this.#request(
      target,
      "DELETE",
      `/assets/${hash}`,
      options,
    );
    const body = await readJson(answer, "delete asset");
    if (answer.head.status === 404) return false;
    if (answer.head.status !== 200) {
      throw new SidecarHttpError(
        "delete asset",
        answer.head.status,
        errorOf(body),
      );
    }
    return true;
  }

  async #get(
    target: SidecarTarget,
    hash: string,
    options: TransferOptions,
  ): Promise<{ answer: Answer; size: number }> {
    checkHash(hash);
    const answer = await this.#request(
      target,
      "GET",
      `/assets/${hash}`,
      options,
    );
    if (answer.head.status !== 200) {
      const body = await readJson(answer, "download asset").catch(() => null);
      throw new SidecarHttpError(
        "download asset",
        answer.head.status,
        errorOf(body),
      );
    }
    const size = contentLength(answer.head.headers);
    if (size === null) {
      answer.conn.close();
      throw new Error(
        `Cannot download asset "${hash}": answer has no Content-Length`,
      );
    }
    return { answer, size };
  }

  /**
   * Sends one signed request and reads the answer's head. A 401 is retried once with a
   * fresh timestamp: two identical requests in the same second carry the same
   * signature, which the sidecar refuses as a replay.
   */
  async #request(
    target: SidecarTarget,
    method: string,
    path: string,
    options: { signal?: AbortSignal; contentHash?: string; body?: Body },
  ): Promise<Answer> {
    for (let attempt = 0;; attempt++) {
      const answer = await this.#once(target, method, path, options);
      if (answer.head.status !== 401 || attempt > 0) return answer;
      answer.conn.close();
      await sleepToNextSecond(this.#clock.now(), options.signal);
    }
  }

  async #once(
    target: SidecarTarget,
    method: string,
    path: string,
    options: { signal?: AbortSignal; contentHash?: string; body?: Body },
  ): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (options.body) headers["Content-Length"] = String(options.body.size);
    Object.assign(
      headers,
      await signRequest(this.#identity, method, path, {
        timestamp: Math.floor(this.#clock.now()),
        ...(options.contentHash ? { contentHash: options.contentHash } : {}),
      }),
    );
    const conn = await connectPinned(target, {
      timeoutMs: this.#timeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const onAbort = () => conn.close();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const reader = new BufferedReader(conn);
      let sendError: unknown = null;
      try {
        await writeAll(conn, requestHead(method, path, headers));
        if (options.body) await options.body.send(conn);
      } catch (error) {
        // The sidecar may have answered early (413, 507…) and closed: read its answer.
        sendError = error;
      }
      options.signal?.throwIfAborted();
      let head: ResponseHead;
      try {
        head = parseResponseHead(
          await reader.readHeadText({
            maxBytes: 16_384,
            lineTimeoutMs: this.#timeoutMs,
            totalTimeoutMs: this.#timeoutMs,
          }),
        );
      } catch (error) {
        if (sendError) throw sendError;
        if (error instanceof HeadError) {
          throw new Error(
            `Cannot ${method} ${path} on sidecar "${target.host}:${target.port}": ${error.message}`,
          );
        }
        throw error;
      }
      return { conn, head, reader };
    } catch (error) {
      conn.close();
      options.signal?.throwIfAborted();
      throw error;
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
    }
  }
}
