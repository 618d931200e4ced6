/** The provider pipeline: every check of the protocol, in order, then slots, queue and the run. */
import type { Reply } from "../discovery/mod.ts";
import {
  requiredInputs,
  sheetMaxInputSize,
  sheetPrice,
} from "../discovery/mod.ts";
import type { LedgerRepo, TaskRepo } from "../store/mod.ts";
import { type Logger, SILENT_LOGGER } from "../util/mod.ts";
import { isJsonObject, pythonWireJson } from "../wire/mod.ts";
import type { JsonObject, JsonValue, TaskRequest } from "../wire/mod.ts";
import type { Clock } from "../discovery/mod.ts";
import type {
  ExecutableSkill,
  SendMessage,
  SkillExecutor,
  TaskPolicy,
} from "./types.ts";

/** Collaborators of {@linkcode TaskProvider}. */
export interface TaskProviderDeps {
  selfNodeId: string;
  executor: SkillExecutor;
  ledger: LedgerRepo;
  tasks: TaskRepo;
  clock: Clock;
  /** Pushes a slow task's TASK_RESULT to the requester. */
  send: SendMessage;
  /**
   * Prepares `knarr-asset://` input references before the handler runs (the node
   * fetches assets it lacks from the caller's sidecar).
   */
  resolveAssets?: (
    input: JsonObject,
    caller: { nodeId: string; host: string },
  ) => Promise<JsonObject>;
  logger?: Logger;
}

const encoder = new TextEncoder();
const HOST_RE = /^[A-Za-z0-9.:_\-\[\]]{1,256}$/;

function failed(
  taskId: string,
  error: Record<string, JsonValue>,
): Reply<"TASK_RESULT"> {
  return {
    type: "TASK_RESULT",
    fields: { task_id: taskId, status: "failed", output_data: {}, error },
  };
}

function pyFloat(n: number): string {
  return Number.isInteger(n) ? n.toFixed(1) : String(n);
}

interface Queued {
  request: TaskRequest;
  skill: ExecutableSkill;
  senderNodeId: string;
  input: JsonObject;
  timeoutMs: number;
}

/** Runs tasks for remote callers. */
export class TaskProvider {
  #d: TaskProviderDeps;
  #policy: TaskPolicy;
  #log: Logger;
  #seen = new Set<string>();
  #running = 0;
  #queue: Queued[] = [];
  #background = new Set<Promise<void>>();
  #avgMs = 1000;
  #closed = false;

  /** Takes the collaborators and the credit and capacity policy. */
  constructor(deps: TaskProviderDeps, policy: TaskPolicy) {
    this.#d = deps;
    this.#policy = policy;
    this.#log = deps.logger ?? SILENT_LOGGER;
  }

  /** Busy task slots (reported as load). */
  get load(): number {
    return this.#running;
  }

  /** Tasks waiting for a slot. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Answers a verified TASK_REQUEST from `senderNodeId` (the SHA-256 of its public key). */
  async handleRequest(
    request: TaskRequest,
    senderNodeId: string,
  ): Promise<Reply> {
    const taskId = request.task_id;
    // 1. replays
    if (!this.#remember(request.msg_id)) {
      return failed(taskId, {
        code: "DUPLICATE_REQUEST",
        message: "Duplicate request",
      });
    }
    // 2. skill
    const name = request.skill_name.trim().toLowerCase();
    const skill = this.#d.executor.get(name);
    if (!skill) {
      return failed(taskId, {
        code: "UNKNOWN_SKILL",
        message: `No handler for skill '${name}'`,
      });
    }
    // 3. input
    const size = encoder.encode(pythonWireJson(request.input_data)).length;
    const max = sheetMaxInputSize(skill.sheet);
    if (size > max) {
      return failed(taskId, {
        code: "INPUT_TOO_LARGE",
        message: `Input is ${size} bytes, larger than ${max}`,
      });
    }
    const missing = requiredInputs(skill.sheet).filter((k) =>
      !(k in request.input_data)
    );
    if (missing.length > 0) {
      return failed(taskId, {
        code: "INVALID_INPUT",
        message: `Missing required fields: ${missing.join(", ")}`,
        detail: { missing_fields: missing },
      });
    }
    // 4. request
    const port = request.requester_port;
    if (
      !HOST_RE.test(request.requester_host) || !Number.isInteger(port) ||
      port < 1 || port > 65535
    ) {
      return failed(taskId, {
        code: "INVALID_REQUEST",
        message: "Invalid requester address",
      });
    }
    if (!Number.isInteger(request.timeout_ms) || request.timeout_ms < 1) {
      return failed(taskId, {
        code: "INVALID_REQUEST",
        message: "timeout_ms must be a positive integer",
      });
    }
    // 5. visibility (a node calling itself bypasses it)
    const self = senderNodeId === this.#d.selfNodeId;
    if (!self && skill.visibility === "private") {
      return failed(taskId, {
        code: "ACCESS_DENIED",
        message: `Skill '${name}' is private`,
      });
    }
    if (
      !self && skill.visibility === "whitelist" &&
      !skill.allowedNodes.includes(senderNodeId)
    ) {
      return failed(taskId, {
        code: "ACCESS_DENIED",
        message: `Skill '${name}' is not available to this node`,
      });
    }
    // 6. credit
    const price = sheetPrice(skill.sheet);
    if (!self && price > 0) {
      const row = this.#d.ledger.get(request.public_key);
      const balance = row?.balance ?? this.#policy.initialCredit;
      const floor = this.#policy.titForTat && (row?.tasksConsumed ?? 0) === 0
        ? Math.max(this.#policy.minBalance, 0)
        : this.#policy.minBalance;
      if (balance < floor) {
        return failed(taskId, {
          code: "INSUFFICIENT_CREDIT",
          message: `Balance ${pyFloat(balance)} below minimum ${
            pyFloat(floor)
          }`,
        });
      }
    }
    // 7. capacity
    const busy = this.#running >= this.#policy.taskSlots;
    if (busy && this.#queue.length >= this.#policy.maxQueueDepth) {
      return failed(taskId, {
        code: "PROVIDER_BUSY",
        message: "Provider queue is full",
      });
    }
    if (busy && !skill.slow) {
      const seconds = Math.max(1, Math.ceil(this.#avgMs / 1000));
      return failed(taskId, {
        code: "RETRY_AFTER",
        message: `Provider busy, try again in ${seconds} seconds`,
        retry_after_seconds: seconds,
      });
    }
    // 8. run
    const input: JsonObject = {
      ...(this.#d.resolveAssets
        ? await this.#d.resolveAssets(request.input_data, {
          nodeId: senderNodeId,
          host: request.requester_host,
        })
        : request.input_data),
      _job_id: taskId,
      _caller_node_id: senderNodeId,
    };
    const limitMs = this.#policy.maxTaskTimeout > 0
      ? Math.min(request.timeout_ms, this.#policy.maxTaskTimeout * 1000)
      : request.timeout_ms;
    const job: Queued = {
      request,
      skill,
      senderNodeId,
      input,
      timeoutMs: limitMs,
    };
    if (!skill.slow) return await this.#run(job);
    if (busy) {
      this.#queue.push(job);
      return {
        type: "TASK_STATUS",
        fields: {
          task_id: taskId,
          status: "queued",
          reason: "",
          position: this.#queue.length,
        },
      };
    }
    this.#spawn(this.#runAndPush(job));
    return {
      type: "TASK_STATUS",
      fields: { task_id: taskId, status: "accepted", reason: "", position: 0 },
    };
  }

  async #run(job: Queued): Promise<Reply<"TASK_RESULT">> {
    const { request, skill, senderNodeId } = job;
    const started = this.#d.clock.now();
    this.#running++;
    let outcome;
    try {
      outcome = await this.#d.executor.run(skill.name, job.input, {
        callerNodeId: senderNodeId,
        jobId: request.task_id,
        timeoutMs: job.timeoutMs,
      });
    } catch (error) {
      outcome = { status: "error" as const, detail: (error as Error).message };
    } finally {
      this.#running--;
    }
    const finished = this.#d.clock.now();
    const wallMs = (finished - started) * 1000;
    this.#avgMs = this.#avgMs * 0.8 + wallMs * 0.2;
    let reply: Reply<"TASK_RESULT">;
    let price = 0;
    if (outcome.status === "ok" && isJsonObject(outcome.output)) {
      price = sheetPrice(skill.sheet);
      if (senderNodeId !== this.#d.selfNodeId) {
        // On disk before the result leaves this node.
        this.#d.ledger.apply(
          request.public_key,
          -price,
          "provided",
          this.#policy.initialCredit,
          finished,
        );
      }
      reply = {
        type: "TASK_RESULT",
        fields: {
          task_id: request.task_id,
          status: "completed",
          output_data: outcome.output,
          error: {},
        },
      };
    } else if (outcome.status === "timeout") {
      reply = failed(request.task_id, {
        code: "TIMEOUT",
        message: "Task timed out",
      });
    } else if (outcome.status === "invalid_input") {
      // The handler's own input check (a bridged tool's JSON Schema): the caller's mistake.
      reply = failed(request.task_id, {
        code: "INVALID_INPUT",
        message: outcome.message,
      });
    } else {
      this.#log.warn(
        `Skill "${skill.name}" failed for task ${request.task_id}: ${
          outcome.status === "error"
            ? outcome.detail.split("\n")[0]
            : "output is not a JSON object"
        }`,
      );
      reply = failed(request.task_id, {
        code: "HANDLER_ERROR",
        message: "Handler execution failed",
      });
    }
    const error = reply.fields.error as JsonObject | undefined;
    this.#record(
      job,
      reply.fields.status as string,
      (error?.code as string | undefined) ?? null,
      price,
      started,
      wallMs,
    );
    this.#drain();
    return reply;
  }

  async #runAndPush(job: Queued): Promise<void> {
    const reply = await this.#run(job);
    const to = {
      host: job.request.requester_host,
      port: job.request.requester_port,
    };
    for (let attempt = 0; attempt < 3 && !this.#closed; attempt++) {
      try {
        await this.#d.send(to, "TASK_RESULT", reply.fields, {
          timeoutMs: 10_000,
        });
        return;
      } catch (error) {
        this.#log.warn(
          `Cannot push result of task ${job.request.task_id} to ${to.host}:${to.port}: ${
            (error as Error).message
          }`,
        );
        await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
      }
    }
  }

  #drain(): void {
    while (
      !this.#closed && this.#queue.length > 0 &&
      this.#running < this.#policy.taskSlots
    ) {
      this.#spawn(this.#runAndPush(this.#queue.shift()!));
    }
  }

  #record(
    job: Queued,
    status: string,
    errorCode: string | null,
    price: number,
    createdAt: number,
    wallMs: number,
  ) {
    try {
      this.#d.tasks.put({
        taskId: job.request.task_id,
        role: "provider",
        skillName: job.skill.name,
        peerNodeId: job.senderNodeId,
        peerPublicKey: job.request.public_key,
        status,
        errorCode,
        price,
        createdAt,
        finishedAt: this.#d.clock.now(),
        wallMs,
      });
    } catch (error) {
      this.#log.warn(
        `Cannot record task ${job.request.task_id}: ${
          (error as Error).message
        }`,
      );
    }
  }

  #remember(msgId: string): boolean {
    if (this.#seen.has(msgId)) return false;
    this.#seen.add(msgId);
    if (this.#seen.size > 100_000) {
      this.#seen.delete(this.#seen.values().next().value!);
    }
    return true;
  }

  #spawn(p: Promise<void>): void {
    const tracked = p.catch((error) =>
      this.#log.warn(`Task failed: ${(error as Error).message}`)
    );
    this.#background.add(tracked);
    tracked.finally(() => this.#background.delete(tracked));
  }

  /** Stops taking queued work and waits for running tasks; idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#queue.length = 0;
    while (this.#background.size > 0) {
      await Promise.allSettled([...this.#background]);
    }
  }
}
