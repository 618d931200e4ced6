/** The `kad_contacts` table: the Kademlia routing table, kept across restarts. */
import type { Database } from "./database.ts";

/** A stored routing-table contact. */
export interface KadContactRow {
  /** Node id (64 lowercase hex). */
  nodeId: string;
  /** Host where it listens. */
  host: string;
  /** Port where it listens. */
  port: number;
  /** Unix seconds of the last contact. */
  lastSeen: number;
}

/** Durable copy of the Kademlia routing table. */
export class KadContactRepo {
  #db: Database;
  /** Works on an open database (migration 4 or later). */
  constructor(db: Database) {
    this.#db = db;
  }

  /** Inserts or replaces a contact. */
  put(contact: KadContactRow): void {
    this.#db.run(
      `INSERT INTO kad_contacts (node_id, host, port, last_seen) VALUES (?, ?, ?, ?)
       ON CONFLICT (node_id) DO UPDATE SET host = excluded.host, port = excluded.port,
         last_seen = excluded.last_seen`,
      contact.nodeId,
      contact.host,
      contact.port,
      contact.lastSeen,
    );
  }

  /** Forgets a contact. */
  remove(nodeId: string): void {
    this.#db.run("DELETE FROM kad_contacts WHERE node_id = ?", nodeId);
  }

  /** Every stored contact. */
  list(): KadContactRow[] {
    return this.#db.all("SELECT * FROM kad_contacts ORDER BY node_id").map((
      r,
    ) => ({
      nodeId: r.node_id as string,
      host: r.host as string,
      port: Number(r.port),
      lastSeen: Number(r.last_seen),
    }));
  }
}
