/** `knarr relay`: run the keep relay router. */
import type { Command } from "./command.ts";
import { LOG_LEVEL_FLAG } from "./flags.ts";

/** The relay subcommand (capability arrives with the relay issue). */
export const relayCommand: Command = {
  name: "relay",
  summary:
    "Run a keep relay router that forwards signed packets between agents",
  usage:
    "knarr relay [--host 0.0.0.0] [--port 9009] [--config knarr.toml] [--log-level info]",
  flags: {
    host: {
      type: "string",
      description: "Interface to listen on",
      valueName: "host",
      defaultText: "0.0.0.0",
    },
    port: {
      type: "string",
      description: "TCP port to listen on",
      valueName: "port",
      defaultText: "9009",
    },
    config: {
      type: "string",
      description: "Read the [relay] section of this file",
      valueName: "path",
    },
    "log-level": LOG_LEVEL_FLAG,
  },
  run(ctx) {
    ctx.out.error(
      "error: `knarr relay` is not available yet in this version of knarr",
    );
    return Promise.resolve(1);
  },
};
