/** The in-memory peer table with a durable copy in the store, bounded in size. */
import type { PeerRepo, PeerRow } from "../store/mod.ts";
import { addressGroup, isLoopback } from "./_address_group.ts";

/** A peer entry as JOIN_RESPONSE and announcements describe it. */
export interface PeerAddress {
  /** Node id (64 lowercase hex). */
  nodeId: string;
  /** Host where the peer listens. */
  host: string;
  /** Port where the peer listens. */
  port: number;
}

/** How a new entry was learned: what the table's caps count it against. */
export interface PeerOrigin {
  /** The remote address the claim came from. */
  from: string;
  /**
   * `from` only listed the peer (a JOIN_RESPONSE entry) instead of sending the peer's own
   * signed message: it is not capped per address (one answer lists up to 1,000 peers), and it
   * never moves or refreshes a peer already known. Default false.
   */
  listed?: boolean;
}

/** What {@linkcode PeerTable.upsert} takes besides the address. */
export interface PeerExtra {
  /** The peer's public key (64 hex). */
  publicKey?: string;
  /** The peer's sidecar port. */
  sidecarPort?: number;
  /** Where a new entry came from; absent: this node's own doing (the API, a bootstrap, the store). */
  origin?: PeerOrigin;
}

/** Limits of {@linkcode PeerTable}. */
export interface PeerTableOptions {
  /** Peers kept at most, in memory and in the store. Default 4,096. */
  maxPeers?: number;
  /**
   * Unconfirmed peers that one remote address (an IPv4 address, or an IPv6 /64) may add by
   * sending JOIN_REQUESTs or ANNOUNCEs; past it its new ones are refused. Null: no cap.
   * Default 8.
   */
  maxPeersPerAddress?: number | null;
  /** Loopback addresses are exempt from `maxPeersPerAddress` (local networks run many nodes on one). Default true. */
  exemptLoopback?: boolean;
}

/** Counters of {@linkcode PeerTable}. */
export interface PeerTableStats {
  /** New entries refused: over their address's cap, or the table full of peers kept. */
  refused: number;
  /** Unconfirmed entries dropped to make room in a full table. */
  evicted: number;
}

/** Seconds a stored `last_seen` may lag behind the table's (liveness windows are minutes). */
export const TOUCH_WRITE_AFTER_S = 5;

/** The default of `PeerTableOptions.maxPeers`. */
export const DEFAULT_MAX_PEERS = 4_096;

/** What the caps know of an entry: the group it counts under, and whether it answered us. */
interface Standing {
  group: string;
  confirmed: boolean;
}

/**
 * Known peers, keyed by node id, at most `maxPeers`. A peer is **confirmed** once it answered
 * a request this node sent to its address (a heartbeat, a gossip forward, a join, a query):
 * confirmed peers are never evicted. Unconfirmed ones (heard of only through a JOIN, an
 * ANNOUNCE or a JOIN_RESPONSE listing) count against the address that brought them; when
 * the table is full, a newcomer takes the place of the stalest unconfirmed entry of the
 * address holding the most of them, or is refused when its own address holds the most.
 */
export class PeerTable {
  /** Entries refused and evicted since the table was made. */
  readonly stats: PeerTableStats = { refused: 0, evicted: 0 };
  #rows = new Map<string, PeerRow>();
  #version = 0;
  /** When each peer's `last_seen` was last written to the store. */
  #stored = new Map<string, number>();
  #standing = new Map<string, Standing>();
  /** Unconfirmed entries by group, oldest first. */
  #groups = new Map<string, Set<string>>();
  #repo: PeerRepo | null;
  #selfId: string;
  #max: number;
  #maxPerAddress: number | null;
  #exemptLoopback: boolean;

  /**
   * Takes this node's id (never stored as a peer), the durable copy to load from and write to
   * (null: memory only) and the limits. Of a store holding more than `maxPeers`, the most
   * recently seen are loaded and the rest deleted.
   */
  constructor(
    selfId: string,
    repo: PeerRepo | null,
    options: PeerTableOptions = {},
  ) {
    this.#selfId = selfId;
    this.#repo = repo;
    this.#max = options.maxPeers ?? DEFAULT_MAX_PEERS;
    this.#maxPerAddress = options.maxPeersPerAddress === undefined
      ? 8
      : options.maxPeersPerAddress;
    this.#exemptLoopback = options.exemptLoopback ?? true;
    if (
      !(this.#max >= 1) ||
      (this.#maxPerAddress !== null && !(this.#maxPerAddress >= 1))
    ) {
      throw new RangeError(
        `Cannot create peer table: maxPeers ${this.#max} and maxPeersPerAddress ${this.#maxPerAddress} must be at least 1`,
      );
    }
    const rows = (repo?.list() ?? []).filter((r) => r.nodeId !== selfId)
      .sort((a, b) => b.lastSeen - a.lastSeen);
    for (const row of rows.slice(this.#max)) repo?.remove(row.nodeId);
    for (const row of rows.slice(0, this.#max).reverse()) {
      this.#rows.set(row.nodeId, row);
      this.#place(row.nodeId, "", false);
    }
  }

  /** Changes whenever a peer is added, removed, moved or confirmed (what a listing shows). */
  get version(): number {
    return this.#version;
  }

  /** Number of known peers. */
  get size(): number {
    return this.#rows.size;
  }

  /** The peer with this node id, or undefined when unknown. */
  get(nodeId: string): PeerRow | undefined {
    return this.#rows.get(nodeId);
  }

  /** Every peer. */
  list(): PeerRow[] {
    return [...this.#rows.values()];
  }

  /** True once the peer answered a request sent to its address (see {@linkcode confirm}). */
  isConfirmed(nodeId: string): boolean {
    return this.#standing.get(nodeId)?.confirmed ?? false;
  }

  /**
   * Adds or updates a peer's address; never adds self. Returns true when it is new; false
   * for an update, and for a new entry refused by the caps (counted in `stats.refused`).
   * A listed origin never changes a known peer.
   */
  upsert(peer: PeerAddress, now: number, extra: PeerExtra = {}): boolean {
    if (peer.nodeId === this.#selfId) return false;
    const old = this.#rows.get(peer.nodeId);
    if (old && extra.origin?.listed) return false;
    const group = groupOf(extra.origin);
    if (!old && !this.#admit(group, extra.origin)) {
      this.stats.refused++;
      return false;
    }
    const row: PeerRow = {
      nodeId: peer.nodeId,
      host: peer.host,
      port: peer.port,
      publicKey: extra.publicKey ?? old?.publicKey ?? "",
      sidecarPort: extra.sidecarPort ?? old?.sidecarPort ?? 0,
      load: old?.load ?? null,
      firstSeen: old?.firstSeen ?? now,
      lastSeen: old ? Math.max(old.lastSeen, now) : now,
    };
    this.#rows.set(peer.nodeId, row);
    // A new address is not confirmed (a peer that moved answers at its new one in turn).
    if (!old || old.host !== row.host || old.port !== row.port) {
      this.#place(
        peer.nodeId,
        old ? this.#standing.get(peer.nodeId)!.group : group,
        false,
      );
    }
    this.#repo?.put(row);
    this.#stored.set(peer.nodeId, row.lastSeen);
    return old === undefined;
  }

  /**
   * Records that a peer answered a request sent to its address, signed with its own key:
   * it is kept whatever the caps (until it expires by silence).
   */
  confirm(nodeId: string): void {
    const standing = this.#standing.get(nodeId);
    if (standing && !standing.confirmed) {
      this.#place(nodeId, standing.group, true);
    }
  }

  /**
   * Records contact; returns false for unknown peers. The table has it at once; the store
   * gets it when its copy is {@linkcode TOUCH_WRITE_AFTER_S} old or more, so a busy peer
   * costs one write per interval rather than one per message.
   */
  touch(nodeId: string, now: number, publicKey?: string): boolean {
    const row = this.#rows.get(nodeId);
    if (!row) return false;
    row.lastSeen = now;
    if (publicKey && row.publicKey !== publicKey) {
      row.publicKey = publicKey;
      this.#repo?.put(row);
      this.#stored.set(nodeId, now);
    } else if (
      now - (this.#stored.get(nodeId) ?? -Infinity) >= TOUCH_WRITE_AFTER_S
    ) {
      this.#repo?.touch(nodeId, now);
      this.#stored.set(nodeId, now);
    }
    return true;
  }

  /** Records a reported load (0 = idle). */
  setLoad(nodeId: string, load: number): void {
    const row = this.#rows.get(nodeId);
    if (row) row.load = load;
  }

  /** Forgets a peer, in memory and in the store. */
  remove(nodeId: string): void {
    this.#stored.delete(nodeId);
    this.#unplace(nodeId);
    this.#standing.delete(nodeId);
    if (this.#rows.delete(nodeId)) {
      this.#version++;
      this.#repo?.remove(nodeId);
    }
  }

  /** Up to `n` random peers, excluding the given node ids. */
  sample(n: number, exclude: ReadonlySet<string> = new Set()): PeerRow[] {
    const pool = this.list().filter((p) => !exclude.has(p.nodeId));
    for (let i = pool.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    return pool.slice(0, n);
  }

  /**
   * Whether a new entry of `group` may come in, making room when the table is full: over
   * its address's cap it may not; in a full table the stalest unconfirmed entry of the
   * group holding the most makes room, unless that is the newcomer's own group (or there is
   * no unconfirmed entry at all), and then the newcomer is refused.
   */
  #admit(group: string, origin: PeerOrigin | undefined): boolean {
    const own = this.#groups.get(group)?.size ?? 0;
    if (
      origin !== undefined && !origin.listed && this.#maxPerAddress !== null &&
      own >= this.#maxPerAddress &&
      !(this.#exemptLoopback && isLoopback(origin.from))
    ) return false;
    if (this.#rows.size < this.#max) return true;
    let largest: Set<string> | null = null;
    for (const members of this.#groups.values()) {
      if (members.size > (largest?.size ?? 0)) largest = members;
    }
    if (largest === null || own >= largest.size) return false;
    let stalest: PeerRow | null = null;
    for (const nodeId of largest) {
      const row = this.#rows.get(nodeId)!;
      if (stalest === null || row.lastSeen < stalest.lastSeen) stalest = row;
    }
    this.remove(stalest!.nodeId);
    this.stats.evicted++;
    return true;
  }

  /** Sets an entry's standing; unconfirmed entries are listed under their group. */
  #place(nodeId: string, group: string, confirmed: boolean): void {
    this.#version++;
    this.#unplace(nodeId);
    this.#standing.set(nodeId, { group, confirmed });
    if (confirmed) return;
    let members = this.#groups.get(group);
    if (!members) this.#groups.set(group, members = new Set());
    members.add(nodeId);
  }

  #unplace(nodeId: string): void {
    const standing = this.#standing.get(nodeId);
    if (!standing || standing.confirmed) return;
    const members = this.#groups.get(standing.group);
    members?.delete(nodeId);
    if (members?.size === 0) this.#groups.delete(standing.group);
  }
}

/** The group a new entry counts under: its sender's address, the lister's, or "" (our own). */
function groupOf(origin: PeerOrigin | undefined): string {
  if (origin === undefined) return "";
  return `${origin.listed ? "listed by" : "from"} ${addressGroup(origin.from)}`;
}
