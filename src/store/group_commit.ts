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
  /** Longest a batch waits for more writes when a writer said more are coming. Default 1 ms. */
  lingerMs?: number;
}

/** Options for {@linkcode GroupCommit.write}. */
export interface WriteOptions {
  /**
   * More writes are on their way (other tasks are still running): the batch may wait up
   * to `lingerMs` for them instead of committing in this turn of the event loop.
   */
  expectMore?: boolean;
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
  #lingerMs: number;
  #pending: Pending[] = [];
  #timer: ReturnType<typeof setImmediate> | undefined;
  /** When the first write of the pending batch was queued, if one may linger. */
  #lingerSince: number | null = null;
  /** Pending writes at the last lingering turn. */
  #seen = 0;

  /** Takes the open database. */
  constructor(db: Database, options: GroupCommitOptions = {}) {
    this.#db = db;
    this.#maxBatch = options.maxBatch ?? 512;
    this.#lingerMs = options.lingerMs ?? 1;
  }

  /**
   * Queues `write` for the next commit; resolves with its result once committed. It
   * should only run SQL: when its batch fails it runs a second time, on its own.
   */
  write<T>(write: () => T, options: WriteOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({
        write,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      if (options.expectMore && this.#lingerSince === null) {
        this.#lingerSince = performance.now();
      }
      if (this.#pending.length >= this.#maxBatch) this.flush();
      else if (this.#timer === undefined) {
        // After the I/O callbacks of this turn, so writes of tasks ending together share
        // it (setImmediate: a few µs; setTimeout(0) waits a millisecond or more).
        this.#timer = setImmediate(() => this.#due());
      }
    });
  }

  /**
   * Commits, unless the batch may linger: a writer said more are coming, writes are still
   * arriving turn after turn, and the batch is younger than `lingerMs`. A turn that
   * brings no new write ends the wait, so a lone task is not delayed.
   */
  #due(): void {
    this.#timer = undefined;
    if (
      this.#lingerSince !== null &&
      this.#pending.length > this.#seen &&
      performance.now() - this.#lingerSince < this.#lingerMs
    ) {
      this.#seen = this.#pending.length;
      this.#timer = setImmediate(() => this.#due());
      return;
    }
    this.flush();
  }

  /** Writes waiting for the next commit. */
  get pending(): number {
    return this.#pending.length;
  }

  /** Commits every queued write now (also called on close); never throws. */
  flush(): void {
    if (this.#timer !== undefined) clearImmediate(this.#timer);
    this.#timer = undefined;
    this.#lingerSince = null;
    this.#seen = 0;
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
