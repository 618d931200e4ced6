/** The shapes of the node's public API: options, runners, handlers, policy defaults, counters. */
import type { AssetStore } from "../assets/mod.ts";
import type { Visibility } from "../config/mod.ts";
import type { Identity } from "../crypto/mod.ts";
import type {
  Clock,
  DiscoveryOptions,
  KademliaOptions,
  KademliaStats,
  PeerTableOptions,
  Reply,
  SkillTableOptions,
} from "../discovery/mod.ts";
import type { DhtStats } from "./_dht.ts";
import type { RunContext, RunOutcome, TaskPolicy } from "../tasks/mod.ts";
import type { Logger, RateLimiterOptions } from "../util/mod.ts";
import type { JsonObject, Message } from "../wire/mod.ts";
import type { NodeSidecarOptions } from "./node_assets.ts";
import type { Transport } from "./transport.ts";

/** Options for `KnarrNode.create`. */
export interface KnarrNodeOptions {
  /** SQLite file, or ":memory:" (default) for a node that forgets everything. */
  storage?: string;
  /** Interface to listen on. Default "127.0.0.1". */
  host?: string;
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /** Address announced to others; default: the bound host, or detected when bound to 0.0.0.0. */
  advertiseHost?: string | null;
  /** The node's asset directory (task inputs, `ctx.storeAsset`, the sidecar). Default: none. */
  assets?: AssetStore;
  /** Runs the asset sidecar over `assets` on `start()`. Default: no sidecar. */
  sidecar?: NodeSidecarOptions;
  /** Transport; default real TCP. */
  transport?: Transport;
  /** Discovery timings and limits. */
  discovery?: DiscoveryOptions;
  /**
   * Peer table limits. Default: 4,096 peers, 8 unconfirmed ones added per remote address
   * (no per-address cap on a custom transport), loopback exempt.
   */
  peers?: PeerTableOptions;
  /** Remote skill limits. Default: 10,000 remote skills, 64 per provider. */
  skills?: Omit<SkillTableOptions, "keep">;
  /** Kademlia DHT constants and limits (defaults: the original plugin's). */
  kademlia?: KademliaOptions;
  /** Inbound connection limits (TCP transport). */
  maxConnections?: number;
  /** Inbound connections allowed per remote address (TCP transport). Default 64. */
  maxConnectionsPerAddress?: number;
  /** Milliseconds an inbound connection may stay idle (TCP transport). Default 120000. */
  idleTimeoutMs?: number;
  /**
   * JOIN_REQUEST, SYNC_REQUEST, QUERY, ANNOUNCE and DEREGISTER messages one remote address may
   * send, together (TCP transport); over it they are dropped and the connection closed. Null:
   * no limit. Default 50 a second, 200 at once.
   */
  requestRatePerAddress?: RateLimiterOptions | null;
  /**
   * The same messages from all addresses together (TCP transport), after each address's
   * own rate: floods from many addresses take at most this share of the node. Honest
   * discovery stays far below it (a node with 4,096 peers gets about 35 peer-exchange
   * JOINs a second). Null: no limit. Default 200 a second, 500 at once.
   */
  requestRateTotal?: RateLimiterOptions | null;
  /** Unix-seconds clock for discovery and tasks. Default: the system clock. */
  clock?: Clock;
  /** Where the node logs. Default: silent. */
  logger?: Logger;
  /** Use this identity instead of the database's. */
  identity?: Identity;
  /** Credit and capacity policy (defaults: the config reference). */
  policy?: Partial<TaskPolicy>;
  /** Runs configured skill files (the Worker sandbox); in-process handlers need none. */
  runner?: SkillRunner;
}

/** Runs skills that are not in-process handlers (the Worker sandbox implements it). */
export interface SkillRunner {
  /** True when the runner has a skill of this name loaded. */
  has(name: string): boolean;
  /** Runs a skill; handler faults resolve as an outcome, not a throw. */
  run(name: string, input: JsonObject, ctx: RunContext): Promise<RunOutcome>;
  /** Runs of a skill at once (a sandboxed skill's Worker pool size); default: the policy's. */
  slots?(name: string): number | undefined;
}

/** An in-process handler: not sandboxed, runs with the node's own permissions. */
export type InProcessHandler = (
  input: JsonObject,
  ctx: { callerNodeId: string; jobId: string; signal: AbortSignal },
) => Promise<JsonObject> | JsonObject;

/** How an own skill may be called. */
export interface SkillAccess {
  /** Who may call the skill. Default "public". */
  visibility?: Visibility;
  /** Node ids allowed to call a whitelist skill. */
  allowedNodes?: readonly string[];
  /** Answer TASK_STATUS accepted at once and push the result when done. */
  slow?: boolean;
}

/** Options for `KnarrNode.start`. */
export interface StartOptions {
  /** Run heartbeats, expiry and re-announce (default true); tests turn it off. */
  maintenance?: boolean;
  /** Messages received before this settles wait for it (the node's skills are loading). */
  ready?: Promise<unknown>;
}

/** Default policy: the config reference's defaults. */
export const DEFAULT_POLICY: TaskPolicy = {
  initialCredit: 3.0,
  minBalance: -10.0,
  titForTat: false,
  taskSlots: 64,
  maxQueueDepth: 100,
  maxTaskTimeout: 3600,
};

/** Counters of messages refused by this node. */
export interface NodeStats {
  /** Messages dropped, by reason ("unsigned", "bad signature", "node_id mismatch", "malformed", …). */
  rejected: Record<string, number>;
  /** Verified messages handled. */
  handled: number;
  /** Kademlia counters: lookups, rounds, requests, timeouts, failures (set when wired). */
  kademlia?: KademliaStats;
  /** How queries went: answered by the DHT or fallen back (set when wired). */
  dht?: DhtStats;
}

/** Handles TASK_REQUEST and other task messages; installed by the tasks layer. */
export type TaskMessageHandler = (
  message: Message,
  senderNodeId: string,
  remoteHost: string,
) => Promise<Reply | null>;
