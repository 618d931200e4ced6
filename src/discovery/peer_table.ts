/** The in-memory peer table with a durable copy in the store. */
import type { PeerRepo, PeerRow } from "../store/mod.ts";

/** A peer entry as JOIN_RESPONSE and announcements describe it. */
export interface PeerAddress {
  /** Node id (64 lowercase hex). */
  nodeId: string;
  /** Host where the peer listens. */
  host: string;
  /** Port where the peer listens. */
  port: number;
}

/** Seconds a stored `last_seen` may lag behind the table's (liveness windows are minutes). */
export const TOUCH_WRITE_AFTER_S = 5;

/** Known peers, keyed by node id. */
export class PeerTable {
  #rows = new Map<string, PeerRow>();
  /** When each peer's `last_seen` was last written to the store. */
  #stored = new Map<string, number>();
  #repo: PeerRepo | null;
  #selfId: string;

  /** Takes this node's id (never stored as a peer) and the durable copy to load from and write to (null: memory only). */
  constructor(selfId: string, repo: PeerRepo | null) {
    this.#selfId = selfId;
    this.#repo = repo;
    for (const row of repo?.list() ?? []) {
      if (row.nodeId !== selfId) this.#rows.set(row.nodeId, row);
    }
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

  /** Adds or updates a peer's address; never adds self. Returns true when it is new. */
  upsert(
    peer: PeerAddress,
    now: number,
    extra: { publicKey?: string; sidecarPort?: number } = {},
  ): boolean {
    if (peer.nodeId === this.#selfId) return false;
    const old = this.#rows.get(peer.nodeId);
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
    this.#repo?.put(row);
    this.#stored.set(peer.nodeId, row.lastSeen);
    return old === undefined;
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
    if (this.#rows.delete(nodeId)) this.#repo?.remove(nodeId);
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
}
