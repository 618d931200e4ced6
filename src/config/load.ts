/** Loading and validating knarr.toml; CLI overrides applied on top. */
import { existsSync, realpathSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { parse as parseToml } from "smol-toml";
import { ConfigError } from "./errors.ts";
import { parseHostPort } from "./host_port.ts";
import { readBridges } from "./_bridges.ts";
import { show, TableReader } from "./_check.ts";
import { DEFAULTS } from "./schema.ts";
import type {
  KnarrConfig,
  RelaySection,
  SidecarSection,
  SkillConfig,
  Visibility,
} from "./schema.ts";

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
}

const TOP_KEYS = [
  "node",
  "network",
  "sidecar",
  "skills",
  "bridges",
  "policy",
  "relay",
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
] as const;
const SKILL_KEYS = [
  "handler",
  "description",
  "tags",
  "version",
  "input_schema",
  "output_schema",
  "visibility",
  "allowed_nodes",
  "price",
  "max_input_size",
  "net",
  "read",
  "slow",
  "uri",
] as const;
const RELAY_KEYS = [
  "enabled",
  "host",
  "port",
  "version",
  "heartbeat_interval",
  "max_connections",
  "max_connections_per_ip",
  "rate_limit",
  "rate_burst",
  "max_queue",
  "idle_timeout",
  "write_timeout",
  "bind_identities",
  "sign_replies",
  "key_file",
  "max_queue_bytes",
] as const;

/** Default bridge timeout in seconds when `--bridge` is given without `--bridge-timeout`. */
export const DEFAULT_BRIDGE_TIMEOUT_S = 30;
const SKILL_NAME_RE = /^[a-z0-9-]{1,64}$/;
const TAG_RE = /^[a-z0-9-]{1,32}$/;
const VERSION_RE = /^\d+\.\d+\.\d+$/;
const NODE_ID_RE = /^[0-9a-f]{64}$/;
const NET_RE = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.*-]+)(:\d{1,5})?$/;
const VISIBILITIES: readonly Visibility[] = ["public", "private", "whitelist"];

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
    },
    sidecar: {
      assetDir: resolve(
        dir,
        sidecar.string("asset_dir", DEFAULTS.sidecar.assetDir, { min: 1 }),
      ),
      maxTotalSize: sidecar.int(
        "max_total_size",
        DEFAULTS.sidecar.maxTotalSize,
        1,
        Number.MAX_SAFE_INTEGER,
      ),
      assetTtl: sidecar.int(
        "asset_ttl",
        DEFAULTS.sidecar.assetTtl,
        0,
        31_536_000,
      ),
      allowUploads: readAllowUploads(sidecar),
    },
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
  };
}

function readAllowUploads(
  sidecar: TableReader,
): SidecarSection["allowUploads"] {
  const v = sidecar.raw("allow_uploads");
  if (v === undefined) return DEFAULTS.sidecar.allowUploads;
  if (v === "any" || v === "callers") return v;
  const fix =
    `set allow_uploads = "any", "callers" or ["<node id>", ...] (64 lowercase hex characters each)`;
  if (!Array.isArray(v)) {
    sidecar.fail("allow_uploads", `got ${show(v)}; ${fix}`);
  }
  if (v.length === 0) {
    sidecar.fail("allow_uploads", `the list is empty; ${fix}`);
  }
  for (const id of v) {
    if (typeof id !== "string" || !NODE_ID_RE.test(id)) {
      sidecar.fail("allow_uploads", `${show(id)} is not a node id; ${fix}`);
    }
  }
  return [...(v as string[])];
}

function resolveStorage(dir: string, storage: string): string {
  return storage === ":memory:" ? storage : resolve(dir, storage);
}

function readRelay(file: string, dir: string, table: unknown): RelaySection {
  const r = new TableReader(file, "relay", table, RELAY_KEYS);
  const d = DEFAULTS.relay;
  return {
    enabled: r.bool("enabled", d.enabled),
    host: r.string("host", d.host, { min: 1, max: 256 }),
    port: r.int("port", d.port, 0, 65535),
    version: r.string("version", d.version, { min: 1, max: 64 }),
    heartbeatInterval: r.number(
      "heartbeat_interval",
      d.heartbeatInterval,
      0.01,
      86_400,
    ),
    maxConnections: r.int("max_connections", d.maxConnections, 1, 1_000_000),
    maxConnectionsPerIp: r.int(
      "max_connections_per_ip",
      d.maxConnectionsPerIp,
      1,
      1_000_000,
    ),
    rateLimit: r.number("rate_limit", d.rateLimit, 0.001, 1e9),
    rateBurst: r.int("rate_burst", d.rateBurst, 1, 1e9),
    maxQueue: r.int("max_queue", d.maxQueue, 1, 1e7),
    idleTimeout: r.number("idle_timeout", d.idleTimeout, 0.01, 86_400),
    writeTimeout: r.number("write_timeout", d.writeTimeout, 0.01, 86_400),
    bindIdentities: r.bool("bind_identities", d.bindIdentities),
    signReplies: r.bool("sign_replies", d.signReplies),
    keyFile: r.raw("key_file") === undefined
      ? null
      : resolve(dir, r.string("key_file", "", { min: 1 })),
    maxQueueBytes: r.int(
      "max_queue_bytes",
      d.maxQueueBytes,
      1024,
      1_073_741_824,
    ),
  };
}

function readSkill(
  file: string,
  dir: string,
  name: string,
  table: unknown,
): SkillConfig {
  const s = new TableReader(file, `skills.${name}`, table, SKILL_KEYS);
  if (!SKILL_NAME_RE.test(name)) {
    s.fail(
      "",
      `skill name ${show(name)} must be 1 to 64 characters of a-z, 0-9 and "-"`,
    );
  }
  const handler = s.string("handler", "");
  if (handler === "") {
    s.fail(
      "handler",
      `missing; set handler = "skills/${name}.ts" (optionally ":functionName")`,
    );
  }
  const colon = handler.lastIndexOf(":");
  const hasExport = colon > 1 &&
    /^[A-Za-z_$][\w$]*$/.test(handler.slice(colon + 1));
  const handlerFile = hasExport ? handler.slice(0, colon) : handler;
  const handlerExport = hasExport
    ? handler.slice(colon + 1)
    : DEFAULTS.skill.handlerExport;
  if (!/\.(ts|js|mts|mjs|tsx|jsx)$/.test(handlerFile)) {
    s.fail(
      "handler",
      `${show(handler)} must name a .ts or .js file, as "path.ts:function"`,
    );
  }
  const handlerPath = insideProject(s, dir, handlerFile);

  const description = s.string("description", "");
  if (description.trim() === "" || description.length > 1024) {
    s.fail(
      "description",
      `must be 1 to 1024 characters (got ${description.length})`,
    );
  }
  const tags = s.stringList("tags", []).map((t) => t.trim().toLowerCase());
  if (tags.length < 1 || tags.length > 10) {
    s.fail("tags", `must list 1 to 10 tags (got ${tags.length})`);
  }
  for (const tag of tags) {
    if (!TAG_RE.test(tag)) {
      s.fail(
        "tags",
        `tag ${show(tag)} must be 1 to 32 characters of a-z, 0-9 and "-"`,
      );
    }
  }
  const version = s.string("version", DEFAULTS.skill.version);
  if (!VERSION_RE.test(version)) {
    s.fail("version", `must look like 1.2.3 (got ${show(version)})`);
  }

  const visibility = s.string(
    "visibility",
    DEFAULTS.skill.visibility,
  ) as Visibility;
  if (!VISIBILITIES.includes(visibility)) {
    s.fail(
      "visibility",
      `must be one of public, private, whitelist (got ${show(visibility)})`,
    );
  }
  const allowedNodes = s.stringList("allowed_nodes", []);
  for (const id of allowedNodes) {
    if (!NODE_ID_RE.test(id)) {
      s.fail(
        "allowed_nodes",
        `${show(id)} is not a node id (64 lowercase hex characters)`,
      );
    }
  }
  if (visibility === "whitelist" && allowedNodes.length === 0) {
    s.fail(
      "allowed_nodes",
      `visibility "whitelist" needs allowed_nodes = ["<node id>", ...]`,
    );
  }

  const net = s.stringList("net", []);
  for (const host of net) {
    if (!NET_RE.test(host)) {
      s.fail("net", `${show(host)} must be a host or host:port`);
    }
  }
  const read = s.stringList("read", []).map((p) => resolve(dir, p));

  return {
    name,
    handlerPath,
    handlerExport,
    description,
    tags,
    version,
    inputSchema: schema(s, "input_schema"),
    outputSchema: schema(s, "output_schema"),
    visibility,
    allowedNodes,
    price: s.number("price", DEFAULTS.skill.price, -1000, 1000),
    maxInputSize: s.int(
      "max_input_size",
      DEFAULTS.skill.maxInputSize,
      1,
      10_485_760,
    ),
    net,
    read,
    slow: s.bool("slow", false),
    uri: s.raw("uri") === undefined
      ? null
      : s.string("uri", "", { min: 1, max: 512 }),
  };
}

function schema(s: TableReader, key: string): Record<string, unknown> {
  const table = s.table(key);
  for (const [k, v] of Object.entries(table)) {
    const ok = k === "_required"
      ? Array.isArray(v) && v.every((x) => typeof x === "string")
      : typeof v === "string";
    if (!ok) {
      s.fail(
        `${key}.${k}`,
        k === "_required"
          ? "must be a list of key names"
          : `must be a type name string (got ${show(v)})`,
      );
    }
  }
  return table;
}

function insideProject(s: TableReader, dir: string, path: string): string {
  const abs = resolve(dir, path);
  const real = existsSync(abs) ? realpathSync(abs) : abs;
  const realDir = existsSync(dir) ? realpathSync(dir) : dir;
  const rel = relative(realDir, real);
  if (
    rel === "" || rel.startsWith(".." + sep) || rel === ".." || isAbsolute(rel)
  ) {
    s.fail(
      "handler",
      `${
        show(path)
      } is outside the project directory "${dir}"; move the handler inside it`,
    );
  }
  if (!existsSync(abs)) {
    s.fail("handler", `file ${show(path)} not found in "${dir}"`);
  }
  return abs;
}

/** `[node] sidecar_port` as the node uses it: null = no sidecar, 0 = any free port. */
function sidecarPort(
  configured: number,
  fallback: number | null,
): number | null {
  if (configured === -1) return fallback;
  return configured === 0 ? null : configured;
}
