/** The in-memory skill table (own and remote skills) with a durable copy in the store. */
import type { SkillRepo, SkillRow } from "../store/mod.ts";
import { parseJson, pythonWireJson } from "../wire/mod.ts";
import type { JsonObject } from "../wire/mod.ts";
import { sheetName, sheetTags } from "./skill_sheet.ts";

/** A stored skill with its parsed sheet. */
export interface SkillEntry extends Omit<SkillRow, "sheetJson"> {
  /** The sheet parsed from `sheetJson`, numbers kept lossless. */
  sheet: JsonObject;
  /** Lowercased tags, for tag queries. */
  tags: string[];
}

function key(skillKey: string, providerNodeId: string): string {
  return `${providerNodeId}/${skillKey}`;
}

/** Skills keyed by (provider, skill_key). */
export class SkillTable {
  #entries = new Map<string, SkillEntry>();
  #repo: SkillRepo | null;

  /** Takes the durable copy to load from and write to (null: memory only). */
  constructor(repo: SkillRepo | null) {
    this.#repo = repo;
    for (const row of repo?.list() ?? []) {
      const { sheetJson, ...rest } = row;
      const sheet = parseJson(sheetJson) as JsonObject;
      this.#entries.set(key(row.skillKey, row.providerNodeId), {
        ...rest,
        sheet,
        tags: sheetTags(sheet),
      });
    }
  }

  /** Number of stored skills, own and remote. */
  get size(): number {
    return this.#entries.size;
  }

  /** The skill `skillKey` of a provider, or undefined when not stored. */
  get(skillKey: string, providerNodeId: string): SkillEntry | undefined {
    return this.#entries.get(key(skillKey, providerNodeId));
  }

  /** Stores (or replaces) a skill. */
  put(entry: Omit<SkillEntry, "tags">): SkillEntry {
    const full: SkillEntry = { ...entry, tags: sheetTags(entry.sheet) };
    this.#entries.set(key(entry.skillKey, entry.providerNodeId), full);
    const { sheet, tags: _tags, ...row } = full;
    this.#repo?.put({ ...row, sheetJson: pythonWireJson(sheet) });
    return full;
  }

  /** Removes a skill; returns whether it existed. */
  remove(skillKey: string, providerNodeId: string): boolean {
    const existed = this.#entries.delete(key(skillKey, providerNodeId));
    if (existed) this.#repo?.remove(skillKey, providerNodeId);
    return existed;
  }

  /** Every entry. */
  list(): SkillEntry[] {
    return [...this.#entries.values()];
  }

  /** Own skills. */
  own(): SkillEntry[] {
    return this.list().filter((e) => e.isOwn);
  }

  /** Entries matching a query. */
  match(queryType: string, value: string): SkillEntry[] {
    const v = value.trim().toLowerCase();
    switch (queryType) {
      case "name":
        return this.list().filter((e) =>
          e.skillKey === v || sheetName(e.sheet) === v
        );
      case "tag":
        return this.list().filter((e) => e.tags.includes(v));
      case "all":
        return this.list();
      default:
        return [];
    }
  }

  /** Removes remote skills whose TTL has passed; returns how many. */
  prune(now: number): number {
    let n = 0;
    for (const e of this.list()) {
      if (!e.isOwn && e.announcedAt + e.ttl < now) {
        this.remove(e.skillKey, e.providerNodeId);
        n++;
      }
    }
    return n;
  }
}
