/** Opening a node's store: its database and identity. */
import type { Identity } from "../crypto/mod.ts";
import { Database, loadOrCreateIdentity, probeWrite } from "../store/mod.ts";
import type { KnarrNodeOptions } from "./node_options.ts";

/**
 * Opens the node's database and loads or creates its identity; throws, with the database
 * closed again, when the options cannot make a node or the database cannot be written.
 */
export async function openNodeStore(
  options: KnarrNodeOptions,
): Promise<{ db: Database; identity: Identity }> {
  if (options.sidecar && !options.assets) {
    throw new TypeError(
      "Cannot create node: a sidecar needs an asset directory (pass assets: new AssetStore(dir))",
    );
  }
  const db = Database.open(options.storage ?? ":memory:");
  try {
    // A node that cannot write its ledger says so before it takes any work.
    const fault = probeWrite(db);
    if (fault) throw fault;
    const identity = options.identity ?? await loadOrCreateIdentity(db);
    return { db, identity };
  } catch (error) {
    try {
      db.close();
    } catch {
      // A failing disk fails the closing checkpoint too; the first error says why.
    }
    throw error;
  }
}
