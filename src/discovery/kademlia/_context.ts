/** The state `Kademlia` shares with its inbound handlers and lookups. */
import type { HostPort } from "../../config/mod.ts";
import type { Logger } from "../../util/mod.ts";
import type { AnnounceTokens } from "./announce_tokens.ts";
import type { PendingRequests, Timers } from "./_pending.ts";
import type { ProviderStore } from "./provider_store.ts";
import type { RateLimiter } from "./rate_limiter.ts";
import type { RoutingTable } from "./routing_table.ts";
import type {
  KademliaDeps,
  KademliaStats,
  ResolvedKademliaOptions,
} from "./types.ts";
import type { KadResponse, KadRpc } from "./rpc_codec.ts";

/** What the handlers and lookups use. */
export interface KadContext {
  readonly deps: KademliaDeps;
  readonly options: ResolvedKademliaOptions;
  readonly log: Logger;
  readonly timers: Timers;
  readonly table: RoutingTable;
  readonly records: ProviderStore;
  readonly tokens: AnnounceTokens;
  readonly pending: PendingRequests;
  readonly limits: Record<
    "FIND_NODE" | "GET_PROVIDERS" | "PUT_PROVIDER",
    RateLimiter
  >;
  readonly stats: KademliaStats;
  /** Signs and sends one action; false when it could not be sent. */
  send(to: HostPort, rpc: KadRpc): Promise<boolean>;
  /** Sends a request and waits for the matching reply (null: none in time). */
  request(
    to: { nodeId: string; host: string; port: number },
    rpc: KadRpc,
    signal?: AbortSignal,
  ): Promise<KadResponse | null>;
}
