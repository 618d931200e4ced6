/** `knarr demand`: queries that found no skill. */
import { Database, DemandRepo } from "../store/mod.ts";
import type { Command } from "./command.ts";
import { formatTable } from "./output.ts";
import { storagePath } from "./_storage.ts";

/** The demand subcommand. */
export const demandCommand: Command = {
  name: "demand",
  summary: "Show unmet demand: queries that found no skill",
  usage: "knarr demand [--storage node.db] [--json]",
  flags: {
    storage: {
      type: "string",
      description: "Node database",
      valueName: "path",
      defaultText: "storage of ./knarr.toml, else node.db",
    },
    json: { type: "boolean", description: "Print the rows as JSON" },
  },
  async run(ctx) {
    await using db = Database.open(await storagePath(ctx));
    const rows = new DemandRepo(db).list();
    if (ctx.values.json) {
      ctx.out.json(rows.map((r) => ({
        query: r.queryValue,
        type: r.queryType,
        count: r.count,
        first_seen: r.firstSeen,
        last_seen: r.lastSeen,
      })));
      return 0;
    }
    if (rows.length === 0) {
      ctx.out.print("No demand recorded.");
      return 0;
    }
    const table = formatTable(
      ["QUERY", "TYPE", "COUNT", "LAST QUERIED"],
      rows.map((
        r,
      ) => [
        r.queryValue,
        r.queryType,
        String(r.count),
        formatTime(r.lastSeen),
      ]),
    );
    for (const line of table) ctx.out.print(line);
    return 0;
  },
};

function formatTime(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().replace("T", " ").slice(
    0,
    19,
  ) + " UTC";
}
