/** The `task_results` table: outputs of recently completed tasks, for answering retries. */
import type { Database } from "./database.ts";

/** One stored result. */
export interface TaskResultRow {
  /** Row id (grows with time). */
  id: number;
  /** Task id the requester chose. */
  taskId: string;
  /** The requester's public key (64 lowercase hex): only it gets the result again. */
  requesterPublicKey: string;
  /** The output object as canonical JSON. */
  output: string;
  /** Unix seconds. */
  finishedAt: number;
}

/**
 * Results of tasks this node ran for others, appended by rowid in the commit that
 * charges the task (no index: a retry finds its row through the provider's in-memory
 * map of recent task ids) and pruned from the oldest end.
 */
export class TaskResultRepo {
  #db: Database;
  /** Takes the open database. */
  constructor(db: Database) {
    this.#db = db;
  }

  /** Appends a result; returns its row id. */
  put(
    taskId: string,
    requesterPublicKey: string,
    output: string,
    now: number,
  ): number {
    const row = this.#db.get(
      `INSERT INTO task_results (task_id, requester_public_key, output, finished_at)
       VALUES (?, ?, ?, ?) RETURNING id`,
      taskId,
      requesterPublicKey,
      output,
      now,
    );
    return Number(row!.id);
  }

  /** The result at a row id, or undefined when it was pruned. */
  get(id: number): TaskResultRow | undefined {
    const r = this.#db.get("SELECT * FROM task_results WHERE id = ?", id);
    return r
      ? {
        id: Number(r.id),
        taskId: r.task_id as string,
        requesterPublicKey: r.requester_public_key as string,
        output: r.output as string,
        finishedAt: Number(r.finished_at),
      }
      : undefined;
  }

  /** The task ids of the newest `limit` results, oldest first. */
  recent(limit: number): { id: number; taskId: string }[] {
    return this.#db.all(
      "SELECT id, task_id FROM task_results ORDER BY id DESC LIMIT ?",
      limit,
    ).reverse().map((r) => ({ id: Number(r.id), taskId: r.task_id as string }));
  }

  /** Deletes the results with a row id below `id`; returns how many. */
  pruneBelow(id: number): number {
    return this.#db.run("DELETE FROM task_results WHERE id < ?", id);
  }
}
