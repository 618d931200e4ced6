/** Provider records held for other nodes: TTL-bound, at most `maxRecords`, LRU evicted. */
import type { Clock } from "../types.ts";
import type { RecordProof } from "./rpc_codec.ts";

/** One stored provider record. */
export interface ProviderRecord {
  /** Record key: sha256 of the canonical skill key (64 hex). */
  key: string;
  /** The canonical skill key. */
  skillKey: string;
  /** Provider node id (the PUT's authenticated sender). */
  nodeId: string;
  /** Provider host, from the peer table. */
  host: string;
  /** Provider port, from the peer table. */
  port: number;
  /** Provider asset sidecar port. */
  sidecarPort: number;
  /** Unix seconds when stored. */
  storedAt: number;
  /** Seconds it lives. */
  ttl: number;
  /** The provider's signature over the record, when it sent one. */
  proof?: RecordProof;
}

/** Limits of {@linkcode ProviderStore}. */
export interface ProviderStoreOptions {
  /** Records kept in all. Default 50 000. */
  maxRecords?: number;
  /** Records kept per key. Default 100. */
  maxPerKey?: number;
}

/** Records by key and provider; a Map's insertion order is the LRU order. */
export class ProviderStore {
  #records = new Map<string, ProviderRecord>();
  #byKey = new Map<string, Set<string>>();
  #clock: Clock;
  #max: number;
  #maxPerKey: number;

  /** Takes the clock and the limits. */
  constructor(deps: { clock: Clock }, options: ProviderStoreOptions = {}) {
    this.#clock = deps.clock;
    this.#max = options.maxRecords ?? 50_000;
    this.#maxPerKey = options.maxPerKey ?? 100;
  }

  /** Number of records held (expired ones included until touched). */
  get size(): number {
    return this.#records.size;
  }

  /** Stores or refreshes a record; false when its key already holds `maxPerKey` others. */
  put(record: ProviderRecord): boolean {
    const id = `${record.key}/${record.nodeId}`;
    let ids = this.#byKey.get(record.key);
    if (!this.#records.has(id) && (ids?.size ?? 0) >= this.#maxPerKey) {
      this.#purge(record.key);
      ids = this.#byKey.get(record.key);
      if ((ids?.size ?? 0) >= this.#maxPerKey) return false;
    }
    this.#records.delete(id);
    this.#records.set(id, record);
    if (!ids) this.#byKey.set(record.key, ids = new Set());
    ids.add(id);
    while (this.#records.size > this.#max) {
      const oldest = this.#records.keys().next().value!;
      this.#drop(oldest);
    }
    return true;
  }

  /** The live records of a key (each read counts as use). */
  get(key: string): ProviderRecord[] {
    this.#purge(key);
    const out: ProviderRecord[] = [];
    for (const id of this.#byKey.get(key) ?? []) {
      const r = this.#records.get(id)!;
      this.#records.delete(id);
      this.#records.set(id, r);
      out.push(r);
    }
    return out;
  }

  /** Drops one provider's record of a key. */
  remove(key: string, nodeId: string): boolean {
    const id = `${key}/${nodeId}`;
    if (!this.#records.has(id)) return false;
    this.#drop(id);
    return true;
  }

  #purge(key: string): void {
    const now = this.#clock.now();
    for (const id of [...(this.#byKey.get(key) ?? [])]) {
      const r = this.#records.get(id)!;
      if (r.storedAt + r.ttl <= now) this.#drop(id);
    }
  }

  #drop(id: string): void {
    const r = this.#records.get(id);
    this.#records.delete(id);
    if (!r) return;
    const ids = this.#byKey.get(r.key);
    ids?.delete(id);
    if (ids?.size === 0) this.#byKey.delete(r.key);
  }
}
