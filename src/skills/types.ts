/** The shapes the skill sandbox speaks: specs, run options, outcomes and the handler API. */
import type { JsonObject } from "../wire/mod.ts";

/** What the sandbox needs to run one skill (see `skillSpecOf` for config → spec). */
export interface SkillSpec {
  /** Skill name, as callers address it. */
  name: string;
  /** Absolute path of the handler module. */
  handlerPath: string;
  /** Exported function name, usually "handle". */
  handlerExport: string;
  /** Hosts or host:port the handler may connect to. */
  net: readonly string[];
  /** Absolute paths the handler may read, besides its own directory. */
  read: readonly string[];
  /** Default run timeout in ms. Default: the sandbox's `defaultTimeoutMs`. */
  timeoutMs?: number;
  /** Runs of this skill at once (one Worker each). Default: the sandbox's `maxConcurrency`. */
  maxConcurrency?: number;
}

/** How one handler run ended; handler faults never throw. */
export type RunOutcome =
  | { status: "ok"; output: JsonObject }
  | { status: "timeout" }
  | { status: "error"; detail: string };

/** Options of {@linkcode SkillSandbox.run}. */
export interface RunOptions {
  /** Node id of the caller, passed to the handler as `ctx.callerNodeId`. */
  callerNodeId: string;
  /** Task id, passed to the handler as `ctx.jobId`. */
  jobId: string;
  /** Deadline in ms from the call; 0 or less means the default. Default: the skill's `timeoutMs`. */
  timeoutMs?: number;
  /** Cancels the run: the Worker is replaced and `run()` rejects with the reason. */
  signal?: AbortSignal;
  /** `callLocal` nesting depth; 0 for a task from the network. Default 0. */
  depth?: number;
}

/** Run options of a `ctx.callLocal()`, ready to pass to `run()`. */
export interface LocalCallContext extends RunOptions {
  /** The calling run's depth plus one. */
  depth: number;
  /** Aborted when the calling run ends, so the nested run stops with it. */
  signal: AbortSignal;
}

/**
 * Runs a skill for a handler's `ctx.callLocal()`; the node may apply its own checks
 * and then call `sandbox.run(name, input, ctx)`.
 */
export type LocalCall = (
  name: string,
  input: JsonObject,
  ctx: LocalCallContext,
) => Promise<RunOutcome>;

/** Worker counts of one skill, for diagnostics. */
export interface SkillStats {
  /** Started Workers waiting for a run. */
  idle: number;
  /** Workers running a handler. */
  busy: number;
  /** Workers loading the handler module. */
  starting: number;
  /** Runs waiting for a Worker. */
  queued: number;
  /** Timed-out Workers that stayed in synchronous code. */
  stuck: number;
  /** True once `stuck` reached `maxStuckWorkers`; reloading the skill clears it. */
  disabled: boolean;
}

/** Monotonic time in milliseconds; injectable for tests. */
export interface Clock {
  now(): number;
}

/**
 * The second argument of a skill handler.
 *
 * @example
 * ```ts
 * import type { TaskContext } from "../mod.ts";
 *
 * export async function handle(input: { text?: string }, ctx: TaskContext) {
 *   const echoed = await ctx.callLocal("echo", { text: input.text ?? "" });
 *   return { text: String(echoed.text).toUpperCase(), job: ctx.jobId };
 * }
 * ```
 */
export interface TaskContext {
  /** Node id of the caller (this node's own id for local calls). */
  readonly callerNodeId: string;
  /** Task id of this run. */
  readonly jobId: string;
  /** Aborted when the run times out or is cancelled; the Worker is terminated soon after. */
  readonly signal: AbortSignal;
  /** Runs another skill of this node under its own sandbox rules; rejects if it fails. */
  callLocal(
    skill: string,
    input: Record<string, unknown>,
  ): Promise<Record<string, unknown>>;
  /** Path of an asset staged for this run (readable until it ends), or null if not stored. */
  getAsset(hash: string): Promise<string | null>;
  /** Stores bytes as an asset and returns its SHA-256 hash (64 lowercase hex). */
  storeAsset(bytes: Uint8Array): Promise<string>;
}

/** The contract of a skill file's handler export. */
export type SkillHandler = (
  input: Record<string, unknown>,
  ctx: TaskContext,
) => Record<string, unknown> | Promise<Record<string, unknown>>;
