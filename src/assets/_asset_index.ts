/** The in-memory index of an asset directory: sizes, upload times, accesses, retention. */
import type { AssetInfo } from "./types.ts";

/** What the index keeps per asset. */
export interface IndexEntry extends AssetInfo {
  /** Kept past its TTL until then (unix seconds), unless downloaded since. */
  retainedUntil: number;
  /** Opened for reading since the last `retain`. */
  downloadedSinceRetain: boolean;
}

/** Assets by hash, with their total size. */
export class AssetIndex {
  #entries = new Map<string, IndexEntry>();
  #total = 0;

  /** Bytes of all indexed assets. */
  get totalBytes(): number {
    return this.#total;
  }

  /** True when the hash is indexed. */
  has(hash: string): boolean {
    return this.#entries.has(hash);
  }

  /** The entry of a hash. */
  get(hash: string): IndexEntry | undefined {
    return this.#entries.get(hash);
  }

  /** Indexes an asset once; an indexed one keeps its entry. */
  add(hash: string, size: number, uploadedAt: number): IndexEntry {
    const old = this.#entries.get(hash);
    if (old) return old;
    const entry: IndexEntry = {
      hash,
      size,
      uploadedAt,
      accessCount: 0,
      retainedUntil: 0,
      downloadedSinceRetain: false,
    };
    this.#entries.set(hash, entry);
    this.#total += size;
    return entry;
  }

  /** Forgets an asset; false when it was not indexed. */
  drop(hash: string): boolean {
    const entry = this.#entries.get(hash);
    if (!entry) return false;
    this.#entries.delete(hash);
    this.#total -= entry.size;
    return true;
  }

  /** Every entry (a copy of the list: safe to drop while iterating). */
  entries(): IndexEntry[] {
    return [...this.#entries.values()];
  }

  /** Up to `limit` assets, newest first. */
  newest(limit: number): AssetInfo[] {
    return this.entries()
      .sort((a, b) => b.uploadedAt - a.uploadedAt || (a.hash < b.hash ? -1 : 1))
      .slice(0, Math.max(0, limit))
      .map(publicInfo);
  }
}

/** The public view of an entry. */
export function publicInfo(e: IndexEntry): AssetInfo {
  return {
    hash: e.hash,
    size: e.size,
    uploadedAt: e.uploadedAt,
    accessCount: e.accessCount,
  };
}
