/** The skills of a knarr.toml: loaded into the Worker sandbox, announced, hot-reloaded. */
import type { KnarrConfig, SkillConfig } from "../config/mod.ts";
import { buildSheet } from "../discovery/mod.ts";
import { AssetStore } from "../assets/mod.ts";
import { SkillSandbox, skillSpecOf, SkillWatcher } from "../skills/mod.ts";
import type { SkillReloadEvent } from "../skills/mod.ts";
import { type Logger, SILENT_LOGGER } from "../util/mod.ts";
import type { KnarrNode } from "./knarr_node.ts";
import type { SkillRunner } from "./node_options.ts";

/** What applying a skill list did. */
export interface ApplyOutcome {
  /** Skills newly loaded or reloaded, and announced. */
  loaded: string[];
  /** Skills whose config did not change. */
  unchanged: string[];
  /** Skills that failed to load, with the error message; a previous version stays loaded. */
  failed: { name: string; error: string }[];
  /** Skills no longer configured: deregistered and unloaded. */
  removed: string[];
}

/** The asset directory of a configuration, with its size limits, TTL and quota. */
export function assetStoreFromConfig(
  config: KnarrConfig,
  logger: Logger = SILENT_LOGGER,
): AssetStore {
  return new AssetStore(config.sidecar.assetDir, {
    maxBytes: config.node.maxAssetSize,
    maxTotalBytes: config.sidecar.maxTotalSize,
    ttlSeconds: config.sidecar.assetTtl,
    logger: logger.child("assets"),
  });
}

/** Owns the sandbox, the asset store and the file watcher of a served configuration. */
export class ConfiguredSkills {
  /** The Worker sandbox that runs the configured handlers. */
  readonly sandbox: SkillSandbox;
  /** Content-addressed assets under `[sidecar] asset_dir`. */
  readonly assets: AssetStore;
  #watcher: SkillWatcher;
  #log: Logger;
  #current = new Map<string, string>();
  #configs = new Map<string, SkillConfig>();
  #others: SkillRunner | null = null;

  /**
   * Takes the served configuration, the node's asset directory and a logger (default:
   * silent); loads nothing until `apply()`.
   */
  constructor(
    config: KnarrConfig,
    assets: AssetStore,
    logger: Logger = SILENT_LOGGER,
  ) {
    this.#log = logger;
    this.assets = assets;
    this.sandbox = new SkillSandbox(
      {
        logger: logger.child("skills"),
        assets: this.assets,
        clock: { now: () => performance.now() },
        // A handler's ctx.callLocal() reaches the node's other skills (bridged MCP tools).
        callLocal: async (name, input, ctx) => {
          if (this.sandbox.has(name) || !this.#others?.has(name)) {
            return await this.sandbox.run(name, input, ctx);
          }
          const outcome = await this.#others.run(name, input, {
            callerNodeId: ctx.callerNodeId,
            jobId: ctx.jobId,
            timeoutMs: ctx.timeoutMs ?? 30_000,
            signal: ctx.signal,
          });
          return outcome.status === "invalid_input"
            ? { status: "error", detail: outcome.message }
            : outcome;
        },
      },
      {
        protectedPaths: config.node.storage === ":memory:"
          ? []
          : [config.node.storage],
        maxConcurrency: config.node.taskSlots,
      },
    );
    this.#watcher = new SkillWatcher({
      loader: this.sandbox,
      logger: logger.child("skills"),
    });
  }

  /** Other skills of the node (bridged tools) that handlers may `ctx.callLocal()`. */
  reachOthers(runner: SkillRunner): void {
    this.#others = runner;
  }

  /** The runner the node calls for skills that are not in-process handlers. */
  runner(): SkillRunner {
    return {
      has: (name) => this.#configs.has(name) && this.sandbox.has(name),
      run: (name, input, ctx) =>
        this.sandbox.run(name, input, {
          callerNodeId: ctx.callerNodeId,
          jobId: ctx.jobId,
          timeoutMs: ctx.timeoutMs,
          ...(ctx.signal ? { signal: ctx.signal } : {}),
        }),
      // As many runs at once as the skill has Workers (`task_slots`); more wait.
      slots: (name) => this.sandbox.slots(name),
    };
  }

  /**
   * Brings the node to `skills`: loads new and changed skills into the sandbox and
   * announces them (a skill that fails to load keeps its previous version), deregisters
   * and unloads removed ones, and watches the handler files.
   */
  async apply(
    node: KnarrNode,
    skills: readonly SkillConfig[],
  ): Promise<ApplyOutcome> {
    const outcome: ApplyOutcome = {
      loaded: [],
      unchanged: [],
      failed: [],
      removed: [],
    };
    const wanted = new Set(skills.map((s) => s.name));
    for (const name of [...this.#configs.keys()]) {
      if (wanted.has(name)) continue;
      await node.deregister(name);
      await this.sandbox.unload(name);
      this.#configs.delete(name);
      this.#current.delete(name);
      outcome.removed.push(name);
    }
    // Skills load side by side (a Worker takes about half a second to start), then
    // are announced in config order.
    const changed: { skill: SkillConfig; key: string }[] = [];
    for (const skill of skills) {
      const key = JSON.stringify(skill);
      if (this.#current.get(skill.name) === key) {
        outcome.unchanged.push(skill.name);
      } else {
        changed.push({ skill, key });
      }
    }
    const loads = await Promise.allSettled(changed.map(async ({ skill }) => {
      const sheet = buildSheet(skill);
      await this.sandbox.load(skillSpecOf(skill));
      return sheet;
    }));
    for (const [i, { skill, key }] of changed.entries()) {
      const load = loads[i]!;
      try {
        if (load.status === "rejected") throw load.reason;
        this.#configs.set(skill.name, skill);
        this.#current.set(skill.name, key);
        await node.announce(load.value, {
          visibility: skill.visibility,
          allowedNodes: skill.allowedNodes,
          slow: skill.slow,
        });
        outcome.loaded.push(skill.name);
      } catch (error) {
        const message = (error as Error).message;
        this.#log.error(
          `Skill "${skill.name}" failed to load${
            this.#configs.has(skill.name)
              ? " (keeping the previous version)"
              : ""
          }: ${message}`,
        );
        outcome.failed.push({ name: skill.name, error: message });
      }
    }
    this.#watcher.watch([...this.#configs.values()].map((s) => skillSpecOf(s)));
    return outcome;
  }

  /** Handler-file reload events (see {@linkcode SkillWatcher.events}). */
  events(
    options: { signal?: AbortSignal } = {},
  ): AsyncGenerator<SkillReloadEvent> {
    return this.#watcher.events(options);
  }

  /** Stops watching and terminates every Worker; idempotent. */
  async close(): Promise<void> {
    await this.#watcher.close();
    await this.sandbox.close();
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
