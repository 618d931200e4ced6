/** The `sidecar_certificate` table: the sidecar's TLS certificate, kept across restarts. */
import type { Database } from "./database.ts";

/** The stored certificate. */
export interface CertificateRow {
  /** The DER-encoded certificate. */
  der: Uint8Array;
  /** When it was stored, in unix seconds. */
  createdAt: number;
}

/** Reads and replaces the one stored sidecar certificate. */
export class CertificateRepo {
  #db: Database;
  /** Takes the open database that holds the sidecar_certificate table. */
  constructor(db: Database) {
    this.#db = db;
  }

  /** The stored certificate, or null before the first `put`. */
  get(): CertificateRow | null {
    const row = this.#db.get(
      "SELECT der, created_at FROM sidecar_certificate ORDER BY rowid DESC LIMIT 1",
    );
    if (!row || !(row.der instanceof Uint8Array)) return null;
    return { der: row.der, createdAt: Number(row.created_at) };
  }

  /** Stores `der` (made at `createdAt`, unix seconds) in place of any earlier one. */
  put(der: Uint8Array, createdAt: number): void {
    this.#db.transaction(() => {
      this.#db.run("DELETE FROM sidecar_certificate");
      this.#db.run(
        "INSERT INTO sidecar_certificate (der, created_at) VALUES (?, ?)",
        der,
        createdAt,
      );
    });
  }
}
