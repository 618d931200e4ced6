/** The outbound frames of one connection, gathered into few large chunks (no I/O here). */

// Small frames are copied together into chunks of up to this size; larger ones are never copied.
const COALESCE_BYTES = 64 * 1024;
// A chunk starts at twice what it first holds (at least this) and doubles while it fills: a
// receiver sent two small frames in one tick then holds 1 KiB, not 64 (5,000 relay agents each
// sent a few frames at once held 64 KiB apiece, zeroed, and grew the relay by hundreds of MB).
const MIN_CHUNK_BYTES = 1024;
// Full-size chunk buffers come back here after their write (they are recycled, not garbage).
const POOL_SIZE = 16;
const pool: Uint8Array<ArrayBuffer>[] = [];

function allocate(size: number): Uint8Array<ArrayBuffer> {
  if (size > COALESCE_BYTES) return new Uint8Array(size);
  let chunk = MIN_CHUNK_BYTES;
  while (chunk < size * 2 && chunk < COALESCE_BYTES) chunk *= 2;
  if (chunk < COALESCE_BYTES) return new Uint8Array(chunk);
  return pool.pop() ?? new Uint8Array(COALESCE_BYTES);
}

function recycle(buffer: Uint8Array<ArrayBuffer>): void {
  if (buffer.length === COALESCE_BYTES && pool.length < POOL_SIZE) {
    pool.push(buffer);
  }
}

interface ReadyChunk {
  bytes: Uint8Array;
  frames: number;
  pooled: Uint8Array<ArrayBuffer> | null;
}

/**
 * Frames waiting to be written, as chunks. A frame is queued as it came, without a copy; a frame
 * that directly follows the previous one in the same buffer (consecutive frames of one read)
 * extends its view, still without a copy; other small frames are copied into a pooled chunk, so
 * that a connection holds views of at most a few receive buffers and a burst goes out in one
 * write.
 */
export class Outbox {
  /** Frames queued or being written. */
  frames = 0;
  /** Bytes queued or being written. */
  bytes = 0;
  // Chunks complete and waiting, in order (allocated on first use: idle connections stay small).
  #ready: ReadyChunk[] | null = null;
  // The chunk still growing: a view of the caller's bytes, or a pooled buffer filled to #fill.
  #open: Uint8Array | null = null;
  #openPooled: Uint8Array<ArrayBuffer> | null = null;
  #fill = 0;
  #openFrames = 0;
  // The chunk being written.
  #writingFrames = 0;
  #writingBytes = 0;
  #writingPooled: Uint8Array<ArrayBuffer> | null = null;

  /** Frames waiting behind the chunk being written. */
  get waitingFrames(): number {
    return this.frames - this.#writingFrames;
  }

  /** Bytes waiting behind the chunk being written. */
  get waitingBytes(): number {
    return this.bytes - this.#writingBytes;
  }

  /** True when nothing waits to be written (a write may still be in progress). */
  get empty(): boolean {
    return this.#open === null && (this.#ready?.length ?? 0) === 0;
  }

  /** Queues a whole frame; the caller must not change its bytes until they are written. */
  push(frame: Uint8Array): void {
    this.frames++;
    this.bytes += frame.length;
    const open = this.#open;
    if (open === null) {
      this.#open = frame;
      this.#openFrames = 1;
      return;
    }
    const pooled = this.#openPooled;
    if (pooled === null) {
      if (
        open.buffer === frame.buffer &&
        open.byteOffset + open.length === frame.byteOffset
      ) {
        this.#open = new Uint8Array(
          open.buffer,
          open.byteOffset,
          open.length + frame.length,
        );
        this.#openFrames++;
        return;
      }
      if (open.length >= COALESCE_BYTES || frame.length >= COALESCE_BYTES) {
        this.#closeOpen();
        this.#open = frame;
        this.#openFrames = 1;
        return;
      }
      const buffer = allocate(open.length + frame.length);
      buffer.set(open);
      this.#openPooled = buffer;
      this.#open = buffer;
      this.#fill = open.length;
    } else if (this.#fill + frame.length > pooled.length) {
      const needed = this.#fill + frame.length;
      if (pooled.length >= COALESCE_BYTES || needed > COALESCE_BYTES) {
        this.#closeOpen();
        this.#open = frame;
        this.#openFrames = 1;
        return;
      }
      const grown = allocate(needed);
      grown.set(pooled.subarray(0, this.#fill));
      this.#openPooled = this.#open = grown;
    }
    this.#openPooled!.set(frame, this.#fill);
    this.#fill += frame.length;
    this.#openFrames++;
  }

  /** The next chunk to write (call {@linkcode written} after writing it), or null when empty. */
  take(): Uint8Array | null {
    let chunk: Uint8Array;
    if (this.#ready !== null && this.#ready.length > 0) {
      const ready = this.#ready.shift()!;
      chunk = ready.bytes;
      this.#writingFrames = ready.frames;
      this.#writingPooled = ready.pooled;
    } else if (this.#open !== null) {
      chunk = this.#openPooled === null
        ? this.#open
        : this.#open.subarray(0, this.#fill);
      this.#writingFrames = this.#openFrames;
      this.#writingPooled = this.#openPooled;
      this.#open = this.#openPooled = null;
      this.#openFrames = this.#fill = 0;
    } else {
      return null;
    }
    this.#writingBytes = chunk.length;
    return chunk;
  }

  /** The chunk from {@linkcode take} is written: its frames leave the queue. */
  written(): void {
    this.frames -= this.#writingFrames;
    this.bytes -= this.#writingBytes;
    this.#writingFrames = this.#writingBytes = 0;
    if (this.#writingPooled !== null) recycle(this.#writingPooled);
    this.#writingPooled = null;
  }

  /** Drops every queued frame (the chunk being written stays with its write). */
  clear(): void {
    if (this.#openPooled !== null) recycle(this.#openPooled);
    this.#open = this.#openPooled = null;
    for (const ready of this.#ready ?? []) {
      if (ready.pooled !== null) recycle(ready.pooled);
    }
    this.#ready = null;
    this.frames =
      this.bytes =
      this.#openFrames =
      this.#fill =
        0;
  }

  #closeOpen(): void {
    const chunk = this.#openPooled === null
      ? this.#open!
      : this.#open!.subarray(0, this.#fill);
    (this.#ready ??= []).push({
      bytes: chunk,
      frames: this.#openFrames,
      pooled: this.#openPooled,
    });
    this.#open = this.#openPooled = null;
    this.#openFrames = this.#fill = 0;
  }
}
