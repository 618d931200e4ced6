/** What a provider knows of task ids: running now, or completed recently with a stored result. */
import type { Reply } from "../discovery/mod.ts";
import type { TaskResultRepo } from "../store/mod.ts";
import { canonicalJson, isJsonObject, parseJson } from "../wire/mod.ts";
import type { JsonObject, TaskRequest } from "../wire/mod.ts";
import { failed } from "./_request_checks.ts";

/** Completed tasks whose result a retry gets again (in memory and in `task_results`). */
export const RESULT_MEMORY = 100_000;
/** Results stored between two prunes of the table's oldest rows. */
const PRUNE_EVERY = 1_000;

/**
 * A task id is charged at most once. A retry of a task id that is still running is told
 * to ask again (RETRY_AFTER); a retry of one completed and charged (even before a restart:
 * the newest results are loaded from the store) gets the stored result again, neither run
 * nor charged a second time; the same task id from another requester is a
 * DUPLICATE_REQUEST. Past the newest {@linkcode RESULT_MEMORY} results a task id is new.
 */
export class TaskMemory {
  #results: TaskResultRepo | undefined;
  #limit: number;
  /** Task id → requester public key, from admission until its ending is committed. */
  #running = new Map<string, string>();
  /** Task id → row id in `task_results`, oldest first. */
  #done = new Map<string, number>();
  #stored = 0;

  /** Loads the newest `limit` stored results' task ids (none without a repo). */
  constructor(results?: TaskResultRepo, limit = RESULT_MEMORY) {
    this.#results = results;
    this.#limit = limit;
    results?.recent(limit, (taskId, id) => this.#done.set(taskId, id));
  }

  /** The answer to a task id seen before, or null when the task is new. */
  recall(request: TaskRequest): Reply<"TASK_RESULT"> | null {
    const taskId = request.task_id;
    const owner = this.#running.get(taskId);
    if (owner !== undefined) {
      if (owner !== request.public_key) return inUse(taskId);
      return failed(taskId, {
        code: "RETRY_AFTER",
        message: "Task is still running, try again in 1 seconds",
        retry_after_seconds: 1,
      });
    }
    const id = this.#done.get(taskId);
    if (id === undefined) return null;
    const row = this.#results?.get(id);
    if (!row) return null;
    if (row.requesterPublicKey !== request.public_key) return inUse(taskId);
    const output = parseJson(row.output);
    return {
      type: "TASK_RESULT",
      fields: {
        task_id: taskId,
        status: "completed",
        output_data: isJsonObject(output) ? output : {},
        error: {},
      },
    };
  }

  /** Marks a task id as running (admitted). */
  begin(request: TaskRequest): void {
    this.#running.set(request.task_id, request.public_key);
  }

  /** The task left: its ending is committed (or it never will be). */
  end(taskId: string): void {
    this.#running.delete(taskId);
  }

  /**
   * Stores a completed task's output; runs inside the commit that charges it. Returns the
   * row id for {@linkcode remember}, or null without a repo.
   */
  store(
    request: TaskRequest,
    output: JsonObject,
    now: number,
  ): number | null {
    if (!this.#results) return null;
    const id = this.#results.put(
      request.task_id,
      request.public_key,
      canonicalJson(output),
      now,
    );
    if (++this.#stored % PRUNE_EVERY === 0) {
      this.#results.pruneBelow(id - this.#limit);
    }
    return id;
  }

  /** Remembers a committed result for retries. */
  remember(taskId: string, id: number): void {
    this.#done.delete(taskId);
    this.#done.set(taskId, id);
    if (this.#done.size > this.#limit) {
      this.#done.delete(this.#done.keys().next().value!);
    }
  }
}

function inUse(taskId: string): Reply<"TASK_RESULT"> {
  return failed(taskId, {
    code: "DUPLICATE_REQUEST",
    message: "Task id is in use by another requester",
  });
}

/** The error of a paid task while the store refuses writes (its charge could not be kept). */
export const STORAGE_UNAVAILABLE = {
  code: "STORAGE_UNAVAILABLE",
  message:
    "Provider cannot record payments now (its storage is unavailable); try another provider",
} as const;
