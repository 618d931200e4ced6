/** The `node_identity` table: the node's 32-byte Ed25519 seed. */
import { Identity } from "../crypto/mod.ts";
import type { Database } from "./database.ts";

/** Loads the stored identity, creating and storing a new one on first use. */
export async function loadOrCreateIdentity(db: Database): Promise<Identity> {
  const row = db.get("SELECT key_bytes FROM node_identity LIMIT 1");
  if (row) {
    const seed = row.key_bytes;
    if (!(seed instanceof Uint8Array) || seed.length !== 32) {
      throw new RangeError(
        `Cannot load identity from "${db.path}": stored key is not 32 bytes`,
      );
    }
    return await Identity.fromSeed(seed);
  }
  const identity = await Identity.generate();
  db.transaction(() => {
    // Another process may have raced us between the read and this write: keep the first key.
    if (!db.get("SELECT 1 AS one FROM node_identity LIMIT 1")) {
      db.run("INSERT INTO node_identity (key_bytes) VALUES (?)", identity.seed);
    }
  });
  const stored = db.get("SELECT key_bytes FROM node_identity LIMIT 1")!
    .key_bytes as Uint8Array;
  return stored.every((b, i) => b === identity.seed[i])
    ? identity
    : await Identity.fromSeed(stored);
}
