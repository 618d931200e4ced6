/** The `cockpit_token` table: the secret that opens the operator's cockpit. */
import { bytesToHex } from "../util/mod.ts";
import type { Database } from "./database.ts";

/**
 * The stored cockpit token, creating one (32 random bytes as hex) on first use; the
 * same token is kept across restarts.
 */
export function loadOrCreateCockpitToken(
  db: Database,
  now: number = Date.now() / 1000,
): string {
  const read = () =>
    db.get("SELECT token FROM cockpit_token ORDER BY rowid LIMIT 1")?.token;
  const stored = read();
  if (typeof stored === "string" && stored.length > 0) return stored;
  const token = bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
  db.transaction(() => {
    // Another process may have raced us between the read and this write: keep the first.
    if (read() === undefined) {
      db.run(
        "INSERT INTO cockpit_token (token, created_at) VALUES (?, ?)",
        token,
        now,
      );
    }
  });
  return read() as string;
}
