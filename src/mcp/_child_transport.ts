/**
 * An MCP stdio transport over a `Deno.Command` child, the only process code of this
 * layer. The SDK's own stdio transport spawns through `node:child_process` and its
 * force-kill does nothing under Deno 2.9.6; owning the child lets us close its stdin,
 * signal it by pid and know when it is gone.
 */
import { deserializeMessage } from "@modelcontextprotocol/sdk/shared/stdio.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { within } from "../util/mod.ts";
import { LineSplitter } from "./_line_splitter.ts";

const encoder = new TextEncoder();
/** Longest JSON-RPC line accepted from a child (a big image result fits). */
const MAX_LINE_BYTES = 64 * 1024 * 1024;
const STDERR_TAIL_LINES = 20;

/** A running child process speaking line-delimited JSON-RPC on stdio. */
export class ChildTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  #child: Deno.ChildProcess | null = null;
  #writer: WritableStreamDefaultWriter<Uint8Array> | null = null;
  #argv: string[];
  #stderrTail: string[] = [];
  #closed = false;
  #exited: Promise<Deno.CommandStatus> | null = null;

  /** Takes the program and its arguments. */
  constructor(argv: string[]) {
    if (argv.length === 0) {
      throw new TypeError("Cannot start MCP server: empty command");
    }
    this.#argv = argv;
  }

  /** The child's pid, once started. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** The last lines the child wrote to stderr (for error messages). */
  get stderrTail(): string {
    return this.#stderrTail.join("\n");
  }

  /** Spawns the child and starts reading its output. */
  start(): Promise<void> {
    if (this.#child) return Promise.resolve();
    const [program, ...args] = this.#argv;
    this.#child = new Deno.Command(program!, {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#exited = this.#child.status;
    void this.#readLines(this.#child.stdout, (line) => this.#onLine(line));
    void this.#readLines(this.#child.stderr, (line) => {
      this.#stderrTail.push(line.slice(0, 500));
      if (this.#stderrTail.length > STDERR_TAIL_LINES) this.#stderrTail.shift();
    });
    void this.#exited.then(() => this.#finish());
    return Promise.resolve();
  }

  /** Writes one JSON-RPC message as a line. */
  async send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed || !this.#writer) {
      throw new Error("Cannot send to MCP server: it is not running");
    }
    await this.#writer.write(encoder.encode(JSON.stringify(message) + "\n"));
  }

  /**
   * Stops the child: closes its stdin, waits `graceMs`, then SIGTERM, waits `termMs`,
   * then SIGKILL. Idempotent.
   */
  async stop(graceMs = 5_000, termMs = 2_000): Promise<void> {
    const child = this.#child;
    if (!child || !this.#exited) return;
    await this.#writer?.close().catch(() => {});
    if ((await within(this.#exited, graceMs)) !== "timeout") return;
    signal(child, "SIGTERM");
    if ((await within(this.#exited, termMs)) !== "timeout") return;
    signal(child, "SIGKILL");
    await this.#exited;
  }

  /** Kills the child at once (a timed-out call). */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child || !this.#exited) return;
    await this.#writer?.close().catch(() => {});
    signal(child, "SIGKILL");
    await this.#exited;
  }

  /** The SDK's close: stop the child gracefully. */
  close(): Promise<void> {
    return this.stop();
  }

  #onLine(line: string): void {
    if (line.trim() === "") return;
    let message: JSONRPCMessage;
    try {
      message = deserializeMessage(line);
    } catch (error) {
      const id = replyId(line);
      if (id !== undefined) {
        // A reply the SDK cannot read still answers its request: fail that call now, rather
        // than let it wait for its timeout (which restarts the server, failing its other calls).
        this.onmessage?.({
          jsonrpc: "2.0",
          id,
          error: {
            code: MALFORMED_REPLY,
            message: `MCP server sent a malformed reply: ${
              (error as Error).message.replace(/\s+/g, " ").slice(0, 200)
            }`,
          },
        });
        return;
      }
      // A server printing junk on stdout: report it, keep reading.
      this.onerror?.(
        new Error(
          `MCP server wrote a line that is not JSON-RPC: ${line.slice(0, 120)}`,
          {
            cause: error,
          },
        ),
      );
      return;
    }
    this.onmessage?.(message);
  }

  async #readLines(
    stream: ReadableStream<Uint8Array>,
    onLine: (line: string) => void,
  ): Promise<void> {
    const splitter = new LineSplitter(MAX_LINE_BYTES);
    try {
      for await (const chunk of stream) {
        const { lines, dropped } = splitter.push(chunk);
        for (const line of lines) onLine(line);
        if (dropped > 0) {
          this.onerror?.(new Error("MCP server wrote a line over 64 MiB"));
        }
      }
    } catch {
      // the child went away; #finish reports it
    }
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    // The child is gone: release our end of its stdin too.
    const writer = this.#writer;
    void writer?.close().catch(() => writer.abort().catch(() => {}));
    this.onclose?.();
  }
}

/** JSON-RPC "Internal error": what a call answered with an unreadable reply fails with. */
const MALFORMED_REPLY = -32603;

/** The id of a line that is a JSON-RPC reply (an object with an id and a result or error). */
function replyId(line: string): string | number | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return undefined;
  }
  const reply = value as Record<string, unknown>;
  const id = reply.id;
  if (typeof id !== "string" && !Number.isSafeInteger(id)) return undefined;
  if ("method" in reply || !("result" in reply || "error" in reply)) {
    return undefined;
  }
  return id as string | number;
}

function signal(child: Deno.ChildProcess, name: Deno.Signal): void {
  try {
    child.kill(name);
  } catch {
    // already gone
  }
}

/**
 * Splits a command line the way a POSIX shell splits words: spaces separate, single
 * quotes keep everything, double quotes keep spaces (`\"` and `\\` escape), a
 * backslash escapes the next character. Throws `SyntaxError` on an open quote.
 */
export function splitCommand(command: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (
        c === "\\" && (command[i + 1] === '"' || command[i + 1] === "\\")
      ) {
        word += command[++i];
      } else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < command.length) {
      word += command[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote !== null) {
    throw new SyntaxError(
      `Cannot split command "${command}": unclosed ${quote} quote`,
    );
  }
  if (inWord) words.push(word);
  return words;
}
