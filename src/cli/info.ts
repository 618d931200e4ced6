/** `knarr info`: identity and accounts of a node's database. */
import { Database, loadOrCreateIdentity } from "../store/mod.ts";
import type { Command } from "./command.ts";
import { storagePath } from "./_storage.ts";

/** The info subcommand. */
export const infoCommand: Command = {
  name: "info",
  summary: "Show this node's identity and accounts",
  usage: "knarr info [--storage node.db] [--reputation]",
  flags: {
    storage: {
      type: "string",
      description: "Node database",
      valueName: "path",
      defaultText: "storage of ./knarr.toml, else node.db",
    },
    reputation: {
      type: "boolean",
      description: "Also show provider history and the ledger",
    },
  },
  async run(ctx) {
    await using db = Database.open(await storagePath(ctx));
    const identity = await loadOrCreateIdentity(db);
    ctx.out.print(`Node ID: ${identity.nodeId}`);
    ctx.out.print(`Public Key: ${identity.publicKey}`);
    return 0;
  },
};
