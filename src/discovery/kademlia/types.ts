/** The public shapes of the Kademlia DHT: collaborators, options, counters, traces. */
import type { HostPort } from "../../config/mod.ts";
import type { Logger } from "../../util/mod.ts";
import type { Signer } from "../../wire/mod.ts";
import type { Clock } from "../types.ts";
import type { Timers } from "./_pending.ts";
import type { ContactStore } from "./routing_table.ts";
import type { WireProvider } from "./rpc_codec.ts";

/** Collaborators of `Kademlia`. */
export interface KademliaDeps {
  /** This node: id, advertised address and sidecar port. */
  self: { nodeId: string; host: string; port: number; sidecarPort: number };
  /** Signs provider records. */
  signer: Signer;
  /** Time source (unix seconds). */
  clock: Clock;
  /** Timers for request deadlines; default the global ones. */
  timers?: Timers;
  /** Signs a `knarr-kademlia` PLUGIN_MESSAGE and sends it; fire-and-forget, may throw. */
  send(to: HostPort, action: string, payload: string): Promise<void>;
  /** A node's address from the peer table, when known. */
  addressOf?(nodeId: string): HostPort | undefined;
  /** Known peers to seed an empty routing table from (the peer table). */
  seedPeers?(): { nodeId: string; host: string; port: number }[];
  /** Durable copy of the routing table; default none. */
  store?: ContactStore | null;
  /** Default: silent. */
  logger?: Logger;
}

/** Protocol constants and limits of `Kademlia` (defaults from the original plugin). */
export interface KademliaOptions {
  /** Bucket size and replication factor. Default 20. */
  k?: number;
  /** Parallel queries per lookup round. Default 3. */
  alpha?: number;
  /** Disjoint lookup paths (S/Kademlia). Default 3. */
  disjointPaths?: number;
  /** Lookup rounds at most. Default 20. */
  maxRounds?: number;
  /** Deadline of a whole lookup in ms. Default 5 000. */
  lookupTimeoutMs?: number;
  /** Deadline of one request in ms. Default 1 000. */
  rpcTimeoutMs?: number;
  /** Provider record lifetime in seconds. Default 1 800. */
  recordTtlS?: number;
  /** Provider records held at most. Default 50 000. */
  maxRecords?: number;
  /** "full" stores records put to it; "passive" only answers. Default "full". */
  mode?: "full" | "passive";
  /** PUT_PROVIDER per peer per minute. Default 10. */
  putsPerMinute?: number;
  /** FIND_NODE and GET_PROVIDERS per peer per minute (each). Default 120. */
  queriesPerMinute?: number;
  /** Contacts per host per bucket. Default 2. */
  maxPerHost?: number;
  /** Exempt loopback hosts from `maxPerHost`. Default true. */
  exemptLoopback?: boolean;
}

/** {@linkcode KademliaOptions} with defaults filled in. */
export type ResolvedKademliaOptions = Required<KademliaOptions>;

/** Fills in the defaults. */
export function resolveKademliaOptions(
  o: KademliaOptions = {},
): ResolvedKademliaOptions {
  return {
    k: o.k ?? 20,
    alpha: o.alpha ?? 3,
    disjointPaths: o.disjointPaths ?? 3,
    maxRounds: o.maxRounds ?? 20,
    lookupTimeoutMs: o.lookupTimeoutMs ?? 5_000,
    rpcTimeoutMs: o.rpcTimeoutMs ?? 1_000,
    recordTtlS: o.recordTtlS ?? 1_800,
    maxRecords: o.maxRecords ?? 50_000,
    mode: o.mode ?? "full",
    putsPerMinute: o.putsPerMinute ?? 10,
    queriesPerMinute: o.queriesPerMinute ?? 120,
    maxPerHost: o.maxPerHost ?? 2,
    exemptLoopback: o.exemptLoopback ?? true,
  };
}

/** Counters since start. */
export interface KademliaStats {
  /** Lookups started. */
  lookups: number;
  /** Lookups that found nothing (providers lookups) or no node (node lookups). */
  lookupFailures: number;
  /** Lookup rounds in all. */
  rounds: number;
  /** Requests sent by lookups, puts and pings. */
  requestsSent: number;
  /** Requests that got no reply in time. */
  timeouts: number;
  /** Replies sent to others' requests. */
  repliesSent: number;
  /** Inbound messages dropped (undecodable, over a limit, unsolicited, refused). */
  dropped: number;
  /** Provider records stored for others. */
  recordsStored: number;
}

/** One request of a lookup, as `--trace` shows it. */
export interface LookupStep {
  /** Round number, from 1. */
  round: number;
  /** Disjoint path index, from 0. */
  path: number;
  /** Who was asked. */
  nodeId: string;
  /** Its address. */
  host: string;
  /** Its port. */
  port: number;
  /** What came back. */
  outcome: "peers" | "providers" | "timeout";
  /** Peers it returned. */
  peers: number;
  /** Provider records it returned. */
  providers: number;
  /** Milliseconds until the reply (or the deadline). */
  latencyMs: number;
}

/** What a lookup found and how. */
export interface LookupOutcome {
  /** Verified, de-duplicated provider records. */
  providers: WireProvider[];
  /** The closest nodes that answered, closest first, with their announce tokens. */
  closest: { nodeId: string; host: string; port: number; token: string }[];
  /** Rounds used. */
  rounds: number;
  /** Requests sent. */
  requests: number;
  /** Requests unanswered. */
  timeouts: number;
  /** Every request, in order. */
  steps: LookupStep[];
}
