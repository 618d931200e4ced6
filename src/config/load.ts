/** Loading and validating knarr.toml; CLI overrides applied on top. */
import { dirname, resolve } from "node:path";
import { parse as parseToml } from "smol-toml";
import { ConfigError } from "./errors.ts";
import { parseHostPort } from "./host_port.ts";
import { readBridges } from "./_bridges.ts";
import { readCockpit } from "./_cockpit.ts";
import { show, TableReader } from "./_check.ts";
import { readRelay } from "./_relay.ts";
import { readSidecar } from "./_sidecar.ts";
import { readSkill } from "./_skill.ts";
import { DEFAULTS } from "./schema.ts";
import type { HostPort, KnarrConfig } from "./schema.ts";

/** Values from command-line flags; each wins over the file. Paths are relative to the cwd. */
export interface ConfigOverrides {
  /** Port to listen on (`--port`). */
  port?: number;
  /** Asset sidecar port (`--sidecar-port`); 0 disables, as in the file. */
  sidecarPort?: number;
  /** Interface to listen on (`--host`). */
  host?: string;
  /** Address announced to other nodes (`--advertise-host`). */
  advertiseHost?: string;
  /** SQLite file, resolved against the cwd (`--storage`). */
  storage?: string;
  /** `host:port` peers to join, replacing the file's list (`--bootstrap`). */
  bootstrap?: string[];
  /** Bridge commands to add, each with this timeout. */
  bridges?: string[];
  /** Timeout in seconds for each of `bridges` (`--bridge-timeout`). Default 30. */
  bridgeTimeout?: number;
  /** Cockpit port (`--cockpit-port`); 0 disables, as in the file. */
  cockpitPort?: number;
}

const TOP_KEYS = [
  "node",
  "network",
  "sidecar",
  "skills",
  "bridges",
  "policy",
  "relay",
  "cockpit",
] as const;
const NODE_KEYS = [
  "port",
  "host",
  "storage",
  "advertise_host",
  "sidecar_port",
  "max_asset_size",
  "max_task_timeout",
  "task_slots",
  "max_queue_depth",
] as const;
const SIDECAR_KEYS = [
  "asset_dir",
  "max_total_size",
  "asset_ttl",
  "allow_uploads",
  "replay_memory",
] as const;

/** Default bridge timeout in seconds when `--bridge` is given without `--bridge-timeout`. */
export const DEFAULT_BRIDGE_TIMEOUT_S = 30;

/**
 * Reads and validates a knarr.toml file, then applies overrides.
 *
 * @example
 * ```ts
 * const config = await loadConfig("knarr.toml", { port: 9100 });
 * ```
 */
export async function loadConfig(
  path: string,
  overrides: ConfigOverrides = {},
): Promise<KnarrConfig> {
  const file = resolve(path);
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    const problem = error instanceof Deno.errors.NotFound
      ? "file not found; create it with `knarr init <dir>` or pass --config"
      : `cannot read the file: ${(error as Error).message}`;
    throw new ConfigError(path, "", problem, { cause: error });
  }
  return parseConfig(text, file, overrides);
}

/** Validates TOML text as the config file `file` (used for relative paths and messages). */
export function parseConfig(
  text: string,
  file: string,
  overrides: ConfigOverrides = {},
): KnarrConfig {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (error) {
    const first = ((error as Error).message ?? String(error)).split("\n")[0];
    throw new ConfigError(file, "", `TOML syntax error: ${first}`, {
      cause: error,
    });
  }
  return buildConfig(doc, file, dirname(file), overrides);
}

/** The configuration with defaults only (no file), rooted at `dir`, with overrides applied. */
export function defaultConfig(
  dir: string,
  overrides: ConfigOverrides = {},
): KnarrConfig {
  return buildConfig({}, "(defaults)", resolve(dir), overrides);
}

function buildConfig(
  doc: Record<string, unknown>,
  file: string,
  dir: string,
  overrides: ConfigOverrides,
): KnarrConfig {
  const top = new TableReader(file, "", doc, TOP_KEYS);
  const node = new TableReader(file, "node", doc.node, NODE_KEYS);
  const network = new TableReader(file, "network", doc.network, [
    "bootstrap",
    "upnp",
    "gossip_fanout",
    "relay",
    "relay_when",
    "max_peers",
    "max_peers_per_address",
    "exempt_loopback",
    "max_remote_skills",
    "max_skills_per_provider",
    "gossip_forwards_per_second",
  ]);
  const sidecar = new TableReader(file, "sidecar", doc.sidecar, SIDECAR_KEYS);
  const policy = new TableReader(file, "policy", doc.policy, [
    "initial_credit",
    "min_balance",
    "tit_for_tat",
  ]);

  const port = overrides.port ?? node.int("port", DEFAULTS.node.port, 0, 65535);
  // Absent: the protocol port + 1, or any free port beside a node on any free port.
  const defaultSidecar = port === 0 ? 0 : port === 65535 ? null : port + 1;
  const advertise = overrides.advertiseHost ??
    node.string("advertise_host", "", { max: 256 });
  const storageRaw = node.string("storage", DEFAULTS.node.storage, { min: 1 });

  const d = DEFAULTS.network;
  const bootstrapRaw = overrides.bootstrap ??
    network.stringList("bootstrap", []);
  const bootstrap = bootstrapRaw.map((entry) => {
    try {
      return parseHostPort(entry);
    } catch {
      if (overrides.bootstrap) {
        throw new SyntaxError(
          `Invalid --bootstrap "${entry}": expected host:port`,
        );
      }
      return network.fail(
        "bootstrap",
        `entry ${show(entry)} is not host:port (port 1 to 65535)`,
      );
    }
  });

  const bridges = readBridges(file, top, DEFAULT_BRIDGE_TIMEOUT_S);
  for (const command of overrides.bridges ?? []) {
    bridges[command] = {
      timeout: overrides.bridgeTimeout ?? DEFAULT_BRIDGE_TIMEOUT_S,
      allow: null,
      deny: [],
      price: 1,
      prices: {},
    };
  }

  const skillsTable = top.table("skills");
  const skills = Object.entries(skillsTable).map(([name, table]) =>
    readSkill(file, dir, name, table)
  );

  return {
    file: file === "(defaults)" ? null : file,
    dir,
    node: {
      port,
      host: overrides.host ??
        node.string("host", DEFAULTS.node.host, { min: 1, max: 256 }),
      storage: overrides.storage !== undefined
        ? resolve(overrides.storage)
        : resolveStorage(dir, storageRaw),
      advertiseHost: advertise === "" ? null : advertise,
      sidecarPort: sidecarPort(
        overrides.sidecarPort ?? node.int("sidecar_port", -1, 0, 65535),
        defaultSidecar,
      ),
      maxAssetSize: node.int(
        "max_asset_size",
        DEFAULTS.node.maxAssetSize,
        1,
        Number.MAX_SAFE_INTEGER,
      ),
      maxTaskTimeout: node.number(
        "max_task_timeout",
        DEFAULTS.node.maxTaskTimeout,
        0,
        31_536_000,
      ),
      taskSlots: node.int("task_slots", DEFAULTS.node.taskSlots, 1, 1024),
      maxQueueDepth: node.int(
        "max_queue_depth",
        DEFAULTS.node.maxQueueDepth,
        0,
        1_000_000,
      ),
    },
    network: {
      bootstrap,
      upnp: network.bool("upnp", DEFAULTS.network.upnp),
      gossipFanout: network.int(
        "gossip_fanout",
        DEFAULTS.network.gossipFanout,
        1,
        64,
      ),
      relay: readRelayAddress(network),
      relayWhen: readRelayWhen(network),
      maxPeers: network.int("max_peers", d.maxPeers, 8, 1_000_000),
      maxPeersPerAddress: network.int(
        "max_peers_per_address",
        d.maxPeersPerAddress,
        1,
        1_000_000,
      ),
      exemptLoopback: network.bool("exempt_loopback", d.exemptLoopback),
      maxRemoteSkills: network.int(
        "max_remote_skills",
        d.maxRemoteSkills,
        1,
        10_000_000,
      ),
      maxSkillsPerProvider: network.int(
        "max_skills_per_provider",
        d.maxSkillsPerProvider,
        1,
        100_000,
      ),
      gossipForwardsPerSecond: network.number(
        "gossip_forwards_per_second",
        d.gossipForwardsPerSecond,
        0.1,
        1_000_000,
      ),
    },
    sidecar: readSidecar(sidecar, dir),
    skills,
    bridges,
    policy: {
      initialCredit: policy.number(
        "initial_credit",
        DEFAULTS.policy.initialCredit,
        -1e9,
        1e9,
      ),
      minBalance: policy.number(
        "min_balance",
        DEFAULTS.policy.minBalance,
        -1e9,
        1e9,
      ),
      titForTat: policy.bool("tit_for_tat", DEFAULTS.policy.titForTat),
    },
    relay: readRelay(file, dir, doc.relay),
    cockpit: readCockpit(
      new TableReader(file, "cockpit", doc.cockpit, ["port", "host"]),
      port,
      overrides.cockpitPort,
    ),
  };
}

function resolveStorage(dir: string, storage: string): string {
  return storage === ":memory:" ? storage : resolve(dir, storage);
}

/** `[node] sidecar_port` as the node uses it: null = no sidecar, 0 = any free port. */
function sidecarPort(
  configured: number,
  fallback: number | null,
): number | null {
  if (configured === -1) return fallback;
  return configured === 0 ? null : configured;
}

/** `[network] relay`: the keep relay to be reached through, as `host:port`. */
function readRelayAddress(network: TableReader): HostPort | null {
  if (network.raw("relay") === undefined) return null;
  const text = network.string("relay", "", { min: 1, max: 262 });
  try {
    return parseHostPort(text);
  } catch {
    return network.fail(
      "relay",
      `${show(text)} is not host:port (port 1 to 65535)`,
    );
  }
}

/** `[network] relay_when`: "always" or "unreachable". */
function readRelayWhen(network: TableReader): "always" | "unreachable" {
  const value = network.string("relay_when", DEFAULTS.network.relayWhen);
  if (value !== "always" && value !== "unreachable") {
    return network.fail(
      "relay_when",
      `must be "always" or "unreachable" (got ${show(value)})`,
    );
  }
  return value;
}
