/** The in-memory skill table (own and remote skills) with a durable copy in the store. */
import type { SkillRepo, SkillRow } from "../store/mod.ts";
import { parseJson, pythonWireJson } from "../wire/mod.ts";
import type { JsonObject } from "../wire/mod.ts";
import { sheetMaxInputSize, sheetName, sheetTags } from "./skill_sheet.ts";

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

/** Limits of {@linkcode SkillTable} on remote skills (own skills are never limited). */
export interface SkillTableOptions {
  /** Remote skills kept at most. Default 10,000. */
  maxRemoteSkills?: number;
  /** Remote skills kept of one provider node at most; more new ones are refused. Default 64. */
  maxSkillsPerProvider?: number;
  /**
   * Providers whose skills a full table keeps (this node's confirmed peers); the others'
   * make room for newcomers, the longest unannounced first. Default: none kept.
   */
  keep?: (providerNodeId: string) => boolean;
  /**
   * Runs the store writes of remote skills later, many in one transaction (the node's
   * group commit): a flood of announcements then costs one commit a turn, not one each.
   * Own skills are written at once. Default: every write at once.
   */
  deferWrite?: (write: () => void) => void;
}

/** Counters of {@linkcode SkillTable}. */
export interface SkillTableStats {
  /** New remote skills refused: over their provider's cap, or the table full of kept skills. */
  refused: number;
  /** Remote skills dropped to make room in a full table. */
  evicted: number;
}

/**
 * Skills keyed by (provider, skill_key). Remote skills are bounded: in all, and per provider.
 * A full table makes room by dropping the remote skill announced longest ago whose provider
 * is not kept (a confirmed peer); a provider at its cap gets no new skill (its announced ones
 * are still refreshed).
 */
export class SkillTable {
  /** Remote skills refused and evicted since the table was made. */
  readonly stats: SkillTableStats = { refused: 0, evicted: 0 };
  /** Own skills first; remote ones in the order they were last stored. */
  #entries = new Map<string, SkillEntry>();
  // The own entries too, in the same order: own() is asked often, remote skills are many.
  #own = new Map<string, SkillEntry>();
  // The largest max_input_size of the own skills; null until asked after a change.
  #largestOwnInput: number | null = null;
  /** Remote skills per provider. */
  #perProvider = new Map<string, number>();
  #remote = 0;
  #repo: SkillRepo | null;
  #maxRemote: number;
  #maxPerProvider: number;
  #keep: (providerNodeId: string) => boolean;
  #defer: ((write: () => void) => void) | null;

  /**
   * Takes the durable copy to load from and write to (null: memory only) and the limits.
   * Of a store holding more remote skills than allowed, the most recently announced are
   * loaded and the rest deleted.
   */
  constructor(repo: SkillRepo | null, options: SkillTableOptions = {}) {
    this.#repo = repo;
    this.#maxRemote = options.maxRemoteSkills ?? 10_000;
    this.#maxPerProvider = options.maxSkillsPerProvider ?? 64;
    this.#keep = options.keep ?? (() => false);
    this.#defer = options.deferWrite ?? null;
    if (!(this.#maxRemote >= 1) || !(this.#maxPerProvider >= 1)) {
      throw new RangeError(
        `Cannot create skill table: maxRemoteSkills ${this.#maxRemote} and maxSkillsPerProvider ${this.#maxPerProvider} must be at least 1`,
      );
    }
    const rows = (repo?.list() ?? []).sort((a, b) =>
      a.announcedAt - b.announcedAt
    );
    for (const row of rows.reverse()) {
      const { sheetJson, ...rest } = row;
      if (!row.isOwn && !this.#fits(row.providerNodeId)) {
        repo?.remove(row.skillKey, row.providerNodeId);
        continue;
      }
      const sheet = parseJson(sheetJson) as JsonObject;
      this.#add({ ...rest, sheet, tags: sheetTags(sheet) });
    }
    // Oldest first, as later puts keep them.
    const loaded = [...this.#entries.values()].reverse();
    this.#entries.clear();
    this.#own.clear();
    this.#largestOwnInput = null;
    for (const e of loaded) {
      this.#entries.set(key(e.skillKey, e.providerNodeId), e);
      if (e.isOwn) this.#own.set(key(e.skillKey, e.providerNodeId), e);
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

  /**
   * Stores (or replaces) a skill; null when a new remote skill is refused by the limits
   * (counted in `stats.refused`).
   */
  put(entry: Omit<SkillEntry, "tags">): SkillEntry | null {
    const k = key(entry.skillKey, entry.providerNodeId);
    const old = this.#entries.get(k);
    if (
      old === undefined && !entry.isOwn && !this.#admit(entry.providerNodeId)
    ) {
      this.stats.refused++;
      return null;
    }
    const full: SkillEntry = { ...entry, tags: sheetTags(entry.sheet) };
    if (old !== undefined) this.#forget(old);
    this.#add(full);
    const { sheet, tags: _tags, ...row } = full;
    const repo = this.#repo;
    if (repo !== null) {
      const stored = { ...row, sheetJson: pythonWireJson(sheet) };
      this.#write(full.isOwn, () => repo.put(stored));
    }
    return full;
  }

  /** Removes a skill; returns whether it existed. */
  remove(skillKey: string, providerNodeId: string): boolean {
    const entry = this.#entries.get(key(skillKey, providerNodeId));
    if (entry === undefined) return false;
    this.#forget(entry);
    const repo = this.#repo;
    if (repo !== null) {
      this.#write(entry.isOwn, () => repo.remove(skillKey, providerNodeId));
    }
    return true;
  }

  /** Every entry. */
  list(): SkillEntry[] {
    return [...this.#entries.values()];
  }

  /** Own skills. */
  own(): SkillEntry[] {
    return [...this.#own.values()];
  }

  /** The largest `max_input_size` of the own skills (0 without any); kept until they change. */
  largestOwnInput(): number {
    if (this.#largestOwnInput === null) {
      let largest = 0;
      for (const e of this.#own.values()) {
        largest = Math.max(largest, sheetMaxInputSize(e.sheet));
      }
      this.#largestOwnInput = largest;
    }
    return this.#largestOwnInput;
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

  /** Whether a new remote skill of `provider` may come in, making room when the table is full. */
  #admit(provider: string): boolean {
    if ((this.#perProvider.get(provider) ?? 0) >= this.#maxPerProvider) {
      return false;
    }
    if (this.#remote < this.#maxRemote) return true;
    for (const e of this.#entries.values()) {
      if (e.isOwn || this.#keep(e.providerNodeId)) continue;
      this.remove(e.skillKey, e.providerNodeId);
      this.stats.evicted++;
      return true;
    }
    return false;
  }

  /** Whether one more remote skill of `provider` fits while loading. */
  #fits(provider: string): boolean {
    return this.#remote < this.#maxRemote &&
      (this.#perProvider.get(provider) ?? 0) < this.#maxPerProvider;
  }

  #write(own: boolean, write: () => unknown): void {
    if (own || this.#defer === null) write();
    else this.#defer(() => void write());
  }

  #add(entry: SkillEntry): void {
    const k = key(entry.skillKey, entry.providerNodeId);
    this.#entries.set(k, entry);
    if (entry.isOwn) {
      this.#own.set(k, entry);
      this.#largestOwnInput = null;
      return;
    }
    this.#remote++;
    const p = entry.providerNodeId;
    this.#perProvider.set(p, (this.#perProvider.get(p) ?? 0) + 1);
  }

  #forget(entry: SkillEntry): void {
    const k = key(entry.skillKey, entry.providerNodeId);
    this.#entries.delete(k);
    if (entry.isOwn) {
      this.#own.delete(k);
      this.#largestOwnInput = null;
      return;
    }
    this.#remote--;
    const p = entry.providerNodeId;
    const n = (this.#perProvider.get(p) ?? 1) - 1;
    if (n > 0) this.#perProvider.set(p, n);
    else this.#perProvider.delete(p);
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
