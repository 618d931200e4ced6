/** The write side of a framed connection: one writer, frames coalesced into chunks, a bounded backlog. */
import { Outbox } from "./_outbox.ts";
import type { QueueBudget } from "./queue_budget.ts";

/** The queue caps of {@linkcode FrameWriter}. */
export interface FrameWriterLimits {
  /** Frames waiting behind a write in progress before the peer counts as too slow. */
  maxQueueFrames?: number;
  /** Bytes waiting behind a write in progress before the peer counts as too slow. */
  maxQueueBytes?: number;
  /** A budget for the waiting bytes of many connections together. */
  queueBudget?: QueueBudget;
}

/** The key of {@linkcode WriterOwner}'s idle method: a symbol, so it stays private to `net/`. */
export const WRITER_IDLE: unique symbol = Symbol("FrameWriter idle");

/** The connection a {@linkcode FrameWriter} writes for (no closures: a writer is made per burst). */
export interface WriterOwner {
  /** Called once when a write fails. */
  close(reason: string, kind: "write_failed"): void;
  /** Everything queued is written and nobody waits: the owner may drop the writer. */
  [WRITER_IDLE](writer: FrameWriter): void;
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
  // Writers with frames queued this tick, flushed together by one microtask: a burst costs no
  // closure, and a tick that queues frames for many connections schedules one task.
  static #due: FrameWriter[] = [];
  static #spare: FrameWriter[] = [];

  static #flushDue(): void {
    const due = FrameWriter.#due;
    FrameWriter.#due = FrameWriter.#spare;
    for (const writer of due) writer.#flush();
    due.length = 0;
    FrameWriter.#spare = due;
  }

  /** When the write in progress started (on `clock`), or -1. */
  writeStartedAt = -1;
  #conn: Deno.Conn;
  #clock: { now(): number };
  #limits: FrameWriterLimits;
  #owner: WriterOwner;
  #outbox = new Outbox();
  #writing = false;
  #flushScheduled = false;
  #closed = false;
  // Bytes queued and bytes written so far, so a caller can wait for its own frame.
  #queuedTotal = 0;
  #writtenTotal = 0;
  #waiters: Waiter[] | null = null;
  #drainWaiters: (() => void)[] | null = null;
  // Waiting bytes this writer has charged to the shared budget.
  #charged = 0;
  // The chunk being written, and how much of it is.
  #chunk: Uint8Array | null = null;
  #offset = 0;
  // Bound once per writer (a writer lives for one burst): a write in progress then costs a
  // promise, not a suspended async function.
  #onWrite = this.#writeDone.bind(this);

  /** Writes to `conn` for `owner`, which it tells about a failed write and an empty queue. */
  constructor(
    conn: Deno.Conn,
    clock: { now(): number },
    limits: FrameWriterLimits,
    owner: WriterOwner,
  ) {
    this.#conn = conn;
    this.#clock = clock;
    this.#limits = limits;
    this.#owner = owner;
  }

  /** Frames queued or being written. */
  get frames(): number {
    return this.#outbox.frames;
  }

  /** Bytes waiting behind the write in progress. */
  get waitingBytes(): number {
    return this.#outbox.waitingBytes;
  }

  /**
   * True when nothing is queued, written or waited for: the writer holds no state worth
   * keeping, and its owner may drop it (a new one behaves the same).
   */
  get idle(): boolean {
    return !this.#writing && !this.#flushScheduled &&
      this.#outbox.frames === 0 && (this.#waiters?.length ?? 0) === 0 &&
      this.#drainWaiters === null;
  }

  /**
   * Queues a whole frame without copying it; null when queued, else why the backlog is over the
   * caps (nothing is queued then). Only a backlog behind a write in progress counts: frames
   * queued while the socket is free go out together at the end of this tick.
   */
  push(frame: Uint8Array): string | null {
    const outbox = this.#outbox;
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
    if (this.#limits.queueBudget) this.#recharge();
    if (!this.#writing && !this.#flushScheduled) {
      this.#flushScheduled = true;
      if (FrameWriter.#due.push(this) === 1) {
        queueMicrotask(FrameWriter.#flushDue);
      }
    }
    return null;
  }

  /** Resolves once the frame queued last is written; rejects when the writer closes first. */
  written(): Promise<void> {
    const until = this.#queuedTotal;
    if (this.#writtenTotal >= until) return Promise.resolve();
    return this.#waitUntil(until);
  }

  /** Resolves when everything queued is written, or the writer closed. */
  drained(): Promise<void> {
    if (this.#closed || (this.#outbox.frames === 0 && !this.#writing)) {
      return Promise.resolve();
    }
    return this.#waitForDrain();
  }

  // The waits are methods of their own: a closure in written() or drained() would allocate a
  // context on every call, the fast paths included.
  #waitUntil(until: number): Promise<void> {
    return new Promise((resolve, reject) =>
      (this.#waiters ??= []).push({ until, resolve, reject })
    );
  }

  #waitForDrain(): Promise<void> {
    return new Promise((resolve) => (this.#drainWaiters ??= []).push(resolve));
  }

  /** Drops the queue; waiting writes reject with `error`. Idempotent. */
  close(error: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#outbox.clear();
    if (this.#limits.queueBudget) this.#recharge();
    for (const waiter of this.#waiters?.splice(0) ?? []) waiter.reject(error);
    this.#wakeDrainWaiters();
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#writing || this.#outbox.frames === 0 || this.#closed) return;
    this.#writing = true;
    this.#writeNext();
  }

  /** Starts on the next chunk, or stops writing when there is none. */
  #writeNext(): void {
    const chunk = this.#closed ? null : this.#outbox.take();
    if (chunk === null) return this.#stopped();
    if (this.#limits.queueBudget) this.#recharge();
    this.#chunk = chunk;
    this.#offset = 0;
    this.writeStartedAt = this.#clock.now();
    this.#writeRest();
  }

  #writeRest(): void {
    const chunk = this.#chunk!;
    const offset = this.#offset;
    try {
      this.#conn.write(offset === 0 ? chunk : chunk.subarray(offset)).then(
        this.#onWrite,
        this.#onWrite,
      );
    } catch (error) {
      this.#writeDone(error);
    }
  }

  /** A write resolved to the bytes written, or rejected (with anything else). */
  #writeDone(result: unknown): void {
    if (typeof result !== "number") {
      this.#chunk = null;
      if (!this.#closed) {
        const message = result instanceof Error ? result.message : result;
        this.#owner.close(`write failed: ${message}`, "write_failed");
      }
      return this.#stopped();
    }
    const chunk = this.#chunk!;
    this.#offset += result;
    if (this.#offset < chunk.length) return this.#writeRest();
    this.#chunk = null;
    this.writeStartedAt = -1;
    this.#writtenTotal += chunk.length;
    this.#outbox.written();
    if (this.#waiters !== null) this.#settleWaiters(this.#waiters);
    this.#writeNext();
  }

  /** Brings the budget's count of this writer's waiting bytes up to date. */
  #recharge(): void {
    const now = this.#closed ? 0 : this.#outbox.waitingBytes;
    if (now !== this.#charged) {
      this.#limits.queueBudget!.charge(now - this.#charged);
      this.#charged = now;
    }
  }

  #stopped(): void {
    this.writeStartedAt = -1;
    this.#writing = false;
    this.#wakeDrainWaiters();
    // Dropped rather than kept: an idle connection then holds no writer.
    if (!this.#closed && this.idle) this.#owner[WRITER_IDLE](this);
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
