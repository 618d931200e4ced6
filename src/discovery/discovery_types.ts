/** The public shapes of {@linkcode Discovery}: collaborators, counters, replies, queries, joins. */
import type { HostPort } from "../config/mod.ts";
import type { DemandRepo } from "../store/mod.ts";
import type { Logger } from "../util/mod.ts";
import type {
  JsonObject,
  MessageFields,
  MessageType,
  Signer,
} from "../wire/mod.ts";
import type { PeerTable } from "./peer_table.ts";
import type { SkillTable } from "./skill_table.ts";
import type { Clock, Messenger, SelfAddress } from "./types.ts";

/** A reply for the node to sign and send (`msgId` reuses the request's, as ACKs do). */
export interface Reply<T extends MessageType = MessageType> {
  /** Message type of the reply. */
  type: T;
  /** Fields of the reply; the node adds the envelope and signs. */
  fields: MessageFields<T>;
  /** Request `msg_id` to reuse in the reply; a fresh one when absent. */
  msgId?: string;
}

/** One query result, as QUERY_RESPONSE and `knarr query --json` show it. */
export interface QueryResult {
  /** Provider's node id (64 lowercase hex). */
  node_id: string;
  /** Host where the provider takes tasks. */
  host: string;
  /** Port where the provider takes tasks. */
  port: number;
  /** The provider's skill sheet; `query()` drops `_`-prefixed keys. */
  skill_sheet: JsonObject;
  /** Provider's asset sidecar port; 0 when it has none. */
  sidecar_port: number;
}

/** A query: by exact skill name, by tag, or everything. */
export type QuerySpec = { name: string } | { tag: string } | { all: true };

/** Options for {@linkcode Discovery.query}. */
export interface QueryOptions {
  /** Overall deadline in ms. Default: the discovery's queryTimeoutMs. */
  timeoutMs?: number;
  /** Ask the network too (default true); false answers from local storage only. */
  network?: boolean;
  /** Cancels the query; results gathered so far are kept. */
  signal?: AbortSignal;
}

/** Collaborators of {@linkcode Discovery}. */
export interface DiscoveryDeps {
  /** This node's advertised address, put in the messages it signs. */
  self: SelfAddress;
  /** Signs outgoing messages with the node's identity. */
  signer: Signer;
  /** Sends a message to a peer and returns its reply. */
  messenger: Messenger;
  /** The time in unix seconds. */
  clock: Clock;
  /** Known peers, persisted. */
  peers: PeerTable;
  /** Own and remote skills, persisted. */
  skills: SkillTable;
  /** Where zero-result queries are recorded; null records nothing. */
  demand: DemandRepo | null;
  /** Default: silent. */
  logger?: Logger;
  /** Our ledger balance with a provider, for ranking. */
  balanceOf?: (nodeId: string) => number;
  /** Our current load (busy task slots), reported in heartbeats and results. */
  load?: () => number;
}

/** What a join achieved. */
export interface JoinOutcome {
  /** The bootstrap that answered, or null when none did. */
  via: HostPort | null;
  /** Peers from the JOIN_RESPONSE that were new to the peer table. */
  peersAdded: number;
  /** Skills learned from the follow-up sync with the bootstrap. */
  skillsSynced: number;
  /** One message per bootstrap that could not be joined. */
  errors: string[];
}

/** Counters for tests, benchmarks and `info`. */
export interface DiscoveryStats {
  /** ANNOUNCE messages received. */
  announcesReceived: number;
  /** ANNOUNCE and DEREGISTER messages passed on to peers. */
  announcesForwarded: number;
  /** ANNOUNCE and DEREGISTER messages not passed on: the forward budget was spent. */
  forwardsDropped: number;
  /** QUERY messages answered from local storage. */
  queriesAnswered: number;
  /** QUERY messages sent to peers by `query()`. */
  queryMessagesSent: number;
}
