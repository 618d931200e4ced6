/** The `skills` table: our own skill sheets and remote ones learned by gossip or sync. */
import type { Database } from "./database.ts";

/** A stored skill. `sheetJson` keeps the exact signed sheet (lossless JSON text). */
export interface SkillRow {
  /** The announce's `skill_key`: the normalized skill name. */
  skillKey: string;
  /** Node id of the provider (64 lowercase hex). */
  providerNodeId: string;
  /** The sheet exactly as signed, as lossless JSON text. */
  sheetJson: string;
  /** True for this node's own skills. */
  isOwn: boolean;
  /** "public", "private" or "whitelist"; remote skills are stored as "public". */
  visibility: string;
  /** Unix seconds. */
  announcedAt: number;
  /** Seconds. */
  ttl: number;
  /** Public key that signed the ANNOUNCE (64 lowercase hex). */
  publicKey: string;
  /** Signature of the ANNOUNCE, so sync can pass it on verifiable. */
  signature: string;
  /** `msg_id` of the ANNOUNCE, part of what was signed. */
  msgId: string;
  /** Provider's asset sidecar port; 0 when it has none. */
  sidecarPort: number;
  /** Provider address when known ("" / 0 otherwise). */
  host: string;
  /** Provider port when known (0 otherwise). */
  port: number;
}

/** Durable copy of the skill table. */
export class SkillRepo {
  #db: Database;
  constructor(db: Database) {
    this.#db = db;
  }

  /** Inserts or replaces a skill. */
  put(row: SkillRow): void {
    this.#db.run(
      `INSERT OR REPLACE INTO skills (skill_key, provider_node_id, skill_sheet, is_own, visibility, announced_at,
         ttl, public_key, signature, msg_id, sidecar_port, host, port)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      row.skillKey,
      row.providerNodeId,
      row.sheetJson,
      row.isOwn ? 1 : 0,
      row.visibility,
      row.announcedAt,
      row.ttl,
      row.publicKey,
      row.signature,
      row.msgId,
      row.sidecarPort,
      row.host,
      row.port,
    );
  }

  /** Removes one skill of one provider; returns whether it existed. */
  remove(skillKey: string, providerNodeId: string): boolean {
    return this.#db.run(
      "DELETE FROM skills WHERE skill_key = ? AND provider_node_id = ?",
      skillKey,
      providerNodeId,
    ) >
      0;
  }

  /** Every stored skill. */
  list(): SkillRow[] {
    return this.#db.all("SELECT * FROM skills").map((r) => ({
      skillKey: r.skill_key as string,
      providerNodeId: r.provider_node_id as string,
      sheetJson: r.skill_sheet as string,
      isOwn: Number(r.is_own) === 1,
      visibility: r.visibility as string,
      announcedAt: Number(r.announced_at),
      ttl: Number(r.ttl),
      publicKey: r.public_key as string,
      signature: r.signature as string,
      msgId: r.msg_id as string,
      sidecarPort: Number(r.sidecar_port),
      host: r.host as string,
      port: Number(r.port),
    }));
  }
}
