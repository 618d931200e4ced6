/** The Kademlia routing table: 256 buckets by XOR distance, k contacts each. */
import type { Clock } from "../types.ts";
import { bucketIndex, ID_BITS, sortByDistance } from "./distance.ts";

/** A node the table knows. */
export interface Contact {
  /** Node id (64 lowercase hex). */
  nodeId: string;
  /** Host where it listens. */
  host: string;
  /** Port where it listens. */
  port: number;
  /** Unix seconds of the last contact. */
  lastSeen: number;
}

/** Where the table keeps its durable copy (the store's `KadContactRepo`). */
export interface ContactStore {
  /** Inserts or replaces a contact. */
  put(contact: Contact): void;
  /** Forgets a contact. */
  remove(nodeId: string): void;
  /** Every stored contact. */
  list(): Contact[];
}

/** Collaborators of {@linkcode RoutingTable}. */
export interface RoutingTableDeps {
  /** This node's id; never stored. */
  selfId: string;
  /** Time source. */
  clock: Clock;
  /** Durable copy to load from and write to; default none. */
  store?: ContactStore | null;
  /** Liveness check of the oldest contact of a full bucket; default: it is alive. */
  ping?: (contact: Contact) => Promise<boolean>;
}

/** Limits of {@linkcode RoutingTable}. */
export interface RoutingTableOptions {
  /** Contacts per bucket. Default 20. */
  k?: number;
  /** Contacts sharing one host per bucket. Default 2. */
  maxPerHost?: number;
  /** Exempt loopback hosts from `maxPerHost` (local test networks). Default true. */
  exemptLoopback?: boolean;
  /** Seconds a stored `lastSeen` may lag behind the table's. Default 60. */
  storeLagS?: number;
  /**
   * A full bucket's oldest contact seen within this many seconds counts as alive without
   * a ping (the newcomer is dropped), so busy nodes do not ping on every message. Default 300.
   */
  staleAfterS?: number;
  /** Seconds between pings of one bucket (a stale table does not ping on every message). Default 60. */
  pingEveryS?: number;
}

/** What {@linkcode RoutingTable.add} did. */
export type AddOutcome = "added" | "updated" | "pinging" | "rejected";

function isLoopback(host: string): boolean {
  return host.startsWith("127.") || host === "::1" || host === "localhost";
}

/**
 * Buckets keep contacts most recently seen last. A full bucket pings its oldest contact
 * before evicting it: a live one is kept (and moved last), a dead one makes room.
 */
export class RoutingTable {
  #buckets: Contact[][] = Array.from({ length: ID_BITS }, () => []);
  #pinging = new Set<number>();
  #background = new Set<Promise<void>>();
  #stored = new Map<string, number>();
  #deps: RoutingTableDeps;
  #k: number;
  #maxPerHost: number;
  #exemptLoopback: boolean;
  #storeLagS: number;
  #staleAfterS: number;
  #pingEveryS: number;
  #lastPing = new Map<number, number>();

  /** Loads the stored contacts (those that still fit). */
  constructor(deps: RoutingTableDeps, options: RoutingTableOptions = {}) {
    this.#deps = deps;
    this.#k = options.k ?? 20;
    this.#maxPerHost = options.maxPerHost ?? 2;
    this.#exemptLoopback = options.exemptLoopback ?? true;
    this.#storeLagS = options.storeLagS ?? 60;
    this.#staleAfterS = options.staleAfterS ?? 300;
    this.#pingEveryS = options.pingEveryS ?? 60;
    const stored = (deps.store?.list() ?? []).sort((a, b) =>
      a.lastSeen - b.lastSeen
    );
    for (const c of stored) {
      const i = bucketIndex(deps.selfId, c.nodeId);
      if (i < 0 || !this.#fits(this.#buckets[i]!, c)) continue;
      this.#buckets[i]!.push({ ...c });
      this.#stored.set(c.nodeId, c.lastSeen);
    }
  }

  /** Contacts per bucket. */
  get k(): number {
    return this.#k;
  }

  /** Number of contacts. */
  get size(): number {
    return this.#buckets.reduce((n, b) => n + b.length, 0);
  }

  /** The contact with this id, or undefined. */
  get(nodeId: string): Contact | undefined {
    const i = bucketIndex(this.#deps.selfId, nodeId);
    return i < 0
      ? undefined
      : this.#buckets[i]!.find((c) => c.nodeId === nodeId);
  }

  /** The contacts of one bucket, oldest first (a copy). */
  bucket(index: number): Contact[] {
    return [...(this.#buckets[index] ?? [])];
  }

  /** Every contact. */
  list(): Contact[] {
    return this.#buckets.flat();
  }

  /** Up to `n` contacts closest to `target`, excluding some ids. */
  closest(
    target: string,
    n: number = this.#k,
    exclude: ReadonlySet<string> = new Set(),
  ): Contact[] {
    const all = this.list().filter((c) => !exclude.has(c.nodeId));
    return sortByDistance(all, target).slice(0, n);
  }

  /**
   * Records contact with a node: moves a known one last, appends a new one when its
   * bucket has room, and otherwise pings the bucket's oldest contact (in the background)
   * to decide which of the two stays.
   */
  add(peer: { nodeId: string; host: string; port: number }): AddOutcome {
    const i = bucketIndex(this.#deps.selfId, peer.nodeId);
    if (i < 0) return "rejected";
    const bucket = this.#buckets[i]!;
    const now = this.#deps.clock.now();
    const at = bucket.findIndex((c) => c.nodeId === peer.nodeId);
    if (at >= 0) {
      const [old] = bucket.splice(at, 1);
      const moved = old!.host !== peer.host || old!.port !== peer.port;
      const c = { ...old!, host: peer.host, port: peer.port, lastSeen: now };
      bucket.push(c);
      this.#write(c, moved);
      return "updated";
    }
    const contact: Contact = { ...peer, lastSeen: now };
    if (!this.#fits(bucket, contact)) return "rejected";
    if (bucket.length < this.#k) {
      bucket.push(contact);
      this.#write(contact, true);
      return "added";
    }
    const oldest = bucket[0]!;
    if (
      this.#pinging.has(i) || now - oldest.lastSeen < this.#staleAfterS ||
      now - (this.#lastPing.get(i) ?? -Infinity) < this.#pingEveryS
    ) return "rejected";
    this.#pinging.add(i);
    this.#lastPing.set(i, now);
    const p = this.#pingOldest(i, oldest, contact);
    this.#background.add(p);
    p.finally(() => this.#background.delete(p));
    return "pinging";
  }

  /** Forgets a contact. */
  remove(nodeId: string): boolean {
    const i = bucketIndex(this.#deps.selfId, nodeId);
    if (i < 0) return false;
    const bucket = this.#buckets[i]!;
    const at = bucket.findIndex((c) => c.nodeId === nodeId);
    if (at < 0) return false;
    bucket.splice(at, 1);
    this.#stored.delete(nodeId);
    this.#deps.store?.remove(nodeId);
    return true;
  }

  /** Waits for the pings of full buckets in flight (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.#background.size > 0) {
      await Promise.allSettled([...this.#background]);
    }
  }

  /** Indexes of the non-empty buckets. */
  usedBuckets(): number[] {
    const used: number[] = [];
    this.#buckets.forEach((b, i) => b.length > 0 && used.push(i));
    return used;
  }

  async #pingOldest(i: number, oldest: Contact, newcomer: Contact) {
    let alive = false;
    try {
      alive = await (this.#deps.ping?.(oldest) ?? Promise.resolve(true));
    } catch {
      alive = false;
    } finally {
      this.#pinging.delete(i);
    }
    const bucket = this.#buckets[i]!;
    const at = bucket.findIndex((c) => c.nodeId === oldest.nodeId);
    if (alive) {
      if (at >= 0) {
        const [c] = bucket.splice(at, 1);
        c!.lastSeen = this.#deps.clock.now();
        bucket.push(c!);
        this.#write(c!, false);
      }
      return;
    }
    if (at >= 0) this.remove(oldest.nodeId);
    if (
      bucket.length < this.#k &&
      !bucket.some((c) => c.nodeId === newcomer.nodeId) &&
      this.#fits(bucket, newcomer)
    ) {
      bucket.push(newcomer);
      this.#write(newcomer, true);
    }
  }

  #fits(bucket: readonly Contact[], c: Contact): boolean {
    if (this.#exemptLoopback && isLoopback(c.host)) return true;
    let sameHost = 0;
    for (const b of bucket) if (b.host === c.host) sameHost++;
    return sameHost < this.#maxPerHost;
  }

  #write(c: Contact, force: boolean): void {
    const store = this.#deps.store;
    if (!store) return;
    const last = this.#stored.get(c.nodeId);
    if (force || last === undefined || c.lastSeen - last >= this.#storeLagS) {
      store.put({ ...c });
      this.#stored.set(c.nodeId, c.lastSeen);
    }
  }
}
