/** `knarr serve`: run a node. */
import { existsSync } from "node:fs";
import { defaultConfig, formatHostPort, loadConfig } from "../config/mod.ts";
import type { ConfigOverrides, KnarrConfig } from "../config/mod.ts";
import {
  assetStoreFromConfig,
  BridgedSkills,
  ConfiguredSkills,
  fileStamp,
  isPrivateAddress,
  KnarrNode,
  watchFile,
} from "../node/mod.ts";
import type { SkillRunner } from "../node/mod.ts";
import type { RelayServer } from "../relay/mod.ts";
import { Logger } from "../util/mod.ts";
import type { Command, CommandContext } from "./command.ts";
import { intFlag, secondsFlag, stringFlag, UsageError } from "./command.ts";
import {
  LOG_FORMAT_FLAG,
  LOG_LEVEL_FLAG,
  logFormatFlag,
  logLevelFlag,
} from "./flags.ts";
import { startCockpit } from "./_cockpit.ts";
import { VERSION } from "./version.ts";
import { ServeRelay } from "./_relay_reach.ts";
import { startUpnp, upnpSummary } from "./_upnp.ts";

/** Reads the config file (or defaults) with the command-line overrides applied. */
export async function serveConfig(ctx: CommandContext): Promise<KnarrConfig> {
  const overrides: ConfigOverrides = {};
  const port = intFlag(ctx, "port", 0, 65535);
  if (port !== undefined) overrides.port = port;
  const host = stringFlag(ctx, "host");
  if (host !== undefined) overrides.host = host;
  const sidecarPort = intFlag(ctx, "sidecar-port", 0, 65535);
  if (sidecarPort !== undefined) overrides.sidecarPort = sidecarPort;
  const cockpitPort = intFlag(ctx, "cockpit-port", 0, 65535);
  if (cockpitPort !== undefined) overrides.cockpitPort = cockpitPort;
  const advertise = stringFlag(ctx, "advertise-host");
  if (advertise !== undefined) overrides.advertiseHost = advertise;
  const storage = stringFlag(ctx, "storage");
  if (storage !== undefined) overrides.storage = storage;
  const bootstrap = stringFlag(ctx, "bootstrap");
  if (bootstrap !== undefined) {
    overrides.bootstrap = bootstrap.split(",").map((s) => s.trim()).filter(
      Boolean,
    );
  }
  const bridges = ctx.values.bridge;
  if (Array.isArray(bridges)) overrides.bridges = bridges;
  const bridgeTimeout = secondsFlag(ctx, "bridge-timeout");
  if (bridgeTimeout !== undefined) {
    if (!Array.isArray(bridges)) {
      throw new UsageError("--bridge-timeout needs at least one --bridge");
    }
    overrides.bridgeTimeout = bridgeTimeout;
  }
  const configFlag = stringFlag(ctx, "config");
  try {
    if (configFlag !== undefined) {
      return await loadConfig(configFlag, overrides);
    }
    if (existsSync("knarr.toml")) {
      return await loadConfig("knarr.toml", overrides);
    }
    return defaultConfig(Deno.cwd(), overrides);
  } catch (error) {
    if (error instanceof SyntaxError) throw new UsageError(error.message);
    throw error;
  }
}

/** The serve subcommand. */
export const serveCommand: Command = {
  name: "serve",
  summary: "Run a node: join the network, announce skills, execute tasks",
  usage:
    "knarr serve [--config knarr.toml] [--port 9000] [--bootstrap host:port,...] [options]",
  flags: {
    config: {
      type: "string",
      description: "Configuration file",
      valueName: "path",
      defaultText: "./knarr.toml if present",
    },
    port: {
      type: "string",
      description: "TCP port of the protocol listener (0 = any free port)",
      valueName: "port",
      defaultText: "9000",
    },
    "sidecar-port": {
      type: "string",
      description: "HTTPS port of the asset sidecar (0 disables it)",
      valueName: "port",
      defaultText: "port + 1; any free port when --port is 0",
    },
    "cockpit-port": {
      type: "string",
      description:
        "HTTP port of the operator's web page and /metrics, on [cockpit] host (0 disables it)",
      valueName: "port",
      defaultText: "port + 2 on 127.0.0.1; any free port when --port is 0",
    },
    host: {
      type: "string",
      description: "Interface to listen on",
      valueName: "host",
      defaultText: "0.0.0.0",
    },
    "advertise-host": {
      type: "string",
      description: "Address other nodes use to reach this one",
      valueName: "host",
      defaultText: "auto-detected",
    },
    storage: {
      type: "string",
      description: "SQLite database file",
      valueName: "path",
      defaultText: "node.db",
    },
    bootstrap: {
      type: "string",
      description: "Peers to join, comma separated",
      valueName: "host:port,...",
    },
    bridge: {
      type: "string",
      description: "MCP server command to bridge into skills",
      valueName: "command",
      multiple: true,
    },
    "bridge-timeout": {
      type: "string",
      description: "Timeout in seconds for bridged tools",
      valueName: "seconds",
      defaultText: "30",
    },
    "log-level": LOG_LEVEL_FLAG,
    "log-format": LOG_FORMAT_FLAG,
  },
  async run(ctx) {
    const level = logLevelFlag(ctx);
    const format = logFormatFlag(ctx);
    const config = await serveConfig(ctx);
    // Taken right after reading: an edit made during startup is still reloaded.
    const loadedStamp = config.file ? await fileStamp(config.file) : "";
    const logger = new Logger({ level, format });
    await using assets = assetStoreFromConfig(config, logger);
    await using skills = new ConfiguredSkills(config, assets, logger);
    // Bridged MCP tools join once the node runs; configured skill files win a name clash.
    let bridged: SkillRunner | null = null;
    const files = skills.runner();
    await using node = await KnarrNode.fromConfig(config, {
      logger,
      runner: {
        has: (name) => files.has(name) || (bridged?.has(name) ?? false),
        run: (name, input, ctx) =>
          files.has(name) || !bridged
            ? files.run(name, input, ctx)
            : bridged.run(name, input, ctx),
        slots: (name) =>
          files.has(name) ? files.slots?.(name) : bridged?.slots?.(name),
      },
      assets,
    });
    // The port is bound now (its number is printed), but messages wait until the
    // configured skills and bridges are loaded: a query meanwhile would miss them.
    let markReady!: () => void;
    const ready = new Promise<void>((resolve) => markReady = resolve);
    await node.start({ ready });
    assets.startSweeper();
    let advertise = node.advertise!;
    ctx.out.print(`Node ID: ${node.nodeId}`);
    ctx.out.print(`Listening: ${config.node.host}:${node.listening!.port}`);
    if (node.sidecar) {
      ctx.out.print(
        `Sidecar: https://${config.node.host}:${node.sidecar.port}`,
      );
    }
    await using cockpit = await startCockpit(node, config, logger, VERSION);
    if (cockpit.server) ctx.out.print(`Cockpit: ${cockpit.server.url}`);
    cockpit.view.upnp = config.network.upnp
      ? "on, no ports mapped (see the log)"
      : "off";
    await using upnp = await startUpnp(
      config,
      {
        protocol: node.listening!.port,
        sidecar: node.sidecar?.port ?? null,
      },
      logger,
      { signal: ctx.signal },
    );
    if (upnp) {
      ctx.out.print(upnpSummary(upnp));
      cockpit.view.upnp = upnpSummary(upnp).slice("UPnP: ".length);
      // A public external address beats a detected one; an explicit one stays.
      if (
        advertise.source !== "explicit" &&
        !isPrivateAddress(upnp.externalAddress)
      ) {
        node.setAdvertiseHost(upnp.externalAddress);
        advertise = {
          host: upnp.externalAddress,
          source: "explicit",
          isPrivate: false,
        };
      }
    }
    if (advertise.source === "detected") {
      ctx.out.print(`Auto-detected advertise address: ${advertise.host}`);
    } else {
      ctx.out.print(`Advertising: ${advertise.host}`);
    }
    cockpit.view.reachability = advertise.isPrivate
      ? `private address ${advertise.host}: reachable on its own network only`
      : `public address ${advertise.host} (not checked)`;
    if (advertise.isPrivate && advertise.source !== "bound") {
      logger.warn(
        `Advertise address ${advertise.host} is private: nodes outside this network cannot reach it; ` +
          "set --advertise-host to a public address if they should",
      );
    }
    await using relay = config.relay.enabled
      ? await startRelay(config, logger)
      : null;
    if (relay) {
      ctx.out.print(
        `Relay listening: ${
          formatHostPort({ host: relay.host, port: relay.port })
        }`,
      );
      cockpit.view.setRelay(relay);
    }

    // Reached through a relay: announced (and joined) with the relayed address.
    await using relayed = new ServeRelay({
      node,
      log: logger,
      print: (line) => ctx.out.print(line),
      onReach: (state, relayed) => {
        cockpit.view.reachability = state;
        if (relayed) cockpit.view.addAddress("Relayed", relayed);
      },
    }, config);
    if (config.network.relay) relayed.startIfAlways();

    // Own skills stored by an earlier run but no longer configured are withdrawn.
    const configured = new Set(config.skills.map((s) => s.name));
    for (
      const stale of node.discovery.skills.own().filter((e) =>
        !configured.has(e.skillKey)
      )
    ) {
      await node.deregister(stale.skillKey);
    }
    const applied = await skills.apply(node, config.skills);
    const noteApplied = (outcome: typeof applied) => {
      const at = new Date().toTimeString().slice(0, 8);
      for (const name of outcome.loaded) {
        cockpit.view.noteReload(name, `loaded ${at}`);
      }
      for (const f of outcome.failed) {
        cockpit.view.noteReload(f.name, `load failed ${at}: ${f.error}`);
      }
    };
    noteApplied(applied);
    const background: Promise<void>[] = [];
    for (const f of applied.failed) {
      ctx.out.error(`error: Skill "${f.name}" is not served: ${f.error}`);
    }
    for (const name of node.skillSwitches.list()) {
      logger.warn(
        `Skill "${name}" is disabled (from the cockpit): requests for it get SKILL_DISABLED`,
      );
    }
    if (config.file) {
      background.push(watchFile(config.file, async () => {
        let next: KnarrConfig;
        try {
          next = await serveConfig(ctx);
        } catch (error) {
          logger.error(
            `Not reloading ${config.file}: ${(error as Error).message}`,
          );
          return;
        }
        const result = await skills.apply(node, next.skills);
        noteApplied(result);
        logger.info(
          `Reloaded ${config.file}: ${result.loaded.length} skills loaded, ${result.removed.length} removed, ` +
            `${result.failed.length} failed`,
        );
      }, { signal: ctx.signal, since: loadedStamp }));
    }
    await using bridges = await BridgedSkills.start(node, config.bridges, {
      reserved: new Set(config.skills.map((s) => s.name)),
      logger,
    });
    bridged = bridges.runner();
    skills.reachOthers(bridged);
    const bridgeCount = Object.keys(config.bridges).length;
    if (bridgeCount > 0) {
      ctx.out.print(
        `Bridged ${bridges.names().length} MCP tools from ${bridgeCount} servers`,
      );
    }
    ctx.out.print(`Loaded ${applied.loaded.length} skills from config`);
    markReady();

    if (config.network.bootstrap.length > 0) {
      const outcome = await node.join(config.network.bootstrap, {
        signal: ctx.signal,
      });
      if (outcome.via) {
        logger.info(
          `Joined the network through ${
            formatHostPort(outcome.via)
          }: ${node.discovery.peers.size} peers`,
        );
      } else {
        logger.warn(
          `Cannot join any bootstrap yet (${
            outcome.errors[0] ?? "no answer"
          }); retrying in the background`,
        );
      }
      await relayed.startIfUnreachable({
        via: outcome.via ?? null,
        upnpMapped: upnp !== null,
        signal: ctx.signal,
      });
    }

    background.push((async () => {
      for await (const event of skills.events({ signal: ctx.signal })) {
        const at = new Date().toTimeString().slice(0, 8);
        if (event.type === "reloaded") {
          cockpit.view.noteReload(event.name, `reloaded ${at}`);
          logger.info(`Reloaded skill "${event.name}"`, { skill: event.name });
        } else {
          cockpit.view.noteReload(
            event.name,
            `reload failed ${at} (previous version kept): ${event.error.message}`,
          );
          logger.error(
            `Skill "${event.name}" failed to reload (keeping the previous version): ${event.error.message}`,
            { skill: event.name },
          );
        }
      }
    })());
    await abortion(ctx.signal);
    await Promise.allSettled(background);
    logger.info("Shutting down: withdrawing skills");
    await node.withdraw();
    return 0;
  },
};

async function startRelay(
  config: KnarrConfig,
  logger: Logger,
): Promise<RelayServer> {
  // The relay layer (protobufjs) loads only when the embedded relay is enabled.
  const { loadOrCreateKeyFile, relayOptionsFromConfig, RelayServer } =
    await import("../relay/mod.ts");
  return await RelayServer.start({
    logger: logger.child("relay"),
    ...(config.relay.keyFile
      ? { identity: await loadOrCreateKeyFile(config.relay.keyFile) }
      : {}),
  }, relayOptionsFromConfig(config.relay));
}

function abortion(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true })
  );
}
