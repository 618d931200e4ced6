/** The `demand` table: queries that found nothing. */
import type { Database } from "./database.ts";

/** Most rows kept; the least recently queried are evicted. */
export const DEMAND_MAX_ROWS = 1000;

/** One unmet query. */
export interface DemandRow {
  /** The skill name or tag that was asked for. */
  queryValue: string;
  /** What `queryValue` is: `name` or `tag`. */
  queryType: string;
  /** How many zero-result queries asked for it. */
  count: number;
  /** When it was first asked for, in unix seconds. */
  firstSeen: number;
  /** When it was last asked for, in unix seconds. */
  lastSeen: number;
}

/** Records and lists unmet demand. */
export class DemandRepo {
  #db: Database;
  /** Takes the open database that holds the demand table. */
  constructor(db: Database) {
    this.#db = db;
  }

  /** Counts one zero-result query at `now` (unix seconds). */
  record(
    queryType: string,
    queryValue: string,
    now: number = Date.now() / 1000,
  ): void {
    this.#db.transaction(() => {
      this.#db.run(
        `INSERT INTO demand (query_value, query_type, count, first_seen, last_seen) VALUES (?, ?, 1, ?, ?)
         ON CONFLICT (query_value, query_type) DO UPDATE SET count = count + 1, last_seen = excluded.last_seen`,
        queryValue,
        queryType,
        now,
        now,
      );
      this.#db.run(
        `DELETE FROM demand WHERE rowid IN (
           SELECT rowid FROM demand ORDER BY last_seen DESC, rowid DESC LIMIT -1 OFFSET ?)`,
        DEMAND_MAX_ROWS,
      );
    });
  }

  /** All rows, most frequent first. */
  list(): DemandRow[] {
    return this.#db.all(
      "SELECT query_value, query_type, count, first_seen, last_seen FROM demand ORDER BY count DESC, last_seen DESC",
    ).map((r) => ({
      queryValue: r.query_value as string,
      queryType: r.query_type as string,
      count: Number(r.count),
      firstSeen: r.first_seen as number,
      lastSeen: r.last_seen as number,
    }));
  }
}
