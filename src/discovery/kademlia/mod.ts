/** Kademlia DHT: XOR routing table, provider records, iterative lookups, `knarr-kademlia` RPCs. */
export { AnnounceTokens, TOKEN_WINDOW_S } from "./announce_tokens.ts";
export {
  bucketIndex,
  ID_BITS,
  sortByDistance,
  xorDistance,
} from "./distance.ts";
export { Kademlia } from "./kademlia.ts";
export type { FindProvidersOptions } from "./kademlia.ts";
export { PendingRequests, SYSTEM_TIMERS } from "./_pending.ts";
export type { Timers } from "./_pending.ts";
export { ProviderStore } from "./provider_store.ts";
export type { ProviderRecord, ProviderStoreOptions } from "./provider_store.ts";
export { RateLimiter } from "./rate_limiter.ts";
export type { RateLimiterOptions } from "./rate_limiter.ts";
export { signRecord, verifyRecord } from "./record_proof.ts";
export { RoutingTable } from "./routing_table.ts";
export type {
  AddOutcome,
  Contact,
  ContactStore,
  RoutingTableDeps,
  RoutingTableOptions,
} from "./routing_table.ts";
export { decodeRpc, encodeRpc, KADEMLIA_PLUGIN } from "./rpc_codec.ts";
export type {
  KadRpc,
  RecordProof,
  WirePeer,
  WireProvider,
} from "./rpc_codec.ts";
export {
  canonicalSkillKey,
  providerKey,
  tagKey,
  tagSkillKey,
} from "./skill_keys.ts";
export { resolveKademliaOptions } from "./types.ts";
export type {
  KademliaDeps,
  KademliaOptions,
  KademliaStats,
  LookupOutcome,
  LookupStep,
  ResolvedKademliaOptions,
} from "./types.ts";
