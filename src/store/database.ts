/** The node's SQLite database (node:sqlite): WAL, busy timeout, migrations at open. */
import { DatabaseSync } from "node:sqlite";
import type { SQLInputValue, StatementSync } from "node:sqlite";
import { StoreOpenError } from "./errors.ts";
import { isStorageFault, storageFault } from "./storage_fault.ts";
import { MIGRATIONS, SCHEMA_VERSION } from "./migrations.ts";
import type { Migration } from "./migrations.ts";

/** Options for {@linkcode Database.open}. */
export interface DatabaseOptions {
  /** Milliseconds to wait on a locked database. Default 5000. */
  busyTimeoutMs?: number;
  /** Migrations to apply (tests inject their own). Default: MIGRATIONS. */
  migrations?: readonly Migration[];
}

/** A row as node:sqlite returns it. */
export type Row = Record<string, SQLInputValue>;

/**
 * An open store. Repositories take it and run their own SQL.
 *
 * @example
 * ```ts
 * await using db = Database.open("node.db");
 * ```
 */
export class Database {
  /** The path it was opened with, or ":memory:". */
  readonly path: string;
  #db: DatabaseSync;
  #statements = new Map<string, StatementSync>();
  #depth = 0;
  #batch = false;
  #closed = false;

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.#db = db;
  }

  /** Opens (creating if needed) and migrates the database at `path` (":memory:" allowed). */
  static open(path: string, options: DatabaseOptions = {}): Database {
    const migrations = options.migrations ?? MIGRATIONS;
    const latest = migrations[migrations.length - 1]?.version ?? 0;
    let raw: DatabaseSync;
    try {
      raw = new DatabaseSync(path);
    } catch (error) {
      throw new StoreOpenError(
        storageFault(error, path, "open") ??
          `Cannot open database "${path}": ${message(error)}`,
        { cause: error },
      );
    }
    const db = new Database(path, raw);
    try {
      raw.exec(`PRAGMA busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
      if (path !== ":memory:") {
        const mode = raw.prepare("PRAGMA journal_mode = WAL").get() as {
          journal_mode?: string;
        } | undefined;
        if (mode?.journal_mode !== "wal") {
          throw new Error(`journal mode is "${mode?.journal_mode}"`);
        }
      }
      raw.exec("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON");
      db.#migrate(migrations, latest);
    } catch (error) {
      raw.close();
      if (error instanceof StoreOpenError) throw error;
      const text = message(error);
      const corrupt = /not a database|malformed|corrupt/i.test(text);
      throw new StoreOpenError(
        corrupt
          ? `Cannot open database "${path}": the file is corrupt or not a knarr database (${text}); ` +
            "move it aside to start with a new identity"
          : storageFault(error, path, "open") ??
            `Cannot open database "${path}": ${text}`,
        { cause: error },
      );
    }
    return db;
  }

  /** Schema version recorded in the file. */
  get schemaVersion(): number {
    return (this.get("PRAGMA user_version")?.user_version as
      | number
      | undefined) ?? 0;
  }

  /** Runs a statement; returns the number of changed rows. */
  run(sql: string, ...params: SQLInputValue[]): number {
    return Number(this.#prepare(sql).run(...params).changes);
  }

  /** First row or undefined. */
  get(sql: string, ...params: SQLInputValue[]): Row | undefined {
    return this.#prepare(sql).get(...params) as Row | undefined;
  }

  /** All rows. */
  all(sql: string, ...params: SQLInputValue[]): Row[] {
    return this.#prepare(sql).all(...params) as Row[];
  }

  /**
   * Runs `fn` in a transaction (IMMEDIATE), committing on return and rolling back on
   * throw. Inside another transaction it is a savepoint of that one: its changes are
   * undone alone on throw, and reach the disk when the outer transaction commits.
   */
  transaction<T>(fn: () => T): T {
    if (this.#batch) return fn();
    if (this.#depth > 0) return this.#savepoint(fn);
    this.#prepare("BEGIN IMMEDIATE").run();
    this.#depth++;
    try {
      const result = fn();
      this.#prepare("COMMIT").run();
      return result;
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw error;
    } finally {
      this.#depth--;
    }
  }

  /**
   * Runs `writes` in one transaction where nested `transaction()` calls run inline (no
   * savepoint each): all of them commit together or none does. For group commit, which
   * retries each write alone when the batch fails.
   */
  batch<T>(writes: () => T): T {
    return this.transaction(() => {
      this.#batch = true;
      try {
        return writes();
      } finally {
        this.#batch = false;
      }
    });
  }

  /** True while a transaction is open. */
  get inTransaction(): boolean {
    return this.#depth > 0;
  }

  #savepoint<T>(fn: () => T): T {
    const name = `sp${this.#depth}`;
    this.#db.exec(`SAVEPOINT ${name}`);
    this.#depth++;
    try {
      const result = fn();
      this.#db.exec(`RELEASE ${name}`);
      return result;
    } catch (error) {
      this.#db.exec(`ROLLBACK TO ${name}; RELEASE ${name}`);
      throw error;
    } finally {
      this.#depth--;
    }
  }

  /** Checkpoints the WAL and closes; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#statements.clear();
    try {
      if (this.path !== ":memory:") {
        this.#db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      }
    } catch (error) {
      // A full or failing disk: the WAL keeps every commit and the next open replays it.
      if (!isStorageFault(error)) throw error;
    } finally {
      this.#db.close();
    }
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  #prepare(sql: string): StatementSync {
    let stmt = this.#statements.get(sql);
    if (!stmt) {
      stmt = this.#db.prepare(sql);
      this.#statements.set(sql, stmt);
    }
    return stmt;
  }

  #migrate(migrations: readonly Migration[], latest: number): void {
    const current = this.schemaVersion;
    if (current > latest) {
      throw new StoreOpenError(
        `Cannot open database "${this.path}": it was written by a newer knarr (schema ${current}, ` +
          `this knarr knows up to ${latest}); upgrade knarr or use another --storage`,
      );
    }
    this.#db.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)",
    );
    for (const m of migrations) {
      if (m.version <= current) continue;
      this.transaction(() => {
        this.#db.exec(m.sql);
        this.run(
          "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
          m.version,
          m.name,
          Date.now() / 1000,
        );
        this.#db.exec(`PRAGMA user_version = ${m.version}`);
      });
    }
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export { SCHEMA_VERSION };
