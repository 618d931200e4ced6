/**
 * Server-sent events: every tick, each open page gets the sections that changed since
 * it last heard and the tasks that ended since its last task (`id:` is the task's
 * sequence number, so a reconnecting page resumes where it was).
 */
import { TASK_ROWS } from "./_format.ts";
import { taskRow } from "./_sections.ts";
import type { TaskView } from "./types.ts";

const encoder = new TextEncoder();

/** What the hub reads every tick. */
export interface EventHubDeps {
  /** Each live section's HTML now (computed once per tick for all pages). */
  sections: () => Map<string, string>;
  /** Tasks ended after a sequence number, oldest first. */
  tasks: (afterSeq: number) => TaskView[];
}

/** Options for {@linkcode EventHub}. */
export interface EventHubOptions {
  /** Milliseconds between ticks. Default 1000. */
  tickMs?: number;
  /** Ticks between keep-alive comments when nothing changed. Default 15. */
  heartbeatTicks?: number;
  /** Open streams allowed at once. Default 32. */
  maxStreams?: number;
}

interface Stream {
  controller: ReadableStreamDefaultController<Uint8Array>;
  lastSeq: number;
  sent: Map<string, string>;
  quiet: number;
}

/** The open event streams and the tick that feeds them. */
export class EventHub {
  #deps: EventHubDeps;
  #tickMs: number;
  #heartbeat: number;
  #max: number;
  #streams = new Set<Stream>();
  #timer: ReturnType<typeof setInterval> | null = null;

  /** Takes what to read and how often. */
  constructor(deps: EventHubDeps, options: EventHubOptions = {}) {
    this.#deps = deps;
    this.#tickMs = options.tickMs ?? 1000;
    this.#heartbeat = options.heartbeatTicks ?? 15;
    this.#max = options.maxStreams ?? 32;
  }

  /** Open streams. */
  get size(): number {
    return this.#streams.size;
  }

  /** A new `text/event-stream` body starting after task `afterSeq`, or null when full. */
  open(afterSeq: number): ReadableStream<Uint8Array> | null {
    if (this.#streams.size >= this.#max) return null;
    let stream!: Stream;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        stream = { controller, lastSeq: afterSeq, sent: new Map(), quiet: 0 };
        this.#streams.add(stream);
        controller.enqueue(encoder.encode("retry: 2000\n\n"));
        this.#timer ??= setInterval(() => this.tick(), this.#tickMs);
        // The first tick comes at once: the page is live as soon as it connects.
        queueMicrotask(() => this.#feed(stream, this.#deps.sections()));
      },
      cancel: () => this.#drop(stream),
    }, { highWaterMark: 64 });
    return body;
  }

  /** Sends what changed to every stream now (also called after an action). */
  tick(): void {
    if (this.#streams.size === 0) return;
    const sections = this.#deps.sections();
    for (const stream of this.#streams) this.#feed(stream, sections);
  }

  #feed(stream: Stream, sections: Map<string, string>): void {
    if (!this.#streams.has(stream)) return;
    const chunks: string[] = [];
    for (const [id, text] of sections) {
      if (stream.sent.get(id) === text) continue;
      stream.sent.set(id, text);
      chunks.push(
        `event: section\ndata: ${JSON.stringify({ id, html: text })}\n\n`,
      );
    }
    const tasks = this.#deps.tasks(stream.lastSeq).slice(-TASK_ROWS);
    for (const t of tasks) {
      chunks.push(
        `id: ${t.seq}\nevent: task\ndata: ${
          JSON.stringify({ html: taskRow(t).text })
        }\n\n`,
      );
      stream.lastSeq = t.seq;
    }
    if (chunks.length === 0 && ++stream.quiet >= this.#heartbeat) {
      chunks.push(": ping\n\n");
    }
    if (chunks.length === 0) return;
    stream.quiet = 0;
    // A page that stopped reading is dropped rather than buffered without end.
    if ((stream.controller.desiredSize ?? 0) < -256) {
      this.#drop(stream);
      try {
        stream.controller.close();
      } catch { /* already closed */ }
      return;
    }
    try {
      stream.controller.enqueue(encoder.encode(chunks.join("")));
    } catch {
      this.#drop(stream);
    }
  }

  #drop(stream: Stream): void {
    this.#streams.delete(stream);
    if (this.#streams.size === 0 && this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }

  /** Ends every stream and the tick; idempotent. */
  close(): void {
    for (const stream of [...this.#streams]) {
      this.#drop(stream);
      try {
        stream.controller.close();
      } catch { /* already closed */ }
    }
  }
}
