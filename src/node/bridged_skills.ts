/** The MCP bridges of a served configuration: their tools announced and run as skills. */
import type { BridgeConfig } from "../config/mod.ts";
import { plainJson } from "../discovery/mod.ts";
// The MCP layer (the SDK and ajv: ~27 MB) loads only when a bridge is configured.
import type { BridgeOutcome, McpBridge } from "../mcp/mod.ts";
import type { RunContext, RunOutcome } from "../tasks/mod.ts";
import { type Logger, SILENT_LOGGER } from "../util/mod.ts";
import type { JsonObject } from "../wire/mod.ts";
import type { KnarrNode } from "./knarr_node.ts";
import type { SkillRunner } from "./node_options.ts";

/** Largest bridged output: a 1 MiB frame less room for the TASK_RESULT around it. */
const MAX_OUTPUT_BYTES = 1_048_576 - 16_384;
const encoder = new TextEncoder();

/** First retry of a bridge that could not start, in ms; doubled up to a minute. */
const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 60_000;
/** Calls of one bridged tool at once; past them, tasks wait in the provider queue. */
const BRIDGED_TOOL_SLOTS = 16;

/** Options of {@linkcode BridgedSkills.start}. */
export interface BridgedSkillsOptions {
  /** Skill names already served (configured skill files win over bridged tools). */
  reserved?: ReadonlySet<string>;
  /** Where bridges log. Default: silent. */
  logger?: Logger;
}

/** Runs the bridges of `[bridges]` / `--bridge` and keeps their skills announced. */
export class BridgedSkills {
  #node: KnarrNode;
  #log: Logger;
  #reserved: ReadonlySet<string>;
  #bridges: McpBridge[] = [];
  /** skill → the bridge serving it. */
  #owner = new Map<string, McpBridge>();
  #pending = new Set<Promise<unknown>>();
  #retries = new Set<ReturnType<typeof setTimeout>>();
  #closed = false;

  private constructor(node: KnarrNode, options: BridgedSkillsOptions) {
    this.#node = node;
    this.#log = options.logger ?? SILENT_LOGGER;
    this.#reserved = options.reserved ?? new Set();
  }

  /**
   * Starts every bridge (command → timeout in seconds, or its `[bridges]` settings)
   * and announces its tools. A bridge that cannot start is logged and left out; the
   * node serves on.
   */
  static async start(
    node: KnarrNode,
    bridges: Record<string, number | BridgeConfig>,
    options: BridgedSkillsOptions = {},
  ): Promise<BridgedSkills> {
    const self = new BridgedSkills(node, options);
    await Promise.all(
      Object.entries(bridges).map(([command, settings]) =>
        self.#add(
          command,
          typeof settings === "number"
            ? { timeout: settings, allow: null, deny: [], price: 1, prices: {} }
            : settings,
        )
      ),
    );
    return self;
  }

  /** The running bridges, one per server command. */
  get bridges(): readonly McpBridge[] {
    return this.#bridges;
  }

  /** Names of the skills served now. */
  names(): string[] {
    return [...this.#owner.keys()];
  }

  /** The runner the node calls for bridged skills. */
  runner(): SkillRunner {
    return {
      has: (name) => this.#owner.get(name)?.has(name) ?? false,
      run: (name, input, ctx) => this.#run(name, input, ctx),
      // One MCP child takes concurrent calls over its stdio.
      slots: (name) => this.#owner.has(name) ? BRIDGED_TOOL_SLOTS : undefined,
    };
  }

  /** Stops every bridge's server; idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#retries) clearTimeout(timer);
    this.#retries.clear();
    const bridges = this.#bridges.splice(0);
    await Promise.all(bridges.map((b) => b.close()));
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #add(
    command: string,
    settings: BridgeConfig,
    delayMs = FIRST_RETRY_MS,
  ): Promise<void> {
    if (this.#closed) return;
    let bridge: McpBridge;
    try {
      const { McpBridge } = await import("../mcp/mod.ts");
      bridge = await McpBridge.start(command, {
        timeoutMs: settings.timeout * 1000,
        price: settings.price,
        prices: settings.prices,
        toolFilter: {
          ...(settings.allow ? { allow: settings.allow } : {}),
          deny: settings.deny,
        },
        logger: this.#log.child("mcp"),
        ...(this.#node.assets
          ? { storeAsset: (bytes) => this.#node.assets!.put(bytes) }
          : {}),
      });
    } catch (error) {
      // Not served for now; tried again with backoff (a package still installing…).
      this.#log.error(
        `${
          (error as Error).message
        }; its tools are not served, retrying in ${delayMs} ms`,
      );
      const timer = setTimeout(() => {
        this.#retries.delete(timer);
        const task = this.#add(
          command,
          settings,
          Math.min(delayMs * 2, MAX_RETRY_MS),
        );
        const tracked = task.finally(() => this.#pending.delete(tracked));
        this.#pending.add(tracked);
      }, delayMs);
      this.#retries.add(timer);
      return;
    }
    if (this.#closed) {
      await bridge.close();
      return;
    }
    this.#bridges.push(bridge);
    bridge.onEvent((event) => {
      const task = event.type === "up"
        ? this.#announce(bridge)
        : this.#withdraw(event.skills, event.reason);
      const tracked = task.finally(() => this.#pending.delete(tracked));
      this.#pending.add(tracked);
    });
    await this.#announce(bridge);
  }

  async #announce(bridge: McpBridge): Promise<void> {
    for (const skill of bridge.skills()) {
      const owner = this.#owner.get(skill.skill);
      if (this.#reserved.has(skill.skill) || (owner && owner !== bridge)) {
        this.#log.warn(
          `MCP tool "${skill.tool}" of "${bridge.command}" is not served: skill "${skill.skill}" already exists`,
        );
        continue;
      }
      try {
        await this.#node.announce(skill.sheet, { visibility: "public" });
        this.#owner.set(skill.skill, bridge);
      } catch (error) {
        this.#log.warn(
          `MCP tool "${skill.tool}" is not served: ${(error as Error).message}`,
        );
      }
    }
  }

  async #withdraw(skills: string[], reason: string): Promise<void> {
    this.#log.warn(
      `Withdrawing ${skills.length} MCP skills while their server is down (${reason})`,
    );
    for (const skill of skills) {
      this.#owner.delete(skill);
      await this.#node.deregister(skill).catch(() => false);
    }
  }

  async #run(
    name: string,
    input: JsonObject,
    ctx: RunContext,
  ): Promise<RunOutcome> {
    const bridge = this.#owner.get(name);
    if (!bridge) {
      return { status: "error", detail: `No bridge serves "${name}"` };
    }
    const outcome: BridgeOutcome = await bridge.call(name, input, {
      timeoutMs: ctx.timeoutMs,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    if (outcome.status === "invalid") {
      return { status: "invalid_input", message: outcome.message };
    }
    if (outcome.status === "ok") {
      // A result must fit in one wire frame with room for the message around it.
      const bytes =
        encoder.encode(JSON.stringify(plainJson(outcome.output))).length;
      if (bytes > MAX_OUTPUT_BYTES) {
        return {
          status: "error",
          detail:
            `MCP tool result of ${bytes} bytes exceeds the ${MAX_OUTPUT_BYTES}-byte output limit of a task`,
        };
      }
    }
    return outcome;
  }
}
