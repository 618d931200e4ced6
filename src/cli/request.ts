/** `knarr request`: run a task on the best provider of a skill. */
import type { Command } from "./command.ts";
import { LOG_LEVEL_FLAG } from "./flags.ts";

/** The request subcommand. */
export const requestCommand: Command = {
  name: "request",
  summary: "Run a task on the network's best provider of a skill",
  usage:
    "knarr request --skill NAME --input JSON --bootstrap host:port [--timeout 30] [--json]",
  flags: {
    skill: {
      type: "string",
      description: "Skill name (required)",
      valueName: "name",
    },
    input: {
      type: "string",
      description:
        'Input JSON object; a value "@file" is replaced by the file\'s content',
      valueName: "json",
    },
    bootstrap: {
      type: "string",
      description: "A node of the network to ask (required)",
      valueName: "host:port",
    },
    port: {
      type: "string",
      description: "Local port for pushed results (0 = any)",
      valueName: "port",
      defaultText: "0",
    },
    timeout: {
      type: "string",
      description: "Seconds to wait for the result",
      valueName: "seconds",
      defaultText: "30",
    },
    "output-dir": {
      type: "string",
      description: "Where to save output assets",
      valueName: "dir",
      defaultText: ".",
    },
    json: { type: "boolean", description: "Print the whole result as JSON" },
    "log-level": LOG_LEVEL_FLAG,
  },
  run(ctx) {
    ctx.out.error(
      "error: `knarr request` is not available yet in this version of knarr",
    );
    return Promise.resolve(1);
  },
};
