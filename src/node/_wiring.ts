/** How a node's parts are made and wired together (the composition root's body). */
import type { HostPort, KnarrConfig } from "../config/mod.ts";
import type { Identity } from "../crypto/mod.ts";
import {
  Discovery,
  Kademlia,
  KADEMLIA_PLUGIN,
  PeerTable,
  SkillTable,
  SYSTEM_CLOCK,
} from "../discovery/mod.ts";
import type {
  Messenger,
  RequestOptions,
  SelfAddress,
} from "../discovery/mod.ts";
import {
  type Database,
  DemandRepo,
  DisabledSkillRepo,
  GroupCommit,
  KadContactRepo,
  LedgerRepo,
  PeerRepo,
  SkillRepo,
  StorageHealth,
  TaskRepo,
  TaskResultRepo,
} from "../store/mod.ts";
import { TaskConsumer, TaskProvider } from "../tasks/mod.ts";
import type { Logger } from "../util/mod.ts";
import { MAX_FRAME_BYTES, signMessage } from "../wire/mod.ts";
import type { Message, MessageFields, MessageType } from "../wire/mod.ts";
import { NodeDht } from "./_dht.ts";
import { LocalSkills } from "./_local_skills.ts";
import { NodeMessages } from "./_messages.ts";
import { NodeAssets } from "./node_assets.ts";
import { NodeMetrics } from "./node_metrics.ts";
import { SkillSwitches } from "./skill_switches.ts";
import { DEFAULT_POLICY } from "./node_options.ts";
import type { KnarrNodeOptions, NodeStats } from "./node_options.ts";
import { ReachCheck } from "./reach_check.ts";
import { RelayTransport } from "./relay_transport.ts";
import { TcpTransport } from "./transport.ts";
import { type InboundSizeState, largestInbound } from "./_inbound_size.ts";
import type { Transport } from "./transport.ts";

/** What the parts need from the node itself. */
export interface NodeHooks {
  log: Logger;
  stats: NodeStats;
  sendMessage<T extends MessageType>(
    to: HostPort,
    type: T,
    fields: MessageFields<T>,
    options?: RequestOptions,
  ): Promise<Message | null>;
  sendSigned(
    to: HostPort,
    message: Message,
    options?: RequestOptions,
  ): Promise<Message | null>;
}

/** A node's parts. */
export interface NodeParts {
  transport: Transport;
  self: SelfAddress;
  ledger: LedgerRepo;
  tasks: TaskRepo;
  commits: GroupCommit;
  /** Whether the store takes writes (paid tasks are refused while it does not). */
  storage: StorageHealth;
  local: LocalSkills;
  provider: TaskProvider;
  consumer: TaskConsumer;
  discovery: Discovery;
  assets: NodeAssets;
  messages: NodeMessages;
  dht: NodeDht;
  metrics: NodeMetrics;
  switches: SkillSwitches;
}

/** Makes the parts of a node over its open store and identity. */
export function wireNode(
  db: Database,
  identity: Identity,
  options: KnarrNodeOptions,
  hooks: NodeHooks,
): NodeParts {
  const log = hooks.log;
  const direct = options.transport ?? new TcpTransport({
    ...(options.maxConnections
      ? { maxConnections: options.maxConnections }
      : {}),
    ...(options.maxConnectionsPerAddress
      ? { maxConnectionsPerAddress: options.maxConnectionsPerAddress }
      : {}),
    ...(options.idleTimeoutMs ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
    // A frame larger than any message type may be now is refused before it is read.
    frameLimit: () => late.sizes ? largestInbound(late.sizes) : MAX_FRAME_BYTES,
    onMalformed: (host, reason) =>
      late.messages?.reject(
        reason.includes("exceeds maximum") ? "too large" : "truncated frame",
        `from ${host}: ${reason}`,
      ),
    logger: log,
  });
  // Relayed addresses go through their relay; plain ones through `direct` as before.
  const transport = new RelayTransport({ inner: direct, logger: log });
  const self: SelfAddress = {
    nodeId: identity.nodeId,
    publicKey: identity.publicKey,
    host: options.advertiseHost ?? options.host ?? "127.0.0.1",
    port: options.port ?? 0,
    sidecarPort: 0,
  };
  const messenger: Messenger = {
    request: (to, type, fields, opts) =>
      hooks.sendMessage(to, type, fields, opts),
    forward: (to, message, opts) => hooks.sendSigned(to, message, opts),
  };
  const clock = options.clock ?? SYSTEM_CLOCK;
  const ledger = new LedgerRepo(db);
  const tasks = new TaskRepo(db);
  const commits = new GroupCommit(db);
  const storage = new StorageHealth(db, { logger: log.child("store") });
  const policy = { ...DEFAULT_POLICY, ...options.policy };
  // Made below; the closures read them at run time.
  const late: {
    sizes?: InboundSizeState;
    messages?: NodeMessages;
    discovery?: Discovery;
    assets?: NodeAssets;
    provider?: TaskProvider;
  } = {};
  const switches = new SkillSwitches(new DisabledSkillRepo(db));
  const metrics = new NodeMetrics({
    stats: hooks.stats,
    peers: () => late.discovery?.peers.size ?? 0,
    skills: () => {
      const all = late.discovery?.skills;
      const own = all?.own().length ?? 0;
      return { own, known: (all?.size ?? 0) - own };
    },
    load: () => ({
      running: late.provider?.load ?? 0,
      queued: late.provider?.queued ?? 0,
    }),
  });
  const local = new LocalSkills({
    nodeId: identity.nodeId,
    skills: () => late.discovery!.skills,
    runner: options.runner,
    assets: () => late.assets!,
    switches,
  });
  const send = <T extends "TASK_REQUEST" | "TASK_RESULT">(
    to: HostPort,
    type: T,
    fields: MessageFields<T>,
    opts: RequestOptions,
  ) => hooks.sendMessage(to, type, fields, opts);
  const provider = new TaskProvider({
    selfNodeId: identity.nodeId,
    executor: local,
    ledger,
    tasks,
    clock,
    send,
    resolveAssets: (input, caller) => late.assets!.fetchMissing(input, caller),
    commit: (write, opts) => storage.track(commits.write(write, opts)),
    results: new TaskResultRepo(db),
    storage,
    logger: log.child("tasks"),
    metrics: metrics.tasks,
  }, policy);
  late.provider = provider;
  const consumer = new TaskConsumer({
    self: () => self,
    send,
    nodeIdOf: (pk) => late.discovery!.nodeIdOf(pk),
    ledger,
    tasks,
    clock,
    logger: log.child("tasks"),
    commit: (write) => storage.track(commits.write(write)),
    storage,
  }, policy);
  const peers = new PeerTable(identity.nodeId, new PeerRepo(db), {
    // In-memory networks (simulations) have no remote addresses to tell apart.
    ...(options.transport ? { maxPeersPerAddress: null } : {}),
    ...options.peers,
  });
  const discovery: Discovery = new Discovery({
    self,
    signer: identity,
    messenger,
    clock,
    balanceOf: (nodeId): number => {
      const pk = late.discovery!.peers.get(nodeId)?.publicKey;
      return pk ? (ledger.get(pk)?.balance ?? 0) : 0;
    },
    load: () => provider.load,
    peers,
    // A full skill table keeps the skills of peers that answered us.
    skills: new SkillTable(new SkillRepo(db), {
      ...options.skills,
      keep: (nodeId) => peers.isConfirmed(nodeId),
      // A lost write loses a cached remote skill, which its provider re-announces.
      deferWrite: (write) => {
        commits.write(write).catch((error) =>
          log.debug(`Cannot store a remote skill: ${(error as Error).message}`)
        );
      },
    }),
    demand: new DemandRepo(db),
    logger: log.child("discovery"),
  }, {
    // In-memory networks (simulations) run faster than real time: no forward budget.
    ...(options.transport ? { forwardsPerSecond: null } : {}),
    ...options.discovery,
  });
  const assets = new NodeAssets({
    identity,
    db,
    assets: options.assets ?? null,
    discovery,
    ledger,
    logger: log,
  });
  late.discovery = discovery;
  late.assets = assets;
  const kademlia = new Kademlia({
    self,
    signer: identity,
    clock,
    // Fire-and-forget: the answer comes back as a message of its own.
    send: async (to, action, payload) => {
      const message = await signMessage("PLUGIN_MESSAGE", {
        node_id: identity.nodeId,
        plugin_name: KADEMLIA_PLUGIN,
        action,
        payload,
      }, identity);
      await hooks.sendSigned(to, message as Message, { timeoutMs: 2_000 });
    },
    addressOf: (nodeId) => discovery.peers.get(nodeId),
    seedPeers: () => discovery.peers.sample(64),
    store: new KadContactRepo(db),
    logger: log.child("kademlia"),
  }, options.kademlia);
  const dht = new NodeDht({
    kademlia,
    discovery,
    clock,
    log,
    sendMessage: (to, type, fields, opts) =>
      hooks.sendMessage(to, type, fields, opts),
  });
  hooks.stats.kademlia = kademlia.stats;
  hooks.stats.dht = dht.stats;
  const sizes: InboundSizeState = {
    largestInput: () => discovery.skills.largestOwnInput(),
    awaitingResults: () => consumer.awaiting > 0,
  };
  late.sizes = sizes;
  const messages = late.messages = new NodeMessages({
    identity,
    transport,
    // In-memory networks (simulations) have no remote addresses to tell apart.
    requestRate: options.transport
      ? null
      : options.requestRatePerAddress === undefined
      ? { ratePerSecond: 50, burst: 200 }
      : options.requestRatePerAddress,
    requestRateTotal: options.transport
      ? null
      : options.requestRateTotal === undefined
      ? { ratePerSecond: 200, burst: 500 }
      : options.requestRateTotal,
    stats: hooks.stats,
    metrics,
    log,
    discovery,
    provider,
    consumer,
    dht,
    sizes,
    reach: new ReachCheck({
      nodeId: identity.nodeId,
      send: (to, type, fields, opts) =>
        hooks.sendMessage(to, type, fields, opts),
      log,
    }),
  });
  return {
    transport,
    self,
    ledger,
    tasks,
    commits,
    storage,
    local,
    provider,
    consumer,
    discovery,
    assets,
    messages,
    dht,
    metrics,
    switches,
  };
}

/** `KnarrNode.create` options from a validated configuration, under the caller's own. */
export function nodeOptionsFromConfig(
  config: KnarrConfig,
  options: Omit<KnarrNodeOptions, "storage" | "host" | "port">,
): KnarrNodeOptions {
  return {
    storage: config.node.storage,
    host: config.node.host,
    port: config.node.port,
    advertiseHost: config.node.advertiseHost,
    ...(config.node.sidecarPort !== null && options.assets
      ? {
        sidecar: {
          host: config.node.host,
          port: config.node.sidecarPort,
          allowUploads: config.sidecar.allowUploads,
          replayMemory: config.sidecar.replayMemory,
        },
      }
      : {}),
    ...options,
    discovery: {
      fanout: config.network.gossipFanout,
      forwardsPerSecond: config.network.gossipForwardsPerSecond,
      ...options.discovery,
    },
    peers: {
      maxPeers: config.network.maxPeers,
      maxPeersPerAddress: config.network.maxPeersPerAddress,
      exemptLoopback: config.network.exemptLoopback,
      ...options.peers,
    },
    skills: {
      maxRemoteSkills: config.network.maxRemoteSkills,
      maxSkillsPerProvider: config.network.maxSkillsPerProvider,
      ...options.skills,
    },
    policy: {
      initialCredit: config.policy.initialCredit,
      minBalance: config.policy.minBalance,
      titForTat: config.policy.titForTat,
      maxQueueDepth: config.node.maxQueueDepth,
      maxTaskTimeout: config.node.maxTaskTimeout,
      ...options.policy,
    },
  };
}
