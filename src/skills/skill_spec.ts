/** From a `[skills.<name>]` config table to what the sandbox runs. */
import type { SkillConfig } from "../config/mod.ts";
import type { SkillSpec } from "./types.ts";

/** Options for {@linkcode skillSpecOf}. */
export interface SkillSpecOptions {
  /** Default run timeout in ms. Default: the sandbox's. */
  timeoutMs?: number;
  /** Runs at once. Default: the sandbox's. */
  maxConcurrency?: number;
}

/**
 * The sandbox spec of a configured skill (paths are already absolute in config).
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config/mod.ts";
 * import { SkillSandbox, skillSpecOf } from "./mod.ts";
 * const config = await loadConfig("knarr.toml");
 * await using sandbox = new SkillSandbox();
 * for (const skill of config.skills) await sandbox.load(skillSpecOf(skill));
 * ```
 */
export function skillSpecOf(
  skill: SkillConfig,
  options: SkillSpecOptions = {},
): SkillSpec {
  return {
    name: skill.name,
    handlerPath: skill.handlerPath,
    handlerExport: skill.handlerExport,
    net: [...skill.net],
    read: [...skill.read],
    ...(options.timeoutMs !== undefined
      ? { timeoutMs: options.timeoutMs }
      : {}),
    ...(options.maxConcurrency !== undefined
      ? { maxConcurrency: options.maxConcurrency }
      : {}),
  };
}
