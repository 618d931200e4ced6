/** The `ledger` table: our bilateral balance with each peer, keyed by its public key. */
import type { Database } from "./database.ts";

/** One peer's account as this node sees it. */
export interface LedgerRow {
  /** The peer's public key (64 lowercase hex). */
  peerPublicKey: string;
  /** The peer's credit with us: up when it runs a task for us, down when we run one for it. */
  balance: number;
  /** Tasks we ran for this peer. */
  tasksProvided: number;
  /** Tasks this peer ran for us. */
  tasksConsumed: number;
  /** Unix seconds. */
  updatedAt: number;
}

/** Durable ledger; every change is one SQLite transaction, on disk when the call returns. */
export class LedgerRepo {
  #db: Database;
  /** Takes the open database. */
  constructor(db: Database) {
    this.#db = db;
  }

  /** The row of a peer, or undefined when it never traded with us. */
  get(peerPublicKey: string): LedgerRow | undefined {
    const r = this.#db.get(
      "SELECT * FROM ledger WHERE peer_public_key = ?",
      peerPublicKey,
    );
    return r ? toRow(r) : undefined;
  }

  /**
   * Applies a completed task: `delta` added to the balance (negative when we charge the
   * peer) and one of the counters incremented. New peers start at `initialBalance`.
   */
  apply(
    peerPublicKey: string,
    delta: number,
    counter: "provided" | "consumed",
    initialBalance: number,
    now: number,
  ): LedgerRow {
    // One statement: a new peer starts at `initialBalance`, then the task applies.
    const column = counter === "provided" ? "tasks_provided" : "tasks_consumed";
    const row = this.#db.get(
      `INSERT INTO ledger (peer_public_key, balance, tasks_provided, tasks_consumed, updated_at)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (peer_public_key) DO UPDATE SET balance = balance + ?,
         ${column} = ${column} + 1, updated_at = excluded.updated_at
       RETURNING *`,
      peerPublicKey,
      initialBalance + delta,
      counter === "provided" ? 1 : 0,
      counter === "consumed" ? 1 : 0,
      now,
      delta,
    );
    return toRow(row!);
  }

  /** Every account, largest balance first. */
  list(): LedgerRow[] {
    return this.#db.all(
      "SELECT * FROM ledger ORDER BY balance DESC, peer_public_key",
    ).map(toRow);
  }
}

function toRow(r: Record<string, unknown>): LedgerRow {
  return {
    peerPublicKey: r.peer_public_key as string,
    balance: Number(r.balance),
    tasksProvided: Number(r.tasks_provided),
    tasksConsumed: Number(r.tasks_consumed),
    updatedAt: Number(r.updated_at),
  };
}
