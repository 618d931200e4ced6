/** `knarr info`: identity and accounts of a node's database. */
import {
  Database,
  LedgerRepo,
  loadOrCreateIdentity,
  TaskRepo,
} from "../store/mod.ts";
import { reputation } from "../tasks/mod.ts";
import type { Command } from "./command.ts";
import { formatTable } from "./output.ts";
import { storagePath } from "./_storage.ts";

function num(n: number): string {
  return Number.isInteger(n) ? n.toFixed(1) : n.toFixed(2);
}

function time(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().replace("T", " ").slice(
    0,
    19,
  ) + " UTC";
}

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
    const ledger = new LedgerRepo(db).list();
    const provided = ledger.reduce((s, r) => s + r.tasksProvided, 0);
    const consumed = ledger.reduce((s, r) => s + r.tasksConsumed, 0);
    const net = ledger.reduce((s, r) => s + r.balance, 0);
    ctx.out.print(
      `Ledger: ${ledger.length} accounts, ${provided} tasks provided, ${consumed} tasks consumed, ` +
        `net balance ${num(net)}`,
    );
    if (!ctx.values.reputation) return 0;
    const history = reputation(new TaskRepo(db), Date.now() / 1000);
    ctx.out.print(`Counterparties: ${ledger.length} unique peers`);
    ctx.out.print("");
    ctx.out.print("Provider history (last 30 days):");
    if (history.length === 0) {
      ctx.out.print("  No tasks requested yet.");
    } else {
      for (
        const line of formatTable(
          [
            "PROVIDER",
            "TASKS",
            "COMPLETED",
            "FAILED",
            "SUCCESS",
            "AVG MS",
            "LAST",
          ],
          history.map((h) => [
            `${h.providerNodeId.slice(0, 16)}...`,
            String(h.total),
            String(h.completed),
            String(h.failed),
            `${Math.round(h.successRate * 100)}%`,
            h.avgWallMs === null ? "-" : String(Math.round(h.avgWallMs)),
            time(h.lastInteraction),
          ]),
        )
      ) ctx.out.print(`  ${line}`);
    }
    ctx.out.print("");
    ctx.out.print("Ledger:");
    if (ledger.length === 0) {
      ctx.out.print("  No accounts yet.");
    } else {
      for (
        const line of formatTable(
          ["PEER", "BALANCE", "PROVIDED", "CONSUMED", "UPDATED"],
          ledger.map((r) => [
            `${r.peerPublicKey.slice(0, 16)}...`,
            num(r.balance),
            String(r.tasksProvided),
            String(r.tasksConsumed),
            time(r.updatedAt),
          ]),
        )
      ) ctx.out.print(`  ${line}`);
    }
    return 0;
  },
};
