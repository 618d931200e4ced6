/** Own skills the operator switched off: refused with `SKILL_DISABLED`, kept across restarts. */
import type { DisabledSkillRepo } from "../store/mod.ts";

/** Which own skills are disabled; written through to the store. */
export class SkillSwitches {
  #disabled: Set<string>;
  #repo: DisabledSkillRepo | null;

  /** Loads the disabled skills from `repo` (null: memory only). */
  constructor(repo: DisabledSkillRepo | null) {
    this.#repo = repo;
    this.#disabled = new Set(repo?.list() ?? []);
  }

  /** True when requests for `name` are refused. */
  isDisabled(name: string): boolean {
    return this.#disabled.size > 0 && this.#disabled.has(name);
  }

  /** Enables or disables a skill (name trimmed and lower-cased); true when that changed it. */
  set(name: string, enabled: boolean): boolean {
    const key = name.trim().toLowerCase();
    if (enabled !== this.#disabled.has(key)) return false;
    this.#repo?.set(key, !enabled);
    if (enabled) this.#disabled.delete(key);
    else this.#disabled.add(key);
    return true;
  }

  /** The disabled skills, alphabetically. */
  list(): string[] {
    return [...this.#disabled].sort();
  }
}
