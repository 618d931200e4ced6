/**
 * The skills layer: skill handlers run in permission-scoped Workers, with a heap
 * limit, deadlines, a concurrency bound per skill, warm reuse, hot reload, and the
 * task context handlers see (`callLocal`, assets).
 *
 * @module
 */
export {
  SkillLoadError,
  SkillPermissionError,
  UnknownSkillError,
} from "./errors.ts";
export { SkillSandbox } from "./skill_sandbox.ts";
export type { SkillSandboxDeps, SkillSandboxOptions } from "./skill_sandbox.ts";
export { skillSpecOf } from "./skill_spec.ts";
export type { SkillSpecOptions } from "./skill_spec.ts";
export { SkillWatcher } from "./skill_watcher.ts";
export type {
  SkillLoader,
  SkillReloadEvent,
  SkillWatcherDeps,
  SkillWatcherOptions,
} from "./skill_watcher.ts";
export type {
  Clock,
  LocalCall,
  LocalCallContext,
  RunOptions,
  RunOutcome,
  SkillHandler,
  SkillSpec,
  SkillStats,
  TaskContext,
} from "./types.ts";
