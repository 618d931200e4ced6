/** What the cockpit shows and does, as plain data; the node implements {@linkcode CockpitSource}. */

/** One labelled address of the node (listening, advertised, sidecar, relayed…). */
export interface AddressView {
  /** What the address is. */
  label: string;
  /** `host:port` or a URL. */
  value: string;
}

/** The node itself. */
export interface NodeView {
  /** Node id, 64 hex characters. */
  nodeId: string;
  /** Public key, 64 hex characters. */
  publicKey: string;
  /** knarr version. */
  version: string;
  /** Unix milliseconds when the node started. */
  startedAt: number;
  /** Where it listens and how others reach it. */
  addresses: AddressView[];
  /** Whether peers can dial it (or how it is reached). */
  reachability: string;
  /** UPnP state: off, mapped ports or why not. */
  upnp: string;
  /** Tasks running and waiting for a slot. */
  load: { running: number; queued: number };
  /** Messages dropped unanswered, by reason. */
  rejected: Record<string, number>;
}

/** A peer of the peer table. */
export interface PeerView {
  /** Node id. */
  nodeId: string;
  /** Host it listens on. */
  host: string;
  /** Port it listens on. */
  port: number;
  /** Unix seconds of the last contact. */
  lastSeen: number;
  /** Average round trip of our requests to it in ms, or null when never measured. */
  latencyMs: number | null;
  /** Its last reported load, or null. */
  load: number | null;
  /** Skills it offers in our skill table. */
  skills: number;
}

/** One of this node's own skills. */
export interface OwnSkillView {
  /** Skill name. */
  name: string;
  /** Its version. */
  version: string;
  /** Its description. */
  description: string;
  /** Credits per call. */
  price: number;
  /** public, private or whitelist. */
  visibility: string;
  /** False when the operator disabled it. */
  enabled: boolean;
  /** Tasks completed since start. */
  completed: number;
  /** Tasks failed or refused since start. */
  failed: number;
  /** Failures by error code. */
  errors: Record<string, number>;
  /** Median run time in ms, NaN without runs. */
  p50Ms: number;
  /** 99th percentile run time in ms, NaN without runs. */
  p99Ms: number;
  /** Hot reload: "loaded", "reloaded at …", "reload failed: …" or "" (not a file skill). */
  reload: string;
}

/** A skill of another node. */
export interface KnownSkillView {
  /** Skill name. */
  name: string;
  /** Provider node id. */
  provider: string;
  /** Provider address. */
  host: string;
  /** Provider port. */
  port: number;
  /** Its version (as announced). */
  version: string;
  /** Its description (as announced). */
  description: string;
  /** Credits per call. */
  price: number;
  /** Its tags. */
  tags: string[];
}

/** A task this node ended as a provider. */
export interface TaskView {
  /** Order in which tasks ended. */
  seq: number;
  /** Unix milliseconds when it ended. */
  at: number;
  /** The task id. */
  taskId: string;
  /** The skill asked for. */
  skill: string;
  /** The caller's node id. */
  caller: string;
  /** "completed" or "failed". */
  status: string;
  /** Error code of a failed task, "" otherwise. */
  code: string;
  /** Run time in ms, null when it never ran. */
  wallMs: number | null;
  /** Credits charged. */
  price: number;
}

/** A ledger account. */
export interface LedgerView {
  /** The peer's public key. */
  peer: string;
  /** Its balance with us. */
  balance: number;
  /** Tasks we ran for it. */
  provided: number;
  /** Tasks it ran for us. */
  consumed: number;
  /** Unix seconds of the last change. */
  updatedAt: number;
}

/** How a provider served our requests (the last 30 days). */
export interface ReputationView {
  /** Provider node id. */
  provider: string;
  /** Tasks asked of it. */
  total: number;
  /** Completed share, 0…1. */
  successRate: number;
  /** Average run time in ms, or null. */
  avgWallMs: number | null;
  /** Unix seconds of the last task. */
  lastInteraction: number;
}

/** A query that found nothing. */
export interface DemandView {
  /** Skill name or tag asked for. */
  value: string;
  /** "name" or "tag". */
  type: string;
  /** How often. */
  count: number;
  /** Unix seconds of the last time. */
  lastSeen: number;
}

/** The asset directory. */
export interface AssetsView {
  /** Bytes stored. */
  totalBytes: number;
  /** Quota in bytes. */
  quotaBytes: number;
  /** Number of assets. */
  count: number;
  /** Seconds an asset is kept, 0 = forever. */
  ttlSeconds: number;
  /** The newest assets. */
  items: {
    hash: string;
    size: number;
    uploadedAt: number;
    downloads: number;
  }[];
}

/** The embedded keep relay. */
export interface RelayView {
  /** Where it listens. */
  address: string;
  /** Open connections. */
  connections: number;
  /** Identities registered. */
  agents: number;
  /** Counters since start, by name. */
  totals: Record<string, number>;
  /** Per-second rates over the last interval, by name. */
  rates: Record<string, number>;
}

/** One 10 s point of the last hour. */
export interface SeriesPointView {
  /** Unix seconds at the slot's start. */
  at: number;
  /** Tasks ended in the slot. */
  count: number;
  /** Median run time in ms, NaN without runs. */
  p50Ms: number;
  /** 99th percentile run time in ms, NaN without runs. */
  p99Ms: number;
}

/** Everything the cockpit reads and the actions it performs. */
export interface CockpitSource {
  /** The node. */
  node(): NodeView;
  /** The peer table. */
  peers(): PeerView[];
  /** This node's skills. */
  ownSkills(): OwnSkillView[];
  /** Other nodes' skills. */
  knownSkills(): KnownSkillView[];
  /** Tasks ended after `afterSeq` (the last ones kept), oldest first. */
  tasks(afterSeq: number): TaskView[];
  /** Ledger accounts. */
  ledger(): LedgerView[];
  /** Provider history. */
  reputation(): ReputationView[];
  /** Unmet demand. */
  demand(): DemandView[];
  /** The asset directory, or null without one. */
  assets(): AssetsView | null;
  /** The embedded relay, or null when it is not enabled. */
  relay(): RelayView | null;
  /** Tasks and run times of the last hour. */
  series(): SeriesPointView[];
  /** The Prometheus text page. */
  metrics(): string;
  /** Enables or disables an own skill; false when there is no such own skill. */
  setSkillEnabled(name: string, enabled: boolean): boolean;
  /** Forgets a peer and its skills; false when unknown. */
  dropPeer(nodeId: string): boolean;
  /** Deletes an asset; false when it is not stored. */
  deleteAsset(hash: string): Promise<boolean>;
}
