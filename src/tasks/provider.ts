/** The provider pipeline: every check of the protocol, in order, then slots, queue and the run. */
import type { Reply } from "../discovery/mod.ts";
import { sheetPrice } from "../discovery/mod.ts";
import { StorageUnavailableError } from "../store/mod.ts";
import type {
  LedgerRepo,
  StorageHealth,
  TaskRepo,
  TaskResultRepo,
} from "../store/mod.ts";
import { type Logger, SILENT_LOGGER } from "../util/mod.ts";
import type { JsonObject, JsonValue, TaskRequest } from "../wire/mod.ts";
import type { Clock } from "../discovery/mod.ts";
import type { SendMessage, SkillExecutor, TaskPolicy } from "./types.ts";
import { checkRequest, failed } from "./_request_checks.ts";
import { type Queued, taskWrite } from "./_task_record.ts";
import { outcomeReply, pushResult } from "./_task_outcome.ts";
import { SkillSlots } from "./_skill_slots.ts";
import { STORAGE_UNAVAILABLE, TaskMemory } from "./_task_memory.ts";
import type { TaskMetrics } from "./task_metrics.ts";

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
  /**
   * Runs a store write in the next group commit and resolves once it is on disk
   * (`GroupCommit.write`). Default: runs it at once.
   */
  commit?: <T>(
    write: () => T,
    options: { expectMore: boolean },
  ) => Promise<T>;
  /** Stored results of completed tasks: a retried task id gets its result again. */
  results?: TaskResultRepo;
  /** Whether the store takes writes; while it does not, paid tasks are refused. */
  storage?: Pick<StorageHealth, "available">;
  logger?: Logger;
  /** Counts every task that ends (completed, failed or refused). Default: none. */
  metrics?: TaskMetrics;
}

/** Runs tasks for remote callers. */
export class TaskProvider {
  #d: TaskProviderDeps;
  #policy: TaskPolicy;
  #log: Logger;
  #seen = new Set<string>();
  #slots: SkillSlots;
  #background = new Set<Promise<void>>();
  #avgMs = new Map<string, number>();
  #closed = false;
  #memory: TaskMemory;

  /** Takes the collaborators and the credit and capacity policy. */
  constructor(deps: TaskProviderDeps, policy: TaskPolicy) {
    this.#d = deps;
    this.#policy = policy;
    this.#log = deps.logger ?? SILENT_LOGGER;
    this.#memory = new TaskMemory(deps.results);
    this.#slots = new SkillSlots(policy.taskSlots);
  }

  /** Busy task slots (reported as load). */
  get load(): number {
    return this.#slots.running;
  }

  /** Tasks waiting for a slot. */
  get queued(): number {
    return this.#slots.queued;
  }

  /** Answers a verified TASK_REQUEST from `senderNodeId` (the SHA-256 of its public key). */
  async handleRequest(
    request: TaskRequest,
    senderNodeId: string,
  ): Promise<Reply> {
    const taskId = request.task_id;
    // 1. replays
    if (!this.#remember(request.msg_id)) {
      return this.#refuse(request, null, senderNodeId, {
        code: "DUPLICATE_REQUEST",
        message: "Duplicate request",
      });
    }
    // 1b. a task id seen before is never run or charged twice (see TaskMemory)
    const again = this.#memory.recall(request);
    if (again) return again;
    // 2.–6. skill, input, request, visibility, credit
    const checked = checkRequest(request, senderNodeId, {
      selfNodeId: this.#d.selfNodeId,
      executor: this.#d.executor,
      ledger: this.#d.ledger,
      policy: this.#policy,
    });
    if ("refused" in checked) {
      const { refused, skill } = checked;
      this.#d.metrics?.observe(
        request,
        skill?.name ?? null,
        senderNodeId,
        refused,
        0,
        null,
      );
      return refused;
    }
    const skill = checked.skill;
    // 6b. a charge that cannot be written: paid work is refused up front
    if (
      this.#d.storage?.available === false && sheetPrice(skill.sheet) > 0 &&
      senderNodeId !== this.#d.selfNodeId
    ) {
      return this.#refuse(
        request,
        skill.name,
        senderNodeId,
        STORAGE_UNAVAILABLE,
      );
    }
    // 7. capacity: a skill runs up to its slots at once; past them its tasks wait in
    // the shared bounded queue. A full queue is PROVIDER_BUSY; a fast task whose wait
    // would outlast its deadline is RETRY_AFTER at once instead of a TIMEOUT later.
    const busy = this.#slots.full(skill);
    if (busy && this.#slots.queued >= this.#policy.maxQueueDepth) {
      return this.#refuse(request, skill.name, senderNodeId, {
        code: "PROVIDER_BUSY",
        message: "Provider queue is full",
      });
    }
    const avgMs = this.#avgMs.get(skill.name) ?? 0;
    const limitMs = this.#policy.maxTaskTimeout > 0
      ? Math.min(request.timeout_ms, this.#policy.maxTaskTimeout * 1000)
      : request.timeout_ms;
    if (busy && !skill.slow) {
      const ahead = this.#slots.waiting(skill.name);
      const waitMs = (Math.floor(ahead / this.#slots.slotsOf(skill)) + 1) *
        avgMs;
      if (waitMs + avgMs > limitMs) {
        const seconds = Math.max(1, Math.ceil(waitMs / 1000));
        return this.#refuse(request, skill.name, senderNodeId, {
          code: "RETRY_AFTER",
          message: `Provider busy, try again in ${seconds} seconds`,
          retry_after_seconds: seconds,
        });
      }
    }
    // 8. run
    this.#memory.begin(request);
    const input: JsonObject = {
      ...(this.#d.resolveAssets
        ? await this.#d.resolveAssets(request.input_data, {
          nodeId: senderNodeId,
          host: request.requester_host,
        }).catch((error) => {
          this.#memory.end(taskId);
          throw error;
        })
        : request.input_data),
      _job_id: taskId,
      _caller_node_id: senderNodeId,
    };
    const job: Queued = {
      request,
      skill,
      senderNodeId,
      input,
      timeoutMs: limitMs,
      admittedAt: this.#d.clock.now(),
    };
    // Asset fetching awaited: slots may have filled or freed meanwhile.
    const full = this.#slots.full(skill);
    if (!skill.slow) {
      if (!full) return await this.#run(job);
      return await new Promise<Reply<"TASK_RESULT">>((resolve) => {
        job.resolve = resolve;
        this.#slots.enqueue(job);
        job.timer = setTimeout(() => this.#expire(job), limitMs);
      });
    }
    if (full) {
      const position = this.#slots.enqueue(job);
      return {
        type: "TASK_STATUS",
        fields: { task_id: taskId, status: "queued", reason: "", position },
      };
    }
    this.#spawn(this.#runAndPush(job));
    return {
      type: "TASK_STATUS",
      fields: { task_id: taskId, status: "accepted", reason: "", position: 0 },
    };
  }

  /** A refusal before the task ran, counted. */
  #refuse(
    request: TaskRequest,
    skill: string | null,
    senderNodeId: string,
    error: Record<string, JsonValue>,
  ): Reply<"TASK_RESULT"> {
    const reply = failed(request.task_id, error);
    this.#d.metrics?.observe(request, skill, senderNodeId, reply, 0, null);
    return reply;
  }

  /** A queued fast task's deadline passed: it leaves the queue unrun and uncharged. */
  #expire(job: Queued): void {
    if (!job.resolve || !this.#slots.remove(job)) return;
    const reply = failed(job.request.task_id, {
      code: "TIMEOUT",
      message: "Task timed out while queued",
    });
    const resolve = job.resolve;
    this.#spawn(
      this.#persist(job, reply, 0, job.admittedAt, null).then(() => {})
        .finally(() => resolve(reply)),
    );
  }

  async #run(job: Queued): Promise<Reply<"TASK_RESULT">> {
    const { request, skill, senderNodeId } = job;
    const started = this.#d.clock.now();
    const leftMs = job.timeoutMs - (started - job.admittedAt) * 1000;
    if (leftMs < 1) {
      // Its deadline passed in the queue: not run, not charged.
      const reply = failed(request.task_id, {
        code: "TIMEOUT",
        message: "Task timed out while queued",
      });
      await this.#persist(job, reply, 0, started, null);
      return reply;
    }
    this.#slots.start(skill.name);
    let outcome;
    try {
      outcome = await this.#d.executor.run(skill.name, job.input, {
        callerNodeId: senderNodeId,
        jobId: request.task_id,
        timeoutMs: Math.floor(leftMs),
      });
    } catch (error) {
      outcome = { status: "error" as const, detail: (error as Error).message };
    } finally {
      this.#slots.finish(skill.name);
    }
    // The next queued run starts while this one's result is written and sent.
    this.#drain(skill.name);
    const finished = this.#d.clock.now();
    const wallMs = (finished - started) * 1000;
    this.#avgMs.set(
      skill.name,
      (this.#avgMs.get(skill.name) ?? wallMs) * 0.8 + wallMs * 0.2,
    );
    const { reply, price } = outcomeReply(
      outcome,
      request.task_id,
      skill,
      this.#log,
    );
    return await this.#persist(job, reply, price, started, wallMs);
  }

  /**
   * Writes the ledger entry of a completed task and the task's history row in one
   * group commit, and resolves once they are on disk: before the result leaves this
   * node. A ledger write that fails throws (no result is sent); a history row that
   * fails is only logged. Resolves the reply to send: a paid result whose charge the
   * storage refused is withheld (failed `STORAGE_UNAVAILABLE`, nothing charged).
   */
  async #persist(
    job: Queued,
    reply: Reply<"TASK_RESULT">,
    price: number,
    started: number,
    wallMs: number | null,
  ): Promise<Reply<"TASK_RESULT">> {
    const { request, skill, senderNodeId } = job;
    const write = taskWrite(job, reply, price, started, wallMs ?? 0, {
      selfNodeId: this.#d.selfNodeId,
      ledger: this.#d.ledger,
      tasks: this.#d.tasks,
      clock: this.#d.clock,
      initialCredit: this.#policy.initialCredit,
      log: this.#log,
      memory: this.#memory,
    });
    // Tasks still running will want the same commit soon.
    const expectMore = this.#slots.running > 0 || this.#slots.queued > 0;
    let sent: Reply<"TASK_RESULT"> | null = null;
    try {
      const stored = this.#d.commit
        ? await this.#d.commit(write, { expectMore })
        : write();
      if (stored !== null) this.#memory.remember(request.task_id, stored);
      return sent = reply;
    } catch (error) {
      if (!(error instanceof StorageUnavailableError)) throw error;
      // A free task's result still goes out: no credit changes hands.
      const paid = price > 0 && reply.fields.status === "completed" &&
        senderNodeId !== this.#d.selfNodeId;
      return sent = paid ? failed(request.task_id, STORAGE_UNAVAILABLE) : reply;
    } finally {
      this.#memory.end(request.task_id);
      // Counted as it is answered (a withheld result as the failure it becomes; null
      // wallMs: it never ran).
      if (sent !== null) {
        this.#d.metrics?.observe(
          request,
          skill.name,
          senderNodeId,
          sent,
          sent === reply ? price : 0,
          wallMs,
        );
      }
    }
  }

  async #runAndPush(job: Queued): Promise<void> {
    const reply = await this.#run(job);
    await pushResult(this.#d.send, job, reply, {
      closed: () => this.#closed,
      log: this.#log,
    });
  }

  /** Starts queued runs of a skill while it has free slots. */
  #drain(name: string): void {
    for (;;) {
      const next = this.#closed ? undefined : this.#slots.next(name);
      if (next === undefined) return;
      clearTimeout(next.timer);
      if (next.resolve) {
        const resolve = next.resolve;
        this.#spawn(
          this.#run(next).then(resolve, (error) => {
            resolve(failed(next.request.task_id, {
              code: "HANDLER_ERROR",
              message: "Handler execution failed",
            }));
            throw error;
          }),
        );
      } else {
        this.#spawn(this.#runAndPush(next));
      }
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
    for (const job of this.#slots.clear()) {
      clearTimeout(job.timer);
      this.#memory.end(job.request.task_id);
      job.resolve?.(failed(job.request.task_id, {
        code: "PROVIDER_BUSY",
        message: "Provider is shutting down",
      }));
    }
    while (this.#background.size > 0) {
      await Promise.allSettled([...this.#background]);
    }
  }
}
