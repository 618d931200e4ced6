/**
 * Content-addressed asset files: `<dir>/<sha256 hex>`. Writes stream into a temporary
 * file while they are hashed and are renamed into place only when size and hash check
 * out, so readers never see a partial asset. An in-memory index keeps sizes, upload
 * times, access counts and retention; it is rebuilt from the directory on open.
 */
import { createHash } from "node:crypto";
import { AssetIndex, publicInfo } from "./_asset_index.ts";
import { copyToTemp, scanAssetDir, tempPathIn } from "./_asset_dir.ts";
import { AssetQuota } from "./_asset_quota.ts";
import { Sweeper } from "./_sweeper.ts";
import type {
  AssetInfo,
  ByteSource,
  WriteOptions,
  WriteOutcome,
} from "./types.ts";
import { isHex64, type Logger, SILENT_LOGGER } from "../util/mod.ts";
import { AssetHashMismatchError, AssetTooLargeError } from "./errors.ts";

/** Options for {@linkcode AssetStore}. */
export interface AssetStoreOptions {
  /** Largest asset in bytes (`[node] max_asset_size`). Default 104857600. */
  maxBytes?: number;
  /** Quota for all assets together, bytes (`[sidecar] max_total_size`). Default 1073741824. */
  maxTotalBytes?: number;
  /** Seconds an asset is kept after upload; 0 = forever (`[sidecar] asset_ttl`). Default 3600. */
  ttlSeconds?: number;
  /** Unix seconds; injectable for tests. Default: the system clock. */
  clock?: { now(): number };
  /** Where the quota warning and sweep failures go. Default: silent. */
  logger?: Logger;
}

/** Default largest asset, as `[node] max_asset_size`. */
export const DEFAULT_MAX_ASSET_BYTES = 104_857_600;
const DEFAULT_MAX_TOTAL_BYTES = 1_073_741_824;
const DEFAULT_TTL_SECONDS = 3600;

/**
 * The node's asset directory, addressed by SHA-256.
 *
 * @example
 * ```ts
 * import { AssetStore } from "./mod.ts";
 * await using store = new AssetStore("/tmp/assets");
 * const hash = await store.put(new TextEncoder().encode("hello"));
 * console.log(await store.get(hash)); // "/tmp/assets/2cf24dba…"
 * ```
 */
export class AssetStore {
  /** Absolute path of the directory. */
  readonly dir: string;
  /** Largest asset in bytes. */
  readonly maxBytes: number;
  /** Quota for all assets together. */
  readonly maxTotalBytes: number;
  /** Seconds an asset is kept after upload; 0 = forever. */
  readonly ttlSeconds: number;
  #clock: { now(): number };
  #log: Logger;
  #index = new AssetIndex();
  // Hashes being renamed into place, and when that is done.
  #committing = new Map<string, Promise<void>>();
  #quota: AssetQuota;
  #sweeper: Sweeper;
  #opening: Promise<void> | null = null;

  /** Takes the asset directory (trailing slashes dropped) and the limits. */
  constructor(dir: string, options: AssetStoreOptions = {}) {
    this.dir = dir.replace(/\/+$/, "") || "/";
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_ASSET_BYTES;
    this.maxTotalBytes = options.maxTotalBytes ?? DEFAULT_MAX_TOTAL_BYTES;
    this.ttlSeconds = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
    this.#clock = options.clock ?? { now: () => Date.now() / 1000 };
    this.#log = options.logger ?? SILENT_LOGGER;
    this.#quota = new AssetQuota({ index: this.#index, logger: this.#log }, {
      dir: this.dir,
      maxTotalBytes: this.maxTotalBytes,
    });
    this.#sweeper = new Sweeper(() => this.sweep(), this.#log);
  }

  /**
   * Creates the directory and indexes the assets in it (upload time = mtime); removes
   * temporary files a crashed write left. Idempotent; other methods call it.
   */
  open(): Promise<void> {
    return this.#opening ??= scanAssetDir(this.dir, this.#index).catch(
      (error) => {
        // let a later call retry (say, once the directory's permissions are fixed)
        this.#opening = null;
        throw new Error(`Cannot open asset directory "${this.dir}"`, {
          cause: error,
        });
      },
    );
  }

  /** Bytes of all indexed assets. */
  get totalBytes(): number {
    return this.#index.totalBytes;
  }

  /** Path an asset has (or would have); throws `TypeError` for a malformed hash. */
  pathOf(hash: string): string {
    if (!isHex64(hash)) {
      throw new TypeError(
        `Cannot locate asset "${
          String(hash).slice(0, 80)
        }": not a 64-character lowercase hex SHA-256 digest`,
      );
    }
    return `${this.dir}/${hash}`;
  }

  /** Path of a stored asset, or null when it is not stored. */
  async get(
    hash: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<string | null> {
    const path = this.pathOf(hash);
    options.signal?.throwIfAborted();
    try {
      return (await Deno.lstat(path)).isFile ? path : null;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    }
  }

  /** True when the asset is stored. */
  async has(
    hash: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<boolean> {
    return (await this.get(hash, options)) !== null;
  }

  /** What the index knows of an asset, or null (call `open()` first). */
  info(hash: string): AssetInfo | null {
    this.pathOf(hash);
    const e = this.#index.get(hash);
    return e ? publicInfo(e) : null;
  }

  /** Up to `limit` assets, newest first, and the total size of all of them. */
  list(limit = 1000): { assets: AssetInfo[]; totalSize: number } {
    return {
      assets: this.#index.newest(limit),
      totalSize: this.#index.totalBytes,
    };
  }

  /**
   * Streams exactly `options.size` bytes from `source` into the store. Throws
   * `AssetTooLargeError` or `AssetQuotaError` before reading anything,
   * `AssetTruncatedError` when the source ends early and `AssetHashMismatchError` when
   * `expectedHash` does not match; after any failure no file is left behind.
   */
  async write(
    source: ByteSource,
    options: WriteOptions,
  ): Promise<WriteOutcome> {
    const size = options.size;
    if (!Number.isSafeInteger(size) || size < 1) {
      throw new TypeError(
        `Cannot store asset: size must be a whole number of bytes above 0 (got ${size})`,
      );
    }
    if (options.expectedHash !== undefined && !isHex64(options.expectedHash)) {
      throw new TypeError(
        `Cannot store asset: expected hash "${
          String(options.expectedHash).slice(0, 80)
        }" is not 64 lowercase hex characters`,
      );
    }
    if (size > this.maxBytes) throw new AssetTooLargeError(size, this.maxBytes);
    await this.open();
    const stored = options.expectedHash !== undefined &&
      this.#index.has(options.expectedHash);
    // Content already stored adds nothing: a re-upload near the quota still succeeds,
    // and it reserves nothing, so it cannot crowd out other writes.
    const reserve = stored ? 0 : size;
    if (reserve > 0) this.#quota.reserve(reserve);
    const temp = tempPathIn(this.dir);
    try {
      const hash = await copyToTemp(source, temp, options);
      if (options.expectedHash !== undefined && hash !== options.expectedHash) {
        throw new AssetHashMismatchError(options.expectedHash, hash);
      }
      const created = await this.#commit(temp, hash, size);
      return { hash, size, created };
    } catch (error) {
      await Deno.remove(temp).catch(() => {});
      throw error;
    } finally {
      this.#quota.release(reserve);
    }
  }

  /** Renames a checked temp file into place; false when the asset was already there. */
  async #commit(temp: string, hash: string, size: number): Promise<boolean> {
    // Of concurrent writes of the same new content exactly one commits it and reports
    // `created`; the others wait for it (a second one that found the first's file on
    // disk and indexed it first made both report false).
    for (let inFlight; (inFlight = this.#committing.get(hash));) {
      await inFlight; // then indexed, unless that commit failed: try again below
    }
    if (this.#index.has(hash)) {
      await Deno.remove(temp).catch(() => {});
      this.#index.add(hash, size, this.#clock.now());
      return false;
    }
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#committing.set(hash, promise);
    try {
      const existed = await this.has(hash);
      if (existed) await Deno.remove(temp).catch(() => {});
      else await Deno.rename(temp, this.pathOf(hash));
      this.#index.add(hash, size, this.#clock.now());
      if (!existed) this.#quota.check();
      return !existed;
    } finally {
      this.#committing.delete(hash);
      resolve();
    }
  }

  /** Stores bytes (once) and returns their SHA-256; throws `RangeError` past the limits. */
  async put(
    bytes: Uint8Array,
    options: { signal?: AbortSignal } = {},
  ): Promise<string> {
    if (bytes.byteLength > this.maxBytes) {
      throw new AssetTooLargeError(bytes.byteLength, this.maxBytes);
    }
    const hash = createHash("sha256").update(bytes).digest("hex");
    options.signal?.throwIfAborted();
    await this.open();
    if (await this.has(hash)) {
      if (!this.#index.has(hash)) {
        this.#index.add(hash, bytes.byteLength, this.#clock.now());
      }
      return hash;
    }
    let offset = 0;
    const source: ByteSource = {
      read: (p) => {
        if (offset >= bytes.length) return Promise.resolve(null);
        const n = Math.min(p.length, bytes.length - offset);
        p.set(bytes.subarray(offset, offset + n));
        offset += n;
        return Promise.resolve(n);
      },
    };
    if (bytes.length === 0) {
      await Deno.writeFile(this.pathOf(hash), bytes);
      this.#index.add(hash, 0, this.#clock.now());
      return hash;
    }
    await this.write(source, {
      size: bytes.length,
      expectedHash: hash,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return hash;
  }

  /** Streams a local file into the store. */
  async putFile(
    path: string,
    options: Omit<WriteOptions, "size"> = {},
  ): Promise<WriteOutcome> {
    using file = await Deno.open(path);
    const { size } = await file.stat();
    return await this.write(file, { ...options, size });
  }

  /**
   * Opens a stored asset for reading (the caller closes the file), counting an access;
   * null when it is not stored.
   */
  async openRead(
    hash: string,
  ): Promise<{ file: Deno.FsFile; size: number } | null> {
    const path = this.pathOf(hash);
    await this.open();
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        this.#drop(hash);
        return null;
      }
      throw error;
    }
    const { size } = await file.stat();
    const entry = this.#index.get(hash) ??
      this.#index.add(hash, size, this.#clock.now());
    entry.accessCount++;
    entry.downloadedSinceRetain = true;
    return { file, size };
  }

  /** Deletes an asset; false when it was not stored. */
  async delete(hash: string): Promise<boolean> {
    const path = this.pathOf(hash);
    await this.open();
    try {
      await Deno.remove(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        this.#drop(hash);
        return false;
      }
      throw error;
    }
    this.#drop(hash);
    return true;
  }

  /**
   * Marks an asset named in a task result: the sweep keeps it one more TTL from now, or
   * until it has been downloaded, whichever comes first.
   */
  retain(hash: string): void {
    this.pathOf(hash);
    const entry = this.#index.get(hash);
    if (!entry) return;
    entry.retainedUntil = this.#clock.now() + this.ttlSeconds;
    entry.downloadedSinceRetain = false;
  }

  /** Deletes assets older than the TTL (except retained ones); returns their hashes. */
  async sweep(): Promise<string[]> {
    await this.open();
    const deleted: string[] = [];
    if (this.ttlSeconds > 0) {
      const now = this.#clock.now();
      for (const entry of this.#index.entries()) {
        if (now - entry.uploadedAt <= this.ttlSeconds) continue;
        if (now <= entry.retainedUntil && !entry.downloadedSinceRetain) {
          continue;
        }
        try {
          if (await this.delete(entry.hash)) deleted.push(entry.hash);
        } catch (error) {
          this.#log.warn(
            `Cannot delete expired asset ${entry.hash.slice(0, 12)}: ${
              (error as Error).message
            }`,
          );
        }
      }
    }
    this.#quota.check();
    return deleted;
  }

  /** Runs `sweep()` every `intervalMs` (default 60000) until `close()`. */
  startSweeper(options: { intervalMs?: number } = {}): void {
    this.#sweeper.start(options.intervalMs ?? 60_000);
  }

  /** Stops the sweeper and waits for a sweep in progress; idempotent. */
  async close(): Promise<void> {
    await this.#sweeper.stop();
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #drop(hash: string): void {
    if (this.#index.drop(hash)) this.#quota.shrank();
  }
}
