/** `knarr relay`: run the keep relay router. */
import { defaultConfig, formatHostPort, loadConfig } from "../config/mod.ts";
import type { RelayServer, RelayServerOptions } from "../relay/mod.ts";
import { Logger } from "../util/mod.ts";
import { intFlag, stringFlag } from "./command.ts";
import type { Command } from "./command.ts";
import {
  LOG_FORMAT_FLAG,
  LOG_LEVEL_FLAG,
  logFormatFlag,
  logLevelFlag,
} from "./flags.ts";

/** The relay subcommand. */
export const relayCommand: Command = {
  name: "relay",
  summary:
    "Run a keep relay router that forwards signed packets between agents",
  usage:
    "knarr relay [--host 0.0.0.0] [--port 9009] [--config knarr.toml] [--log-level info] [--log-format human]",
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
    "log-format": LOG_FORMAT_FLAG,
  },
  async run(ctx) {
    // Loaded here, not at the top: other commands need not load protobufjs.
    const {
      loadOrCreateKeyFile: loadRelayKey,
      relayOptionsFromConfig,
      RelayServer,
    } = await import("../relay/mod.ts");
    const level = logLevelFlag(ctx);
    const format = logFormatFlag(ctx);
    const host = stringFlag(ctx, "host");
    const port = intFlag(ctx, "port", 0, 65535);
    const configPath = stringFlag(ctx, "config");
    const section = configPath === undefined
      ? defaultConfig(Deno.cwd()).relay
      : (await loadConfig(configPath)).relay;
    const options: RelayServerOptions = relayOptionsFromConfig(section);
    if (host !== undefined) options.host = host;
    if (port !== undefined) options.port = port;

    let relay: RelayServer;
    try {
      relay = await RelayServer.start({
        logger: new Logger({ level, format, name: "relay" }),
        ...(section.keyFile
          ? { identity: await loadRelayKey(section.keyFile) }
          : {}),
      }, options);
    } catch (error) {
      if ((error as Error).cause instanceof Deno.errors.AddrInUse) {
        throw new Error(`${(error as Error).message}; pick another --port`, {
          cause: error,
        });
      }
      throw error;
    }
    await using _relay = relay;
    ctx.out.print(
      `Relay listening: ${
        formatHostPort({ host: relay.host, port: relay.port })
      }`,
    );
    ctx.out.print(`Relay key: ${relay.publicKey}`);
    await untilAborted(ctx.signal);
    return 0;
  },
};

function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true })
  );
}
