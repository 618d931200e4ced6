/** The write side of a framed connection: one writer, frames coalesced into chunks, a bounded backlog. */
import { Outbox } from "./_outbox.ts";

/** The queue caps of {@linkcode FrameWriter}. */
export interface FrameWriterLimits {
  /** Frames waiting behind a write in progress before the peer counts as too slow. */
  maxQueueFrames?: number;
  /** Bytes waiting behind a write in progress before the peer counts as too slow. */
  maxQueueBytes?: number;
}

interface Waiter {
  until: number;
  resolve(): void;
  reject(error: Error): void;
}

/**
 * Writes queued frames in order, one write at a time: frames queued in the same tick, or while
 * a write is in progress, go out together in the next write, so frames never interleave.
 */
export class FrameWriter {
  /** When the write in progress started (on `clock`), or -1. */
  writeStartedAt = -1;
  #conn: Deno.Conn;
  #clock: { now(): number };
  #limits: FrameWriterLimits;
  #onError: (error: Error) => void;
  // Created when frames are queued, dropped once they are written: idle connections stay small.
  #outbox: Outbox | null = null;
  #writing = false;
  #flushScheduled = false;
  #closed = false;
  // Bytes queued and bytes written so far, so a caller can wait for its own frame.
  #queuedTotal = 0;
  #writtenTotal = 0;
  #waiters: Waiter[] | null = null;
  #drainWaiters: (() => void)[] | null = null;

  /** Writes to `conn`; `onError` is called once when a write fails. */
  constructor(
    conn: Deno.Conn,
    clock: { now(): number },
    limits: FrameWriterLimits,
    onError: (error: Error) => void,
  ) {
    this.#conn = conn;
    this.#clock = clock;
    this.#limits = limits;
    this.#onError = onError;
  }

  /** Frames queued or being written. */
  get frames(): number {
    return this.#outbox?.frames ?? 0;
  }

  /**
   * Queues a whole frame without copying it; null when queued, else why the backlog is over the
   * caps (nothing is queued then). Only a backlog behind a write in progress counts: frames
   * queued while the socket is free go out together at the end of this tick.
   */
  push(frame: Uint8Array): string | null {
    const outbox = this.#outbox ??= new Outbox();
    const { maxQueueFrames, maxQueueBytes } = this.#limits;
    if (
      this.#writing &&
      ((maxQueueFrames !== undefined &&
        outbox.waitingFrames >= maxQueueFrames) ||
        (maxQueueBytes !== undefined &&
          outbox.waitingBytes + frame.length > maxQueueBytes))
    ) {
      return `outbound queue full (${outbox.waitingFrames} frames, ${outbox.waitingBytes} bytes waiting)`;
    }
    outbox.push(frame);
    this.#queuedTotal += frame.length;
    if (!this.#writing && !this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(() => this.#flush());
    }
    return null;
  }

  /** Resolves once the frame queued last is written; rejects when the writer closes first. */
  written(): Promise<void> {
    const until = this.#queuedTotal;
    if (this.#writtenTotal >= until) return Promise.resolve();
    return new Promise((resolve, reject) =>
      (this.#waiters ??= []).push({ until, resolve, reject })
    );
  }

  /** Resolves when everything queued is written, or the writer closed. */
  drained(): Promise<void> {
    if (this.#closed || (this.#outbox === null && !this.#writing)) {
      return Promise.resolve();
    }
    return new Promise((resolve) => (this.#drainWaiters ??= []).push(resolve));
  }

  /** Drops the queue; waiting writes reject with `error`. Idempotent. */
  close(error: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#outbox?.clear();
    this.#outbox = null;
    for (const waiter of this.#waiters?.splice(0) ?? []) waiter.reject(error);
    this.#wakeDrainWaiters();
  }

  async #flush(): Promise<void> {
    this.#flushScheduled = false;
    const outbox = this.#outbox;
    if (this.#writing || outbox === null || this.#closed) return;
    this.#writing = true;
    try {
      for (
        let chunk = outbox.take();
        chunk !== null && !this.#closed;
        chunk = outbox.take()
      ) {
        this.writeStartedAt = this.#clock.now();
        for (let offset = 0; offset < chunk.length;) {
          offset += await this.#conn.write(chunk.subarray(offset));
        }
        this.writeStartedAt = -1;
        this.#writtenTotal += chunk.length;
        outbox.written();
        if (this.#waiters !== null) this.#settleWaiters(this.#waiters);
      }
    } catch (error) {
      if (!this.#closed) this.#onError(error as Error);
    } finally {
      this.writeStartedAt = -1;
      this.#writing = false;
    }
    if (this.#outbox === outbox && outbox.frames === 0) this.#outbox = null;
    this.#wakeDrainWaiters();
  }

  #settleWaiters(waiters: Waiter[]): void {
    let i = 0;
    while (i < waiters.length && waiters[i]!.until <= this.#writtenTotal) {
      waiters[i++]!.resolve();
    }
    waiters.splice(0, i);
  }

  #wakeDrainWaiters(): void {
    const waiters = this.#drainWaiters;
    if (waiters === null) return;
    this.#drainWaiters = null;
    for (const resolve of waiters) resolve();
  }
}
