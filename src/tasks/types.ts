/** Interfaces the tasks layer codes against; the node implements them. */
import type { HostPort, Visibility } from "../config/mod.ts";
import type { JsonObject, Message, MessageFields } from "../wire/mod.ts";

/** A skill this node can execute. */
export interface ExecutableSkill {
  name: string;
  sheet: JsonObject;
  visibility: Visibility;
  /** Node ids allowed to call a whitelist skill. */
  allowedNodes: readonly string[];
  /** Answer TASK_STATUS accepted at once and push the result when done. */
  slow: boolean;
  /**
   * Runs of this skill at once (its Worker pool's size, say); past them its tasks wait
   * in the provider's queue. Default: the policy's `taskSlots`.
   */
  slots?: number;
  /** Switched off by the operator: requests get `SKILL_DISABLED`. */
  disabled?: boolean;
}

/** How one handler run ended. */
export type RunOutcome =
  | { status: "ok"; output: JsonObject }
  | { status: "timeout" }
  | { status: "error"; detail: string }
  /** The input broke the handler's own rules (a bridged tool's schema); sent to the caller. */
  | { status: "invalid_input"; message: string };

/** What a handler run knows about its caller. */
export interface RunContext {
  /** Node id of the caller. */
  callerNodeId: string;
  /** Task id of this run. */
  jobId: string;
  /** Run deadline in ms: the request's, capped by the policy's `maxTaskTimeout`. */
  timeoutMs: number;
  /** Cancels the run. */
  signal?: AbortSignal;
}

/** Runs skills (sandboxed Workers or in-process handlers). */
export interface SkillExecutor {
  get(name: string): ExecutableSkill | undefined;
  run(name: string, input: JsonObject, ctx: RunContext): Promise<RunOutcome>;
}

/** Sends a signed message to an address and resolves the verified reply (null if none). */
export type SendMessage = <T extends "TASK_REQUEST" | "TASK_RESULT">(
  to: HostPort,
  type: T,
  fields: MessageFields<T>,
  options: { timeoutMs: number; signal?: AbortSignal },
) => Promise<Message | null>;

/** The credit and capacity policy of a provider. */
export interface TaskPolicy {
  /** Balance a caller starts with before its first task. */
  initialCredit: number;
  /** Balance below which a caller's requests get INSUFFICIENT_CREDIT. */
  minBalance: number;
  /** Callers that never ran a task for us may not go below a balance of 0. */
  titForTat: boolean;
  /** Runs at once of a skill that does not say its own `slots` (an in-process handler). */
  taskSlots: number;
  /**
   * Tasks that may wait for a slot, all skills together; past it, requests get
   * PROVIDER_BUSY. A fast task waits for its reply on its connection; a slow one gets
   * TASK_STATUS queued and its result pushed.
   */
  maxQueueDepth: number;
  /** Seconds; 0 = unlimited. */
  maxTaskTimeout: number;
}

/** A task's outcome as `knarr request --json` prints it. */
export interface TaskOutcome {
  /** Task id of the last attempt. */
  task_id: string;
  /** Whether the provider completed the task. */
  status: "completed" | "failed";
  /** Handler output; {} when the task failed. */
  output_data: JsonObject;
  /** `{ code, message }` when the task failed; {} when it completed. */
  error: JsonObject;
  /** The provider that answered, when one did. */
  provider?: {
    node_id: string;
    host: string;
    port: number;
    /** The provider's asset sidecar port (0: none), for `knarr-asset://` outputs. */
    sidecar_port: number;
  };
}
