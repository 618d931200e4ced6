/** The streamed copy under every asset transfer: read, hash and write, overlapped. */
import { createHash } from "node:crypto";
import { writeAll, type Writer } from "../util/mod.ts";
import { AssetTruncatedError } from "./errors.ts";
import type { ByteSource } from "./types.ts";

/** Where {@linkcode copyHashed} writes (`Deno.FsFile` fits). */
export type ByteSink = Writer;

/** Options of {@linkcode copyHashed}. */
export interface CopyOptions {
  /** Exact number of bytes to copy; never more is read. */
  size: number;
  /** Stops the copy with the signal's reason. */
  signal?: AbortSignal | undefined;
  /** Called with the bytes written so far. */
  onProgress?: ((bytesDone: number) => void) | undefined;
}

const BUFFER_BYTES = 1024 * 1024;

/**
 * Copies exactly `options.size` bytes and returns their SHA-256 (hex). A TLS socket
 * yields ~16 KiB per read, so reads fill 1 MiB buffers; each full buffer is hashed
 * and written while the next one fills (two buffers, so memory stays at 2 MiB).
 * Throws `AssetTruncatedError` when the source ends early.
 */
export async function copyHashed(
  source: ByteSource,
  sink: ByteSink,
  options: CopyOptions,
): Promise<string> {
  const hash = createHash("sha256");
  const buffers = [new Uint8Array(BUFFER_BYTES), new Uint8Array(BUFFER_BYTES)];
  let writing: Promise<void> = Promise.resolve();
  let done = 0;
  try {
    for (let k = 0; done < options.size; k++) {
      const buffer = buffers[k & 1]!;
      const want = Math.min(BUFFER_BYTES, options.size - done);
      let filled = 0;
      while (filled < want) {
        const n = await readOrAbort(
          source,
          buffer.subarray(filled, want),
          options.signal,
        );
        if (n === null) {
          throw new AssetTruncatedError(done + filled, options.size);
        }
        filled += n;
      }
      const chunk = buffer.subarray(0, filled);
      hash.update(chunk);
      await writing;
      done += filled;
      const progress = done;
      writing = writeAll(sink, chunk).then(() =>
        options.onProgress?.(progress)
      );
    }
    await writing;
  } catch (error) {
    // Never leave a write running on a file the caller is about to close.
    await writing.catch(() => {});
    throw error;
  }
  options.signal?.throwIfAborted();
  return hash.digest("hex");
}

/**
 * One read that an abort interrupts: a stalled socket would otherwise hold the copy
 * (and its temporary file) until the peer sends again.
 */
function readOrAbort(
  source: ByteSource,
  p: Uint8Array,
  signal: AbortSignal | undefined,
): Promise<number | null> {
  if (signal === undefined) return source.read(p);
  signal.throwIfAborted();
  const read = source.read(p);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      // the abandoned read may still settle; its outcome no longer matters
      read.catch(() => {});
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    read.then(resolve, reject).finally(() =>
      signal.removeEventListener("abort", onAbort)
    );
  });
}
