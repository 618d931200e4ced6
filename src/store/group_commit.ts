/** Group commit: the writes queued during one turn of the event loop share one transaction. */
import { clearImmediate, setImmediate } from "node:timers";
import type { Database } from "./database.ts";

interface Pending {
  write: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Options for {@linkcode GroupCommit}. */
export interface GroupCommitOptions {
  /** Largest number of writes in one transaction. Default 512. */
  maxBatch?: number;
}

/**
 * Batches small writes into one SQLite transaction. `write()` resolves only once the
 * transaction holding the write has committed, so a caller that waits for it knows its
 * change is in the database file (in the WAL) before it answers anyone; a kill -9 after
 * that loses nothing. The writes of a batch commit together; when one throws, the
 * batch is rolled back and each write runs again in its own transaction, so only the
 * failing one rejects.
 *
 * @example
 * ```ts
 * import { Database, GroupCommit, LedgerRepo } from "./mod.ts";
 * const db = Database.open(":memory:");
 * const commits = new GroupCommit(db);
 * const ledger = new LedgerRepo(db);
 * await commits.write(() => ledger.apply("ab".repeat(32), -1, "provided", 100, 0));
 * ```
 */
export class GroupCommit {
  /** Transactions committed so far. */
  commits = 0;
  /** Writes committed so far. */
  writes = 0;
  #db: Database;
  #maxBatch: number;
  #pending: Pending[] = [];
  #timer: ReturnType<typeof setImmediate> | undefined;

  /** Takes the open database. */
  constructor(db: Database, options: GroupCommitOptions = {}) {
    this.#db = db;
    this.#maxBatch = options.maxBatch ?? 512;
  }

  /**
   * Queues `write` for the next commit; resolves with its result once committed. It
   * should only run SQL: when its batch fails it runs a second time, on its own.
   */
  write<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({
        write,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      if (this.#pending.length >= this.#maxBatch) this.flush();
      else if (this.#timer === undefined) {
        // After the I/O callbacks of this turn, so writes of tasks ending together share
        // it (setImmediate: a few µs; setTimeout(0) waits a millisecond or more).
        this.#timer = setImmediate(() => this.flush());
      }
    });
  }

  /** Writes waiting for the next commit. */
  get pending(): number {
    return this.#pending.length;
  }

  /** Commits every queued write now (also called on close); never throws. */
  flush(): void {
    if (this.#timer !== undefined) clearImmediate(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    let results: unknown[];
    try {
      results = this.#db.batch(() => batch.map((p) => p.write()));
    } catch {
      // One write failed and the batch was rolled back: each goes again on its own, so
      // only the failing one rejects.
      for (const p of batch) {
        try {
          p.resolve(this.#db.transaction(p.write));
          this.commits++;
          this.writes++;
        } catch (error) {
          p.reject(error);
        }
      }
      return;
    }
    this.commits++;
    this.writes += batch.length;
    batch.forEach((p, i) => p.resolve(results[i]));
  }
}
