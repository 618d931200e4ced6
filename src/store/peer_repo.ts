/** The `peers` table: other nodes this node knows. */
import type { Database } from "./database.ts";

/** A known peer. */
export interface PeerRow {
  /** Node id (64 lowercase hex). */
  nodeId: string;
  /** Host where the peer listens. */
  host: string;
  /** Port where the peer listens. */
  port: number;
  /** Public key (64 lowercase hex), or "" while unknown. */
  publicKey: string;
  /** Asset sidecar port; 0 when none or unknown. */
  sidecarPort: number;
  /** Last reported load, or null when unknown. */
  load: number | null;
  /** Unix seconds. */
  firstSeen: number;
  /** Unix seconds of the last contact. */
  lastSeen: number;
}

/** Durable copy of the peer table. */
export class PeerRepo {
  #db: Database;
  constructor(db: Database) {
    this.#db = db;
  }

  /** Inserts or replaces a peer. */
  put(peer: PeerRow): void {
    this.#db.run(
      `INSERT INTO peers (node_id, host, port, public_key, sidecar_port, load, first_seen, last_seen)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (node_id) DO UPDATE SET host = excluded.host, port = excluded.port,
         public_key = excluded.public_key, sidecar_port = excluded.sidecar_port, load = excluded.load,
         last_seen = excluded.last_seen`,
      peer.nodeId,
      peer.host,
      peer.port,
      peer.publicKey,
      peer.sidecarPort,
      peer.load,
      peer.firstSeen,
      peer.lastSeen,
    );
  }

  /** Records contact at `lastSeen`. */
  touch(nodeId: string, lastSeen: number): void {
    this.#db.run(
      "UPDATE peers SET last_seen = ? WHERE node_id = ?",
      lastSeen,
      nodeId,
    );
  }

  /** Removes a peer. */
  remove(nodeId: string): void {
    this.#db.run("DELETE FROM peers WHERE node_id = ?", nodeId);
  }

  /** Every stored peer. */
  list(): PeerRow[] {
    return this.#db.all("SELECT * FROM peers ORDER BY node_id").map((r) => ({
      nodeId: r.node_id as string,
      host: r.host as string,
      port: Number(r.port),
      publicKey: r.public_key as string,
      sidecarPort: Number(r.sidecar_port),
      load: r.load === null ? null : Number(r.load),
      firstSeen: Number(r.first_seen),
      lastSeen: Number(r.last_seen),
    }));
  }
}
