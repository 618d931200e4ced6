/** The node's own skills as the provider runs them: in-process handlers, then the runner. */
import type { Visibility } from "../config/mod.ts";
import type { SkillTable } from "../discovery/mod.ts";
import type {
  ExecutableSkill,
  RunContext,
  RunOutcome,
  SkillExecutor,
} from "../tasks/mod.ts";
import { isJsonObject } from "../wire/mod.ts";
import type { JsonObject } from "../wire/mod.ts";
import type { NodeAssets } from "./node_assets.ts";
import type { SkillSwitches } from "./skill_switches.ts";
import type {
  InProcessHandler,
  SkillAccess,
  SkillRunner,
} from "./node_options.ts";

/** Collaborators of {@linkcode LocalSkills}. */
export interface LocalSkillsDeps {
  nodeId: string;
  skills: () => SkillTable;
  runner: SkillRunner | undefined;
  /** The node's assets (made after this; read at run time). */
  assets: () => NodeAssets;
  /** Skills the operator disabled (refused with SKILL_DISABLED). Default: none. */
  switches?: SkillSwitches;
}

/** In-process handlers and the access rules of own skills; runs them for the provider. */
export class LocalSkills implements SkillExecutor {
  #handlers = new Map<string, InProcessHandler>();
  #access = new Map<string, SkillAccess>();
  #d: LocalSkillsDeps;

  constructor(deps: LocalSkillsDeps) {
    this.#d = deps;
  }

  /** Registers an in-process handler (name trimmed and lower-cased). */
  register(name: string, handler: InProcessHandler): void {
    this.#handlers.set(name.trim().toLowerCase(), handler);
  }

  /** Sets how an own skill may be called. */
  setAccess(name: string, access: SkillAccess): void {
    this.#access.set(name, access);
  }

  /** The own skill of this name the provider may run, or undefined. */
  get(name: string): ExecutableSkill | undefined {
    const entry = this.#d.skills().get(name, this.#d.nodeId);
    if (!entry || !entry.isOwn) return undefined;
    const runner = this.#d.runner;
    if (!this.#handlers.has(name) && !runner?.has(name)) {
      return undefined;
    }
    const access = this.#access.get(name) ?? {};
    const slots = this.#handlers.has(name) ? undefined : runner?.slots?.(name);
    return {
      name,
      sheet: entry.sheet,
      visibility: (access.visibility ?? entry.visibility) as Visibility,
      allowedNodes: access.allowedNodes ?? [],
      slow: access.slow ?? false,
      ...(slots !== undefined ? { slots } : {}),
      ...(this.#d.switches?.isDisabled(name) ? { disabled: true } : {}),
    };
  }

  /** Runs an own skill directly and returns its output; throws when it fails. */
  async call(
    name: string,
    input: JsonObject,
    options: { timeoutMs?: number },
  ): Promise<JsonObject> {
    const skill = name.trim().toLowerCase();
    const outcome = await this.run(skill, input, {
      callerNodeId: this.#d.nodeId,
      jobId: crypto.randomUUID(),
      timeoutMs: options.timeoutMs ?? 30_000,
    });
    if (outcome.status === "ok") return outcome.output;
    if (outcome.status === "timeout") {
      throw new Error(`Skill "${skill}" timed out`);
    }
    if (outcome.status === "invalid_input") {
      throw new TypeError(
        `Invalid input for skill "${skill}": ${outcome.message}`,
      );
    }
    throw new Error(`Skill "${skill}" failed: ${outcome.detail}`);
  }

  /** Runs a skill; handler faults resolve as an outcome, not a throw. */
  async run(
    name: string,
    input: JsonObject,
    ctx: RunContext,
  ): Promise<RunOutcome> {
    const outcome = await this.#runHandler(name, input, ctx);
    if (outcome.status === "ok") this.#d.assets().retainOutputs(outcome.output);
    return outcome;
  }

  async #runHandler(
    name: string,
    input: JsonObject,
    ctx: RunContext,
  ): Promise<RunOutcome> {
    const handler = this.#handlers.get(name);
    if (!handler) {
      // The sandbox stages asset references itself, readable by that Worker only.
      if (this.#d.runner?.has(name)) {
        return await this.#d.runner.run(name, input, ctx);
      }
      return { status: "error", detail: `No handler for skill '${name}'` };
    }
    input = await this.#d.assets().localPaths(input);
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const output = await Promise.race([
        Promise.resolve().then(() =>
          handler(input, {
            callerNodeId: ctx.callerNodeId,
            jobId: ctx.jobId,
            signal: controller.signal,
          })
        ),
        new Promise<"timeout">((resolve) => {
          timer = setTimeout(() => resolve("timeout"), ctx.timeoutMs);
        }),
      ]);
      if (output === "timeout") {
        controller.abort(new Error("Task timed out"));
        return { status: "timeout" };
      }
      if (!isJsonObject(output)) {
        return { status: "error", detail: "handler returned a non-object" };
      }
      return { status: "ok", output };
    } catch (error) {
      return {
        status: "error",
        detail: (error as Error)?.stack ?? String(error),
      };
    } finally {
      clearTimeout(timer);
    }
  }
}
