/** `knarr query`: find skills on the network. */
import type { Command } from "./command.ts";
import { LOG_LEVEL_FLAG } from "./flags.ts";

/** The query subcommand. */
export const queryCommand: Command = {
  name: "query",
  summary: "Find skills on the network by name or tag",
  usage:
    "knarr query --bootstrap host:port (--name NAME | --tag TAG) [--timeout 5] [--json]",
  flags: {
    bootstrap: {
      type: "string",
      description: "A node of the network to ask (required)",
      valueName: "host:port",
    },
    name: {
      type: "string",
      description: "Exact skill name",
      valueName: "name",
    },
    tag: { type: "string", description: "Skill tag", valueName: "tag" },
    port: {
      type: "string",
      description: "Local port for replies (0 = any)",
      valueName: "port",
      defaultText: "0",
    },
    timeout: {
      type: "string",
      description: "Seconds to wait for answers",
      valueName: "seconds",
      defaultText: "5",
    },
    json: { type: "boolean", description: "Print the results as JSON" },
    "log-level": LOG_LEVEL_FLAG,
  },
  run(ctx) {
    ctx.out.error(
      "error: `knarr query` is not available yet in this version of knarr",
    );
    return Promise.resolve(1);
  },
};
