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

  /**
   * Calls `each` with the task id and row id of the newest `limit` results, oldest first.
   * The fast path reads them as one row of SQL, not one object per result: a node
   * restarting with a full table reads it in tens of milliseconds.
   */
  recent(limit: number, each: (taskId: string, id: number) => void): void {
    const r = this.#db.get(
      `SELECT MIN(id) AS lo, MAX(id) AS hi, COUNT(*) AS n,
         group_concat(task_id, char(10) ORDER BY id) AS ids
       FROM (SELECT id, task_id FROM task_results ORDER BY id DESC LIMIT ?)`,
      limit,
    )!;
    const n = Number(r.n);
    if (n === 0) return;
    const taskIds = String(r.ids).split("\n");
    const lo = Number(r.lo);
    // Rows are appended and pruned from the oldest end, so their ids are consecutive.
    if (taskIds.length === n && Number(r.hi) - lo + 1 === n) {
      taskIds.forEach((taskId, i) => each(taskId, lo + i));
      return;
    }
    // A task id with a newline in it, or a gap: one row at a time.
    for (
      const row of this.#db.all(
        "SELECT id, task_id FROM task_results WHERE id >= ? ORDER BY id",
        lo,
      )
    ) each(row.task_id as string, Number(row.id));
  }

  /** Deletes the results with a row id below `id`; returns how many. */
  pruneBelow(id: number): number {
    return this.#db.run("DELETE FROM task_results WHERE id < ?", id);
  }
}
