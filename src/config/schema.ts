/** The validated configuration of a node, with every default of the reference. */

/** Who may call a skill. */
export type Visibility = "public" | "private" | "whitelist";

/** `[node]`. */
export interface NodeSection {
  port: number;
  host: string;
  /** Absolute path of the SQLite database. */
  storage: string;
  /** Explicit advertised host, or null to auto-detect. */
  advertiseHost: string | null;
  /** Asset sidecar port; 0 disables. */
  sidecarPort: number;
  maxAssetSize: number;
  /** Seconds; 0 = unlimited. */
  maxTaskTimeout: number;
  taskSlots: number;
  maxQueueDepth: number;
}

/** A `host:port` address. */
export interface HostPort {
  host: string;
  port: number;
}

/** `[network]`. */
export interface NetworkSection {
  bootstrap: HostPort[];
  upnp: boolean;
  gossipFanout: number;
}

/** `[sidecar]`. */
export interface SidecarSection {
  /** Absolute path of the asset directory. */
  assetDir: string;
}

/** `[skills.<name>]`. */
export interface SkillConfig {
  name: string;
  /** Absolute path of the handler module. */
  handlerPath: string;
  /** Exported function name (default "handle"). */
  handlerExport: string;
  description: string;
  tags: string[];
  version: string;
  inputSchema: Record<string, unknown>;
  outputSchema: Record<string, unknown>;
  visibility: Visibility;
  /** Full node ids allowed to call a whitelist skill. */
  allowedNodes: string[];
  price: number;
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

/** `[policy]`. */
export interface PolicySection {
  initialCredit: number;
  minBalance: number;
  titForTat: boolean;
}

/** `[relay]`: the keep relay router, also startable from `knarr serve`. */
export interface RelaySection {
  /** Start the relay inside `knarr serve`. */
  enabled: boolean;
  host: string;
  port: number;
  /** Version string reported by `discover:info`. */
  version: string;
  /** Seconds between heartbeats to registered connections. */
  heartbeatInterval: number;
  maxConnections: number;
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
  /** Sign server replies and heartbeats with the relay's key (off = the original's exact unsigned frames). */
  signReplies: boolean;
  /** Absolute path of the relay's key file (kept across restarts), or null for a new key per start. */
  keyFile: string | null;
  /** Bytes queued for one receiver before it is disconnected as too slow. */
  maxQueueBytes: number;
}

/** The whole validated configuration. */
export interface KnarrConfig {
  /** Absolute path of the file it came from, or null for defaults only. */
  file: string | null;
  /** Directory relative paths are resolved against. */
  dir: string;
  node: NodeSection;
  network: NetworkSection;
  sidecar: SidecarSection;
  skills: SkillConfig[];
  /** MCP bridge commands and their timeouts in seconds. */
  bridges: Record<string, number>;
  policy: PolicySection;
  relay: RelaySection;
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
  network: { upnp: true, gossipFanout: 3 },
  sidecar: { assetDir: "assets" },
  skill: {
    handlerExport: "handle",
    version: "1.0.0",
    visibility: "public",
    price: 1.0,
    maxInputSize: 65_536,
  },
  policy: { initialCredit: 3.0, minBalance: -10.0, titForTat: false },
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
    signReplies: true,
    maxQueueBytes: 8_388_608,
  },
} as const;
