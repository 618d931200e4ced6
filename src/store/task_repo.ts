/** The `tasks` table: tasks we ran for others (provider) and asked of others (consumer). */
import type { Database } from "./database.ts";

/** One task as one side recorded it. */
export interface TaskRow {
  /** Task id, shared by both sides. */
  taskId: string;
  /** "provider" when we ran it, "consumer" when we asked for it. */
  role: "provider" | "consumer";
  /** Skill name. */
  skillName: string;
  /** The other side. */
  peerNodeId: string;
  /** The other side's public key (64 lowercase hex). */
  peerPublicKey: string;
  /** Final status: "completed" or "failed". */
  status: string;
  /** Error code of a failed task (`TIMEOUT`, …), or null. */
  errorCode: string | null;
  /** Credits that changed hands; 0 when the task failed. */
  price: number;
  /** Unix seconds. */
  createdAt: number;
  /** Unix seconds when it ended, or null when not recorded. */
  finishedAt: number | null;
  /** Run time in milliseconds, or null when unknown. */
  wallMs: number | null;
}

/** Per-provider history computed from consumer-side rows. */
export interface ProviderHistory {
  /** Provider's node id. */
  providerNodeId: string;
  /** Tasks we asked of it since the cutoff. */
  total: number;
  /** Tasks it completed. */
  completed: number;
  /** Tasks that failed. */
  failed: number;
  /** `completed / total`, from 0 to 1. */
  successRate: number;
  /** Average run time in milliseconds, or null when none was recorded. */
  avgWallMs: number | null;
  /** Unix seconds. */
  lastInteraction: number;
}

/** Durable task history. */
export class TaskRepo {
  #db: Database;
  /** Takes the open database. */
  constructor(db: Database) {
    this.#db = db;
  }

  /** Records (or replaces) a task row. */
  put(row: TaskRow): void {
    this.#db.run(
      `INSERT OR REPLACE INTO tasks (task_id, role, skill_name, peer_node_id, peer_public_key, status, error_code,
         price, created_at, finished_at, wall_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      row.taskId,
      row.role,
      row.skillName,
      row.peerNodeId,
      row.peerPublicKey,
      row.status,
      row.errorCode,
      row.price,
      row.createdAt,
      row.finishedAt,
      row.wallMs,
    );
  }

  /** How a task we asked for ended ("completed", "failed"), or undefined when not recorded. */
  consumerStatus(taskId: string): string | undefined {
    return this.#db.get(
      "SELECT status FROM tasks WHERE task_id = ? AND role = 'consumer'",
      taskId,
    )?.status as string | undefined;
  }

  /** Provider history since `since` (unix seconds), busiest first. */
  history(since: number): ProviderHistory[] {
    return this.#db.all(
      `SELECT peer_node_id, COUNT(*) AS total,
         SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END) AS completed,
         SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed,
         AVG(wall_ms) AS avg_wall_ms, MAX(COALESCE(finished_at, created_at)) AS last_interaction
       FROM tasks WHERE role = 'consumer' AND created_at >= ?
       GROUP BY peer_node_id ORDER BY total DESC, peer_node_id`,
      since,
    ).map((r) => ({
      providerNodeId: r.peer_node_id as string,
      total: Number(r.total),
      completed: Number(r.completed),
      failed: Number(r.failed),
      successRate: Number(r.total) === 0
        ? 0
        : Number(r.completed) / Number(r.total),
      avgWallMs: r.avg_wall_ms === null ? null : Number(r.avg_wall_ms),
      lastInteraction: Number(r.last_interaction),
    }));
  }

  /** Deletes finished tasks older than `before` (unix seconds); returns how many. */
  prune(before: number): number {
    return this.#db.run(
      "DELETE FROM tasks WHERE finished_at IS NOT NULL AND finished_at < ?",
      before,
    );
  }

  /** Number of rows of a role. */
  count(role: "provider" | "consumer"): number {
    return Number(
      this.#db.get("SELECT COUNT(*) AS n FROM tasks WHERE role = ?", role)?.n ??
        0,
    );
  }
}
