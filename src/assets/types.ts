/** The shapes the asset store works with. */

/** What the store knows about one asset. */
export interface AssetInfo {
  /** SHA-256, 64 lowercase hex. */
  hash: string;
  /** Bytes. */
  size: number;
  /** Unix seconds of the upload (the file's mtime after a restart). */
  uploadedAt: number;
  /** Downloads since the store was opened. */
  accessCount: number;
}

/** Anything with a `Deno.Reader`-style read (`Deno.Conn`, `Deno.FsFile`, TLS connections). */
export interface ByteSource {
  /** Reads into `p`; resolves the byte count, or null at the end. */
  read(p: Uint8Array): Promise<number | null>;
}

/** Options of {@linkcode AssetStore.write}. */
export interface WriteOptions {
  /** Exact number of bytes to read from the source. */
  size: number;
  /** The hash the content must have. */
  expectedHash?: string;
  /** Cancels the write; the temporary file is removed. */
  signal?: AbortSignal;
  /** Called with the bytes written so far. */
  onProgress?: (bytesDone: number) => void;
}

/** What a write stored. */
export interface WriteOutcome {
  /** SHA-256 of the content. */
  hash: string;
  /** Bytes. */
  size: number;
  /** False when the asset was already stored. */
  created: boolean;
}
