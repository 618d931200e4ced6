/** Waiting with a limit, and writing a whole buffer. */

/** The promise's value, or "timeout" after `ms` (the promise is then abandoned). */
export async function within<T>(
  promise: Promise<T>,
  ms: number,
): Promise<T | "timeout"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Anything with a `Deno.Conn`-style `write`. */
export interface Writer {
  /** Writes some of `p`; resolves how many bytes. */
  write(p: Uint8Array): Promise<number>;
}

/** Writes all of `bytes`, however many calls it takes. */
export async function writeAll(
  writer: Writer,
  bytes: Uint8Array,
): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    offset += await writer.write(bytes.subarray(offset));
  }
}
