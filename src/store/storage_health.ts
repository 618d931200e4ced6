/** Whether the database takes writes: set by failed commits, cleared by the next good one. */
import { type Logger, SILENT_LOGGER } from "../util/mod.ts";
import type { Database } from "./database.ts";
import { StorageUnavailableError } from "./errors.ts";
import { storageFault } from "./storage_fault.ts";

/** Milliseconds between write probes while the store is unavailable. */
export const STORAGE_PROBE_INTERVAL_MS = 2_000;

/** Options for {@linkcode StorageHealth}. */
export interface StorageHealthOptions {
  /** Where the one-line error and the recovery are logged. Default: silent. */
  logger?: Logger;
  /** Milliseconds between write probes while unavailable. Default 2000. */
  probeIntervalMs?: number;
}

/**
 * Tracks whether the node's database takes writes. A commit that fails for a storage
 * reason (disk full, read-only, I/O error) makes it unavailable: one error line is
 * logged, naming the problem and the fix, and the caller gets a
 * {@linkcode StorageUnavailableError}. The next commit that succeeds, or a small probe
 * write every `probeIntervalMs`, makes it available again.
 *
 * @example
 * ```ts
 * import { Database, GroupCommit, StorageHealth } from "./mod.ts";
 * const db = Database.open(":memory:");
 * const health = new StorageHealth(db);
 * const commits = new GroupCommit(db);
 * await health.track(commits.write(() => db.run("PRAGMA user_version = 0")));
 * health.available; // true
 * health.close();
 * ```
 */
export class StorageHealth {
  #db: Database;
  #log: Logger;
  #intervalMs: number;
  #fault: string | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  /** Takes the open database. */
  constructor(db: Database, options: StorageHealthOptions = {}) {
    this.#db = db;
    this.#log = options.logger ?? SILENT_LOGGER;
    this.#intervalMs = options.probeIntervalMs ?? STORAGE_PROBE_INTERVAL_MS;
  }

  /** True while writes succeed (or none has failed yet). */
  get available(): boolean {
    return this.#fault === null;
  }

  /** The one-line description of the last storage fault while unavailable, else null. */
  get fault(): string | null {
    return this.#fault;
  }

  /**
   * Awaits a commit and notes how it went: success makes the store available; a storage
   * fault makes it unavailable and rejects with a {@linkcode StorageUnavailableError}
   * (the original error as its cause); any other error rejects unchanged.
   */
  async track<T>(commit: Promise<T>): Promise<T> {
    let value: T;
    try {
      value = await commit;
    } catch (error) {
      throw this.noteFailure(error) ?? error;
    }
    this.#recovered();
    return value;
  }

  /**
   * Notes a failed write. A storage fault makes the store unavailable (logged once) and
   * comes back as a {@linkcode StorageUnavailableError}; anything else gives null.
   */
  noteFailure(error: unknown): StorageUnavailableError | null {
    if (error instanceof StorageUnavailableError) return error;
    const fault = storageFault(error, this.#db.path);
    if (fault === null) return null;
    if (this.#fault === null && !this.#closed) {
      this.#log.error(
        `${fault} (paid tasks are refused until a write succeeds again)`,
      );
      this.#timer = setInterval(() => this.probe(), this.#intervalMs);
      Deno.unrefTimer(this.#timer);
    }
    this.#fault = fault;
    return new StorageUnavailableError(fault, { cause: error });
  }

  /**
   * Tries a one-page write now (the schema version written again); true when it
   * committed, which makes the store available again.
   */
  probe(): boolean {
    if (this.#closed || this.#db.inTransaction) return this.available;
    const fault = probeWrite(this.#db);
    if (fault === null) {
      this.#recovered();
      return true;
    }
    this.noteFailure(fault.cause);
    return false;
  }

  #recovered(): void {
    if (this.#fault === null) return;
    this.#fault = null;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#log.info(
      `Database "${this.#db.path}" takes writes again: paid tasks are accepted`,
    );
  }

  /** Stops probing; idempotent. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

/**
 * Writes one page (the schema version, unchanged) in a transaction of its own; null when
 * it committed, else a {@linkcode StorageUnavailableError} (or the plain error when the
 * failure says nothing about the storage). For a node's start: a database it cannot
 * write is reported before it takes any work.
 */
export function probeWrite(db: Database): Error | null {
  try {
    db.transaction(() => db.run(`PRAGMA user_version = ${db.schemaVersion}`));
    return null;
  } catch (error) {
    const fault = storageFault(error, db.path);
    return fault === null
      ? error as Error
      : new StorageUnavailableError(fault, { cause: error });
  }
}
