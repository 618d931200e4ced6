/**
 * The quota of an asset directory: room reserved by writes in flight, and one warning
 * each time the stored assets cross 80 % of the quota.
 */
import type { Logger } from "../util/mod.ts";
import type { AssetIndex } from "./_asset_index.ts";
import { AssetQuotaError } from "./errors.ts";

const WARN_FRACTION = 0.8;

/** Collaborators of {@linkcode AssetQuota}. */
export interface AssetQuotaDeps {
  /** The index whose total size counts against the quota. */
  index: AssetIndex;
  /** Where the warning goes. */
  logger: Logger;
}

/** Options of {@linkcode AssetQuota}. */
export interface AssetQuotaOptions {
  /** The asset directory, for the warning. */
  dir: string;
  /** Quota for all assets together, in bytes. */
  maxTotalBytes: number;
}

/** Quota bookkeeping on top of an {@linkcode AssetIndex}. */
export class AssetQuota {
  readonly #index: AssetIndex;
  readonly #log: Logger;
  readonly #dir: string;
  readonly #maxTotalBytes: number;
  #reserved = 0;
  #warned = false;

  /** Takes the index and logger, and the limit. */
  constructor(deps: AssetQuotaDeps, options: AssetQuotaOptions) {
    this.#index = deps.index;
    this.#log = deps.logger;
    this.#dir = options.dir;
    this.#maxTotalBytes = options.maxTotalBytes;
  }

  /**
   * Reserves `size` bytes for a write; throws `AssetQuotaError` when the indexed and
   * reserved bytes leave no room for them.
   */
  reserve(size: number): void {
    const used = this.#index.totalBytes + this.#reserved;
    if (used + size > this.#maxTotalBytes) {
      throw new AssetQuotaError(size, used, this.#maxTotalBytes);
    }
    this.#reserved += size;
  }

  /** Gives back bytes a finished write reserved. */
  release(size: number): void {
    this.#reserved -= size;
  }

  /** Notes that the index shrank: back under the threshold, the next crossing warns again. */
  shrank(): void {
    if (this.#index.totalBytes <= WARN_FRACTION * this.#maxTotalBytes) {
      this.#warned = false;
    }
  }

  /** Warns once when the indexed assets are over the threshold. */
  check(): void {
    const total = this.#index.totalBytes;
    const over = total > WARN_FRACTION * this.#maxTotalBytes;
    if (over && !this.#warned) {
      this.#log.warn(
        `Asset directory "${this.#dir}" is at ${
          Math.round((total / this.#maxTotalBytes) * 100)
        } % of its quota (${total} of ${this.#maxTotalBytes} bytes); raise [sidecar] max_total_size or lower asset_ttl`,
      );
    }
    this.#warned = over;
  }
}
