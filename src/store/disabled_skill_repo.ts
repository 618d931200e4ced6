/** The `disabled_skills` table: own skills the operator switched off (kept across restarts). */
import type { Database } from "./database.ts";

/** Records which own skills are disabled. */
export class DisabledSkillRepo {
  #db: Database;
  /** Takes the open database that holds the disabled_skills table. */
  constructor(db: Database) {
    this.#db = db;
  }

  /** Names of the disabled skills, alphabetically. */
  list(): string[] {
    return this.#db.all(
      "SELECT skill_name FROM disabled_skills ORDER BY skill_name",
    ).map((r) => r.skill_name as string);
  }

  /** Marks a skill disabled (at `now`, unix seconds) or enabled again. */
  set(name: string, disabled: boolean, now: number = Date.now() / 1000): void {
    if (disabled) {
      this.#db.run(
        "INSERT OR IGNORE INTO disabled_skills (skill_name, disabled_at) VALUES (?, ?)",
        name,
        now,
      );
    } else {
      this.#db.run("DELETE FROM disabled_skills WHERE skill_name = ?", name);
    }
  }
}
