/** Content-addressed asset files: `<dir>/<sha256 hex>`, written atomically. */
import { isHex64, sha256Hex } from "../util/mod.ts";

/** Options for {@linkcode AssetStore}. */
export interface AssetStoreOptions {
  /** Largest asset in bytes (`[node] max_asset_size`). Default 104857600. */
  maxBytes?: number;
}

/** Default largest asset, as `[node] max_asset_size`. */
export const DEFAULT_MAX_ASSET_BYTES = 104_857_600;

/**
 * The node's asset directory, addressed by SHA-256.
 *
 * @example
 * ```ts
 * import { AssetStore } from "./mod.ts";
 * const store = new AssetStore("/tmp/assets");
 * const hash = await store.put(new TextEncoder().encode("hello"));
 * console.log(await store.get(hash)); // "/tmp/assets/2cf24dba…"
 * ```
 */
export class AssetStore {
  /** Absolute path of the directory. */
  readonly dir: string;
  /** Largest asset in bytes. */
  readonly maxBytes: number;

  /** Takes the asset directory (trailing slashes dropped) and the size limit. */
  constructor(dir: string, options: AssetStoreOptions = {}) {
    this.dir = dir.replace(/\/+$/, "") || "/";
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_ASSET_BYTES;
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

  /** Stores bytes (once) and returns their SHA-256; throws `RangeError` past `maxBytes`. */
  async put(
    bytes: Uint8Array,
    options: { signal?: AbortSignal } = {},
  ): Promise<string> {
    if (bytes.byteLength > this.maxBytes) {
      throw new RangeError(
        `Cannot store asset: ${bytes.byteLength} bytes exceeds maximum ${this.maxBytes}`,
      );
    }
    const hash = await sha256Hex(bytes);
    options.signal?.throwIfAborted();
    if (await this.has(hash)) return hash;
    await Deno.mkdir(this.dir, { recursive: true });
    // Readers only ever see complete files: write aside, then rename into place.
    const temp = `${this.dir}/.${hash}.${crypto.randomUUID()}.tmp`;
    try {
      await Deno.writeFile(temp, bytes, {
        createNew: true,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      await Deno.rename(temp, this.pathOf(hash));
    } catch (error) {
      await Deno.remove(temp).catch(() => {});
      throw new Error(`Cannot store asset "${hash}" in "${this.dir}"`, {
        cause: error,
      });
    }
    return hash;
  }
}
