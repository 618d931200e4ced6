/** The consumer side: pick providers, send TASK_REQUEST, wait for pushed results, credit providers. */
import type { Clock, QueryResult, Reply } from "../discovery/mod.ts";
import { sheetMaxInputSize, sheetPrice } from "../discovery/mod.ts";
import { StorageUnavailableError } from "../store/mod.ts";
import type { LedgerRepo, StorageHealth, TaskRepo } from "../store/mod.ts";
import { type Logger, SILENT_LOGGER, sleep } from "../util/mod.ts";
import { isJsonObject, pythonWireJson, toNumber } from "../wire/mod.ts";
import type {
  JsonObject,
  Message,
  TaskResult,
  TaskStatus,
} from "../wire/mod.ts";
import type { SendMessage, TaskOutcome, TaskPolicy } from "./types.ts";
import { consumerWrite } from "./_consumer_record.ts";
import { fail, raceTimeout, whereOf } from "./_consumer_outcome.ts";

/** Collaborators of {@linkcode TaskConsumer}. */
export interface TaskConsumerDeps {
  /** Our node id and the address providers push results to. */
  self: () => { nodeId: string; host: string; port: number };
  send: SendMessage;
  /** Maps a public key to its node id. */
  nodeIdOf: (publicKey: string) => Promise<string>;
  ledger: LedgerRepo;
  tasks: TaskRepo;
  clock: Clock;
  logger?: Logger;
  /**
   * Runs the ledger entry and history row of a result in one commit and resolves once
   * it is on disk (`GroupCommit.write`). Default: runs them at once.
   */
  commit?: <T>(write: () => T) => Promise<T>;
  /** Whether the store takes writes; while it does not, paid tasks are not requested. */
  storage?: Pick<StorageHealth, "available" | "fault">;
}

/** Options for {@linkcode TaskConsumer.request}. */
export interface TaskRequestOptions {
  /** Overall deadline in ms. Default 30 000. */
  timeoutMs?: number;
  /** Stops the request early; it then resolves with a failed outcome. */
  signal?: AbortSignal;
  /**
   * Makes the input for one provider before it is tried (the CLI uploads `@file`
   * inputs to that provider's sidecar here). A throw fails that attempt with
   * `ASSET_UPLOAD_FAILED` and the next provider is tried.
   */
  prepareInput?: (
    provider: QueryResult,
    signal?: AbortSignal,
  ) => Promise<JsonObject>;
  /**
   * Task id of every attempt (default: a new one each). Pass the `task_id` of an earlier
   * outcome that failed without an answer (`UNREACHABLE`, `TIMEOUT`: the provider may
   * have run and charged it) to ask again: a provider that completed it answers with the
   * stored result and does not charge a second time.
   */
  taskId?: string;
}

interface Pending {
  providerNodeId: string;
  resolve: (result: TaskResult) => void;
}

/** Runs tasks on remote providers. */
export class TaskConsumer {
  #d: TaskConsumerDeps;
  #policy: Pick<TaskPolicy, "initialCredit">;
  #log: Logger;
  #pending = new Map<string, Pending>();

  /** Takes the collaborators and the policy's `initialCredit` (a new provider's starting balance). */
  constructor(
    deps: TaskConsumerDeps,
    policy: Pick<TaskPolicy, "initialCredit">,
  ) {
    this.#d = deps;
    this.#policy = policy;
    this.#log = deps.logger ?? SILENT_LOGGER;
  }

  /**
   * Calls the first provider of `providers` (ranked best first); on PROVIDER_BUSY or
   * SKILL_DISABLED tries the next; on RETRY_AFTER waits and retries that provider once.
   */
  async request(
    skill: string,
    input: JsonObject,
    providers: readonly QueryResult[],
    options: TaskRequestOptions = {},
  ): Promise<TaskOutcome> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const deadline = performance.now() + timeoutMs;
    if (
      options.taskId !== undefined &&
      !/^[\x21-\x7e]{1,128}$/.test(options.taskId)
    ) {
      throw new TypeError(
        `Cannot request "${skill}": task id "${options.taskId}" must be 1 to 128 printable ASCII characters`,
      );
    }
    const newId = () => options.taskId ?? crypto.randomUUID();
    const taskId = newId();
    if (providers.length === 0) {
      return fail(
        taskId,
        "NO_PROVIDER",
        `No provider found for skill '${skill}'`,
      );
    }
    let last: TaskOutcome = fail(
      taskId,
      "NO_PROVIDER",
      `No provider of '${skill}' answered`,
    );
    for (const provider of providers) {
      if (
        this.#d.storage?.available === false &&
        sheetPrice(provider.skill_sheet) > 0
      ) {
        last = fail(
          taskId,
          "STORAGE_UNAVAILABLE",
          `Cannot pay for a task: ${this.#d.storage.fault}`,
        );
        continue;
      }
      let retried = false;
      let tooLarge = false;
      for (;;) {
        const left = Math.max(1, Math.round(deadline - performance.now()));
        if (deadline - performance.now() <= 0 || options.signal?.aborted) {
          return fail(last.task_id, "TIMEOUT", "Task timed out");
        }
        let prepared = input;
        if (options.prepareInput) {
          try {
            prepared = await options.prepareInput(provider, options.signal);
          } catch (error) {
            if (options.signal?.aborted) {
              return fail(last.task_id, "TIMEOUT", "Task timed out");
            }
            last = {
              ...fail(
                newId(),
                "ASSET_UPLOAD_FAILED",
                (error as Error).message,
              ),
              provider: whereOf(provider),
            };
            break;
          }
        }
        // A provider refuses an input over its sheet's max_input_size (and one far over it
        // unread): say so here, without the round trip, and try the next provider.
        const size = pythonWireJson(prepared).length;
        const max = sheetMaxInputSize(provider.skill_sheet);
        if (size > max) {
          last = {
            ...fail(
              newId(),
              "INPUT_TOO_LARGE",
              `Input is ${size} bytes, larger than ${max}, the most this provider takes`,
            ),
            provider: whereOf(provider),
          };
          tooLarge = true;
          break;
        }
        last = await this.#attempt(
          newId(),
          skill,
          prepared,
          provider,
          left,
          options.signal,
        );
        const code = last.error.code;
        if (code === "RETRY_AFTER" && !retried) {
          retried = true;
          const wait = Math.min(
            (toNumber(last.error.retry_after_seconds) ?? 1) * 1000,
            deadline - performance.now(),
          );
          if (wait > 0) await sleep(wait, options.signal);
          continue;
        }
        break;
      }
      if (
        !tooLarge &&
        last.error.code !== "PROVIDER_BUSY" &&
        last.error.code !== "SKILL_DISABLED" &&
        last.error.code !== "RETRY_AFTER" &&
        last.error.code !== "STORAGE_UNAVAILABLE" &&
        last.error.code !== "UNREACHABLE" &&
        last.error.code !== "ASSET_UPLOAD_FAILED"
      ) {
        return last;
      }
    }
    return last;
  }

  async #attempt(
    taskId: string,
    skill: string,
    input: JsonObject,
    provider: QueryResult,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<TaskOutcome> {
    const self = this.#d.self();
    const started = this.#d.clock.now();
    const to = { host: provider.host, port: provider.port };
    const where = whereOf(provider);
    let waiter: Promise<TaskResult> | null = null;
    let cancel = () => {};
    // Register before sending: a slow result can be pushed before the request's reply arrives.
    waiter = new Promise<TaskResult>((resolve) => {
      this.#pending.set(taskId, { providerNodeId: provider.node_id, resolve });
      cancel = () => this.#pending.delete(taskId);
    });
    try {
      let reply: Message | null;
      try {
        reply = await this.#d.send(to, "TASK_REQUEST", {
          task_id: taskId,
          requester_node_id: self.nodeId,
          requester_host: self.host,
          requester_port: self.port,
          skill_name: skill,
          input_data: input,
          timeout_ms: timeoutMs,
        }, { timeoutMs, ...(signal ? { signal } : {}) });
      } catch (error) {
        const message = (error as Error).message;
        const code = /no answer within/.test(message)
          ? "TIMEOUT"
          : "UNREACHABLE";
        return {
          ...fail(
            taskId,
            code,
            code === "TIMEOUT" ? "Task timed out" : message,
          ),
          provider: where,
        };
      }
      if (!reply) {
        return {
          ...fail(
            taskId,
            "UNREACHABLE",
            "Provider closed the connection without a reply",
          ),
          provider: where,
        };
      }
      if ((await this.#d.nodeIdOf(reply.public_key)) !== provider.node_id) {
        return {
          ...fail(
            taskId,
            "BAD_PROVIDER",
            "Reply was not signed by the chosen provider",
          ),
          provider: where,
        };
      }
      let result: TaskResult;
      if (reply.type === "TASK_RESULT" && reply.task_id === taskId) {
        result = reply;
      } else if (reply.type === "TASK_STATUS" && reply.task_id === taskId) {
        const status = reply as TaskStatus;
        if (status.status === "rejected") {
          return {
            ...fail(
              taskId,
              "REJECTED",
              status.reason || "Task rejected by provider",
            ),
            provider: where,
          };
        }
        const left = timeoutMs - (this.#d.clock.now() - started) * 1000;
        const pushed = await raceTimeout(waiter, left, signal);
        if (!pushed) {
          return {
            ...fail(taskId, "TIMEOUT", "Task timed out"),
            provider: where,
          };
        }
        result = pushed;
      } else {
        return {
          ...fail(taskId, "BAD_REPLY", `Provider answered ${reply.type}`),
          provider: where,
        };
      }
      return await this.#finish(
        result,
        skill,
        provider,
        reply.public_key,
        started,
      );
    } finally {
      cancel();
    }
  }

  /**
   * Records a result (the ledger entry of a completed task and the history row, in one
   * commit) and makes the outcome. A storage fault loses the record, not the result: the
   * provider has charged for it, so the output is returned all the same.
   */
  async #finish(
    result: TaskResult,
    skill: string,
    provider: QueryResult,
    publicKey: string,
    started: number,
  ): Promise<TaskOutcome> {
    const now = this.#d.clock.now();
    const completed = result.status === "completed";
    const price = completed ? sheetPrice(provider.skill_sheet) : 0;
    const error = isJsonObject(result.error) ? result.error : {};
    const write = consumerWrite({
      taskId: result.task_id,
      skill,
      providerNodeId: provider.node_id,
      publicKey,
      completed,
      price,
      error,
      started,
      now,
    }, {
      ledger: this.#d.ledger,
      tasks: this.#d.tasks,
      initialCredit: this.#policy.initialCredit,
      log: this.#log,
    });
    try {
      if (this.#d.commit) await this.#d.commit(write);
      else write();
    } catch (e) {
      if (!(e instanceof StorageUnavailableError)) throw e;
      this.#log.warn(`Cannot record task ${result.task_id}: ${e.message}`);
    }
    return {
      task_id: result.task_id,
      status: completed ? "completed" : "failed",
      output_data: isJsonObject(result.output_data) ? result.output_data : {},
      error,
      provider: whereOf(provider),
    };
  }

  /** Tasks whose result we wait to be pushed (or to come back on the request's connection). */
  get awaiting(): number {
    return this.#pending.size;
  }

  /** Accepts a pushed TASK_RESULT from the provider we are waiting on; answers an ACK. */
  onPushedResult(message: TaskResult, senderNodeId: string): Reply {
    const pending = this.#pending.get(message.task_id);
    const ok = pending !== undefined && pending.providerNodeId === senderNodeId;
    if (ok) {
      this.#pending.delete(message.task_id);
      pending.resolve(message);
    } else {
      this.#log.warn(
        `Ignoring pushed result for unknown task ${message.task_id} from ${
          senderNodeId.slice(0, 16)
        }`,
      );
    }
    return {
      type: "ACK",
      fields: {
        status: ok ? "ok" : "error",
        error_detail: ok ? null : "Unknown task",
      },
      msgId: message.msg_id,
    };
  }
}
