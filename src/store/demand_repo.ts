/** The `demand` table: queries that found nothing. */
import type { Database } from "./database.ts";

/** Most rows kept; the least recently queried are evicted. */
export const DEMAND_MAX_ROWS = 1000;

/** One unmet query. */
export interface DemandRow {
  queryValue: string;
  queryType: string;
  count: number;
  /** Unix seconds. */
  firstSeen: number;
  lastSeen: number;
}

/** Records and lists unmet demand. */
export class DemandRepo {
  #db: Database;
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
