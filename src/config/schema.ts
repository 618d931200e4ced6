/** The validated configuration of a node, with every default of the reference. */

/** Who may call a skill. */
export type Visibility = "public" | "private" | "whitelist";

/** `[node]`. */
export interface NodeSection {
  /** Port to listen on; 0 picks a free one. Default 9000. */
  port: number;
  /** Interface to listen on. Default "0.0.0.0". */
  host: string;
  /** Absolute path of the SQLite database. */
  storage: string;
  /** Explicit advertised host, or null to auto-detect. */
  advertiseHost: string | null;
  /** Asset sidecar port: null = no sidecar (`sidecar_port = 0`), 0 = any free port. */
  sidecarPort: number | null;
  /** Largest asset the asset store accepts, in bytes. Default 104857600 (100 MiB). */
  maxAssetSize: number;
  /** Seconds; 0 = unlimited. */
  maxTaskTimeout: number;
  /** Tasks run at once; also the Worker limit per skill. Default 4. */
  taskSlots: number;
  /** Slow tasks that may wait for a slot; past it, requests get PROVIDER_BUSY. Default 100. */
  maxQueueDepth: number;
}

/** A `host:port` address. */
export interface HostPort {
  /** Host name or IP address. */
  host: string;
  /** TCP port. */
  port: number;
}

/** `[network]`. */
export interface NetworkSection {
  /** Peers to join at start. */
  bootstrap: HostPort[];
  /** Map the protocol and sidecar ports on the internet gateway through UPnP. Default false. */
  upnp: boolean;
  /** Peers each gossiped message is forwarded to (1 to 64). Default 3. */
  gossipFanout: number;
  /** Keep relay to be reached through (a relayed address is announced), or null (default). */
  relay: HostPort | null;
  /** Use `relay` "always" (default), or only when a peer cannot dial this node back ("unreachable"). */
  relayWhen: "always" | "unreachable";
  /** Peers kept at most (in memory and in the database). Default 4096. */
  maxPeers: number;
  /** Unconfirmed peers one remote address (IPv4, or IPv6 /64) may add through JOINs and ANNOUNCEs. Default 8. */
  maxPeersPerAddress: number;
  /** Loopback addresses are exempt from `maxPeersPerAddress`. Default true. */
  exemptLoopback: boolean;
  /** Skills of other nodes kept at most. Default 10000. */
  maxRemoteSkills: number;
  /** Skills of one other node kept at most. Default 64. */
  maxSkillsPerProvider: number;
  /** Received announcements passed on per second (a quarter of it per sending address). Default 20. */
  gossipForwardsPerSecond: number;
}

/** `[sidecar]`. */
export interface SidecarSection {
  /** Absolute path of the asset directory. */
  assetDir: string;
  /** Quota for all stored assets together, in bytes. Default 1073741824 (1 GiB). */
  maxTotalSize: number;
  /** Seconds an asset is kept after upload; 0 = assets never expire. Default 3600. */
  assetTtl: number;
  /** Who may upload: "any" key pair (default, as the original), "callers" or these node ids. */
  allowUploads: "any" | "callers" | string[];
  /** Request signatures remembered against replay at once. Default 100000. */
  replayMemory: number;
}

/** `[skills.<name>]`. */
export interface SkillConfig {
  /** Skill name, the key of its `[skills.<name>]` table. */
  name: string;
  /** Absolute path of the handler module. */
  handlerPath: string;
  /** Exported function name (default "handle"). */
  handlerExport: string;
  /** What the skill does (1 to 1024 characters), published in its sheet. */
  description: string;
  /** 1 to 10 lowercase tags queries can match. */
  tags: string[];
  /** Semantic version, e.g. "1.2.3". Default "1.0.0". */
  version: string;
  /** Input fields and their types, published in the sheet. */
  inputSchema: Record<string, unknown>;
  /** Output fields and their types, published in the sheet. */
  outputSchema: Record<string, unknown>;
  /** Who may call the skill. Default "public". */
  visibility: Visibility;
  /** Full node ids allowed to call a whitelist skill. */
  allowedNodes: string[];
  /** Credits charged to the caller per completed task. Default 1.0. */
  price: number;
  /** Largest accepted input, in bytes of wire JSON. Default 65536. */
  maxInputSize: number;
  /** Hosts or host:port the handler's Worker may reach. */
  net: string[];
  /** Absolute paths the handler's Worker may read. */
  read: string[];
  /** Answer TASK_STATUS accepted at once and push the result later. */
  slow: boolean;
  /** Optional `uri` carried in the skill sheet (as the original's sheets do). */
  uri: string | null;
}

/** One `[bridges]` entry. */
export interface BridgeConfig {
  /** Seconds a tool call may take. Default 30. */
  timeout: number;
  /** Tool names served (`tool_filter.allow`); null serves every tool. */
  allow: string[] | null;
  /** Tool names never served (`tool_filter.deny`), applied after `allow`. */
  deny: string[];
  /** Credits per call of each tool. Default 1. */
  price: number;
  /** Per-tool prices (by MCP tool name), over `price`. */
  prices: Record<string, number>;
}

/** `[policy]`. */
export interface PolicySection {
  /** Balance a peer starts with before its first task. Default 3.0. */
  initialCredit: number;
  /** Balance below which a peer's task requests are refused. Default -10.0. */
  minBalance: number;
  /** Peers that never ran a task for us may not go below a balance of 0. Default false. */
  titForTat: boolean;
}

/** `[relay]`: the keep relay router, also startable from `knarr serve`. */
export interface RelaySection {
  /** Start the relay inside `knarr serve`. */
  enabled: boolean;
  /** Interface the relay listens on. Default "0.0.0.0". */
  host: string;
  /** Port the relay listens on; 0 picks a free one. Default 9009. */
  port: number;
  /** Version string reported by `discover:info`. */
  version: string;
  /** Seconds between heartbeats to registered connections. */
  heartbeatInterval: number;
  /** Open connections allowed in total. Default 10000. */
  maxConnections: number;
  /** Open connections allowed per remote IP address. Default 1000. */
  maxConnectionsPerIp: number;
  /** Sustained packets per second per connection. */
  rateLimit: number;
  /** Burst size of the per-connection token bucket. */
  rateBurst: number;
  /** Frames queued for one receiver before it is disconnected as too slow. */
  maxQueue: number;
  /** Seconds a connection may stay without registering an identity. */
  idleTimeout: number;
  /** Seconds a single frame write may take. */
  writeTimeout: number;
  /** Pin each identity to the first public key that registers it. */
  bindIdentities: boolean;
  /** Who may take over an identity an open connection holds: "same_key" (default) or "any" (the original). */
  takeover: "same_key" | "any";
  /** Sign server replies and heartbeats with the relay's key (off = the original's exact unsigned frames). */
  signReplies: boolean;
  /** Absolute path of the relay's key file (kept across restarts), or null for a new key per start. */
  keyFile: string | null;
  /** Bytes queued for one receiver before it is disconnected as too slow. */
  maxQueueBytes: number;
  /** Bytes queued for all receivers together; over it, the one with the most is disconnected. */
  maxQueueBytesTotal: number;
}

/** `[cockpit]`: the operator's web page. */
export interface CockpitSection {
  /** Port: null = no cockpit (`port = 0`), 0 = any free port. Default: the protocol port + 2. */
  port: number | null;
  /** Interface it listens on. Default "127.0.0.1" (this machine only). */
  host: string;
}

/** The whole validated configuration. */
export interface KnarrConfig {
  /** Absolute path of the file it came from, or null for defaults only. */
  file: string | null;
  /** Directory relative paths are resolved against. */
  dir: string;
  /** `[node]`: listening address, storage and task limits. */
  node: NodeSection;
  /** `[network]`: bootstrap peers and gossip. */
  network: NetworkSection;
  /** `[sidecar]`: where assets are stored, how many, how long, and who may upload. */
  sidecar: SidecarSection;
  /** `[skills.<name>]` tables, in file order. */
  skills: SkillConfig[];
  /** MCP bridge commands and how each is served. */
  bridges: Record<string, BridgeConfig>;
  /** `[policy]`: the credit policy toward callers. */
  policy: PolicySection;
  /** `[relay]`: the keep relay. */
  relay: RelaySection;
  /** `[cockpit]`: the operator's web page. */
  cockpit: CockpitSection;
}

/** Default values of the reference. */
export const DEFAULTS = {
  node: {
    port: 9000,
    host: "0.0.0.0",
    storage: "node.db",
    maxAssetSize: 104_857_600,
    maxTaskTimeout: 3600,
    taskSlots: 4,
    maxQueueDepth: 100,
  },
  network: {
    upnp: false,
    gossipFanout: 3,
    relay: null,
    relayWhen: "always",
    maxPeers: 4096,
    maxPeersPerAddress: 8,
    exemptLoopback: true,
    maxRemoteSkills: 10_000,
    maxSkillsPerProvider: 64,
    gossipForwardsPerSecond: 20,
  },
  sidecar: {
    assetDir: "assets",
    maxTotalSize: 1_073_741_824,
    assetTtl: 3600,
    allowUploads: "any",
    replayMemory: 100_000,
  },
  skill: {
    handlerExport: "handle",
    version: "1.0.0",
    visibility: "public",
    price: 1.0,
    maxInputSize: 65_536,
  },
  policy: { initialCredit: 3.0, minBalance: -10.0, titForTat: false },
  cockpit: { host: "127.0.0.1" },
  relay: {
    enabled: false,
    host: "0.0.0.0",
    port: 9009,
    version: "0.5.0",
    heartbeatInterval: 60,
    maxConnections: 10_000,
    maxConnectionsPerIp: 1_000,
    rateLimit: 1_000,
    rateBurst: 2_000,
    maxQueue: 1_024,
    idleTimeout: 30,
    writeTimeout: 10,
    bindIdentities: false,
    takeover: "same_key",
    signReplies: true,
    maxQueueBytes: 8_388_608,
    maxQueueBytesTotal: 268_435_456,
  },
} as const;
