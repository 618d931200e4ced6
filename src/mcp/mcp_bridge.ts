/** An MCP server's tools served as skills: one child process, restarted when it dies. */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { Ajv } from "ajv";
import type { ValidateFunction } from "ajv";
import { type Logger, SILENT_LOGGER } from "../util/mod.ts";
import type { JsonObject } from "../wire/mod.ts";
import { ChildTransport, splitCommand } from "./_child_transport.ts";
import { type McpTool, type ToolSkill, toolSkill } from "./tool_skill.ts";

/** How one bridged call ended; bridge faults never throw. */
export type BridgeOutcome =
  | { status: "ok"; output: JsonObject }
  | { status: "timeout" }
  | { status: "error"; detail: string }
  | { status: "invalid"; message: string };

/** A change in what a bridge serves. */
export type BridgeEvent =
  | { type: "up"; skills: ToolSkill[] }
  | { type: "down"; skills: string[]; reason: string };

/** Options for {@linkcode McpBridge.start}. */
export interface McpBridgeOptions {
  /** Per-call timeout in ms. Default 30000. */
  timeoutMs?: number;
  /** Credits per call of each tool. Default 1. */
  price?: number;
  /** Per-tool prices by MCP tool name, over `price`. */
  prices?: Readonly<Record<string, number>>;
  /** Tools served: a name must match one of `allow` (if given) and none of `deny`. */
  toolFilter?: { allow?: readonly string[]; deny?: readonly string[] };
  /** Stores binary results (images, blobs) and returns their hash. Default: inline. */
  storeAsset?: (bytes: Uint8Array) => Promise<string>;
  /** First restart delay after a crash in ms, doubled up to 60 s. Default 1000. */
  restartDelayMs?: number;
  /** Where the bridge logs. Default: silent. */
  logger?: Logger;
}

/** Keys the node adds to every task input; the tool never sees them. */
const NODE_KEYS = new Set(["_job_id", "_caller_node_id"]);
const MAX_RESTART_DELAY_MS = 60_000;
const STABLE_MS = 30_000;

/**
 * A bridge to one MCP server over stdio.
 *
 * @example
 * ```ts
 * import { McpBridge } from "./mod.ts";
 * await using bridge = await McpBridge.start("npx -y @modelcontextprotocol/server-everything");
 * const outcome = await bridge.call("echo", { message: "hi" });
 * ```
 */
export class McpBridge {
  /** The command as configured. */
  readonly command: string;
  #argv: string[];
  #o:
    & Required<Omit<McpBridgeOptions, "storeAsset" | "toolFilter" | "prices">>
    & McpBridgeOptions;
  #log: Logger;
  #client: Client | null = null;
  #transport: ChildTransport | null = null;
  #skills = new Map<string, ToolSkill>();
  #validators = new Map<string, ValidateFunction>();
  #ajv = new Ajv({ strict: false, allErrors: false });
  #listeners = new Set<(event: BridgeEvent) => void>();
  #closed = false;
  #restartDelay: number;
  #restartTimer: ReturnType<typeof setTimeout> | undefined;
  #upSince = 0;
  #starting: Promise<void> | null = null;

  private constructor(command: string, options: McpBridgeOptions) {
    this.command = command;
    this.#argv = splitCommand(command);
    this.#o = {
      timeoutMs: 30_000,
      price: 1,
      restartDelayMs: 1_000,
      logger: SILENT_LOGGER,
      ...options,
    };
    this.#log = this.#o.logger;
    this.#restartDelay = this.#o.restartDelayMs;
  }

  /** Starts the server and lists its tools; throws when it cannot start. */
  static async start(
    command: string,
    options: McpBridgeOptions = {},
  ): Promise<McpBridge> {
    const bridge = new McpBridge(command, options);
    await bridge.#connect();
    return bridge;
  }

  /** The skills served now (empty while the server is down). */
  skills(): ToolSkill[] {
    return [...this.#skills.values()];
  }

  /** True when `skill` is one of this bridge's tools and the server is up. */
  has(skill: string): boolean {
    return this.#skills.has(skill);
  }

  /** The pid of the server process, while it runs. */
  get pid(): number | undefined {
    return this.#transport?.pid;
  }

  /** Subscribes to up/down events; returns the unsubscribe function. */
  onEvent(listener: (event: BridgeEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Calls the tool behind `skill` with the caller's own arguments (the node's `_job_id`
   * and `_caller_node_id` are dropped), validated against the tool's JSON Schema,
   * within `options.timeoutMs` capped by the bridge's timeout.
   */
  async call(
    skill: string,
    input: JsonObject,
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<BridgeOutcome> {
    const entry = this.#skills.get(skill);
    const client = this.#client;
    if (!entry || !client) {
      return {
        status: "error",
        detail: `MCP server "${this.command}" is not running`,
      };
    }
    const args: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(input)) {
      if (!NODE_KEYS.has(k)) args[k] = toPlain(v);
    }
    const invalid = this.#validate(entry, args);
    if (invalid !== null) return { status: "invalid", message: invalid };
    // The task's deadline, but never longer than the bridge's own timeout.
    const timeoutMs = Math.min(
      options.timeoutMs ?? Infinity,
      this.#o.timeoutMs,
    );
    let result;
    try {
      result = await client.callTool(
        { name: entry.tool, arguments: args },
        undefined,
        {
          timeout: timeoutMs,
          ...(options.signal ? { signal: options.signal } : {}),
        },
      );
    } catch (error) {
      if (isTimeout(error)) {
        this.#log.warn(
          `MCP tool "${entry.tool}" timed out after ${timeoutMs} ms: restarting "${this.command}"`,
        );
        await this.#transport?.kill();
        return { status: "timeout" };
      }
      return {
        status: "error",
        detail: `MCP tool "${entry.tool}" failed: ${(error as Error).message}`,
      };
    }
    try {
      return await this.#outcome(
        entry,
        result as { content?: unknown; isError?: unknown },
      );
    } catch (error) {
      // A result nested too deep to copy, or an attachment that cannot be stored.
      return {
        status: "error",
        detail: `MCP tool "${entry.tool}" gave a result that cannot be used: ${
          (error as Error).message
        }`,
      };
    }
  }

  /** Stops the server (stdin closed, then SIGTERM, then SIGKILL) and stops restarting. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#restartTimer);
    await this.#starting?.catch(() => {});
    const transport = this.#transport;
    this.#client = null;
    await transport?.stop();
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #connect(): Promise<void> {
    const transport = new ChildTransport(this.#argv);
    const client = new Client({ name: "knarr", version: "0.1.0" }, {
      capabilities: {},
    });
    this.#transport = transport;
    const starting = (async () => {
      try {
        await client.connect(transport);
        const tools: McpTool[] = [];
        let cursor: string | undefined;
        do {
          const page = await client.listTools(cursor ? { cursor } : {});
          tools.push(...(page.tools as McpTool[]));
          cursor = page.nextCursor;
        } while (cursor);
        this.#adopt(tools);
      } catch (error) {
        await transport.kill();
        const tail = transport.stderrTail;
        throw new Error(
          `Cannot start MCP server "${this.command}": ${
            (error as Error).message
          }${tail ? ` (stderr: ${tail.split("\n").at(-1)})` : ""}`,
          { cause: error },
        );
      }
    })();
    this.#starting = starting;
    try {
      await starting;
    } finally {
      this.#starting = null;
    }
    this.#client = client;
    this.#upSince = performance.now();
    transport.onclose = () => this.#onExit(transport);
    this.#emit({ type: "up", skills: this.skills() });
  }

  #adopt(tools: McpTool[]): void {
    this.#skills.clear();
    this.#validators.clear();
    const filter = this.#o.toolFilter;
    for (const tool of tools) {
      if (filter?.allow && !filter.allow.includes(tool.name)) continue;
      if (filter?.deny?.includes(tool.name)) continue;
      const skill = toolSkill(tool, {
        price: this.#o.prices?.[tool.name] ?? this.#o.price,
      });
      if (skill === null) {
        this.#log.warn(
          `MCP tool "${tool.name}" cannot be a skill name: skipped`,
        );
        continue;
      }
      this.#skills.set(skill.skill, skill);
    }
  }

  #onExit(transport: ChildTransport): void {
    if (this.#transport !== transport) return;
    this.#client = null;
    const down = [...this.#skills.keys()];
    this.#skills.clear();
    if (this.#closed) return;
    const reason = transport.stderrTail.split("\n").at(-1) || "exited";
    this.#emit({ type: "down", skills: down, reason });
    if (performance.now() - this.#upSince > STABLE_MS) {
      this.#restartDelay = this.#o.restartDelayMs;
    }
    const delay = this.#restartDelay;
    this.#restartDelay = Math.min(delay * 2, MAX_RESTART_DELAY_MS);
    this.#log.warn(
      `MCP server "${this.command}" exited (${reason}); restarting in ${delay} ms`,
    );
    this.#restartTimer = setTimeout(() => {
      if (this.#closed) return;
      this.#connect().catch((error) => {
        this.#log.error((error as Error).message);
        if (this.#transport) this.#onExit(this.#transport);
      });
    }, delay);
  }

  #validate(entry: ToolSkill, args: Record<string, unknown>): string | null {
    let validate: ValidateFunction | undefined = this.#validators.get(
      entry.skill,
    );
    if (validate === undefined) {
      try {
        validate = this.#ajv.compile(entry.schema);
      } catch {
        return null; // an unusable schema is the server's business; let it judge
      }
      this.#validators.set(entry.skill, validate);
    }
    if (validate(args)) return null;
    return `Invalid input for tool "${entry.tool}": ${
      this.#ajv.errorsText(validate.errors, { dataVar: "input" })
    }`;
  }

  async #outcome(
    entry: ToolSkill,
    result: { content?: unknown; isError?: unknown },
  ): Promise<BridgeOutcome> {
    const items = Array.isArray(result.content) ? result.content : [];
    const texts: string[] = [];
    const attachments: JsonObject[] = [];
    for (const item of items) {
      if (item?.type === "text" && typeof item.text === "string") {
        texts.push(item.text);
      } else if (item && typeof item === "object") {
        attachments.push(
          await this.#attachment(item as Record<string, unknown>),
        );
      }
    }
    const content = texts.join("\n");
    if (result.isError === true) {
      return {
        status: "error",
        detail: `MCP tool "${entry.tool}" reported an error: ${
          content.slice(0, 500)
        }`,
      };
    }
    return {
      status: "ok",
      output: attachments.length > 0 ? { content, attachments } : { content },
    };
  }

  /** A non-text item; base64 payloads become assets when the node stores them. */
  async #attachment(item: Record<string, unknown>): Promise<JsonObject> {
    const out = toPlain(item) as JsonObject;
    const store = this.#o.storeAsset;
    if (!store) return out;
    if (typeof item.data === "string") {
      out.data = `knarr-asset://${await store(base64Bytes(item.data))}`;
    }
    const resource = item.resource as Record<string, unknown> | undefined;
    if (resource && typeof resource.blob === "string") {
      (out.resource as JsonObject).blob = `knarr-asset://${await store(
        base64Bytes(resource.blob),
      )}`;
    }
    return out;
  }

  #emit(event: BridgeEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#log.warn(
          `Bridge event listener failed: ${(error as Error).message}`,
        );
      }
    }
  }
}

function isTimeout(error: unknown): boolean {
  return (error as { code?: unknown })?.code === -32001 ||
    /timed out/i.test(String((error as Error)?.message));
}

function base64Bytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Lossless JSON values (bigints, floats) as plain JSON for the MCP server, and back. */
function toPlain(value: unknown): never {
  return JSON.parse(
    JSON.stringify(
      value,
      (_k, v) =>
        typeof v === "bigint"
          ? Number(v)
          : v !== null && typeof v === "object" &&
              v.constructor?.name === "JsonFloat"
          ? (v as { value: number }).value
          : v,
    ),
  ) as never;
}
