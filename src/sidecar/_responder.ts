/** How the sidecar answers: one response per connection, every one counted by status. */
import type { Duplex } from "./_duplex.ts";
import { jsonResponse, writeAll } from "./_http.ts";

/** After an early answer, unread body bytes are drained this long so the client sees it. */
const LINGER_MS = 1_000;

/** Options of {@linkcode Responder.json}. */
export interface RespondOptions {
  /** Send the head only (the answer to a HEAD request). */
  headOnly?: boolean;
  /** Drain unread request bytes afterwards, so the client reads the answer. */
  linger?: boolean;
}

/** Writes JSON responses and counts responses by status code. */
export class Responder {
  readonly #responses: Record<number, number>;

  /** Takes the counters to increment (`SidecarStats.responses`). */
  constructor(responses: Record<number, number>) {
    this.#responses = responses;
  }

  /** Sends a JSON response (head only for HEAD) and ends the connection. */
  async json(
    conn: Duplex,
    status: number,
    body: unknown,
    options: RespondOptions = {},
  ): Promise<number> {
    const bytes = jsonResponse(status, body, { headOnly: options.headOnly });
    try {
      await writeAll(conn, bytes);
      await conn.closeWrite();
      // Unread request bytes would make our close a reset that can swallow the answer.
      if (options.linger) await drain(conn, LINGER_MS);
    } catch {
      // The client left; nothing to tell it.
    }
    return this.count(status);
  }

  /** Counts a response written by other means; returns its status. */
  count(status: number): number {
    this.#responses[status] = (this.#responses[status] ?? 0) + 1;
    return status;
  }
}

/** Reads and drops bytes until EOF, an error or `ms` elapse. */
async function drain(conn: Duplex, ms: number): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  const end = performance.now() + ms;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  try {
    while (performance.now() < end) {
      const n = await Promise.race([conn.read(buffer), timeout]);
      if (n === null) return;
    }
  } catch {
    // reset by the client: done
  } finally {
    clearTimeout(timer);
  }
}
