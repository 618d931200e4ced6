/** Discovery: peer table, skill table, join/sync, gossip, query and ranking, liveness. */
export { Discovery } from "./discovery.ts";
export type {
  DiscoveryDeps,
  DiscoveryStats,
  JoinOutcome,
  QueryOptions,
  QueryResult,
  QuerySpec,
  Reply,
} from "./discovery_types.ts";
export { maxHops, resolveDiscoveryOptions, skillTtl } from "./options.ts";
export type { DiscoveryOptions, ResolvedDiscoveryOptions } from "./options.ts";
export { DEFAULT_MAX_PEERS, PeerTable } from "./peer_table.ts";
export type {
  PeerAddress,
  PeerExtra,
  PeerOrigin,
  PeerTableOptions,
  PeerTableStats,
} from "./peer_table.ts";
export { rank, scores } from "./ranking.ts";
export type { RankInput } from "./ranking.ts";
export {
  buildSheet,
  DEFAULT_MAX_INPUT_SIZE,
  DEFAULT_PRICE,
  MAX_SHEET_BYTES,
  plainJson,
  requiredInputs,
  sheetMaxInputSize,
  sheetName,
  sheetPrice,
  sheetTags,
  stripInternal,
  validateSheet,
} from "./skill_sheet.ts";
export type { SheetSource } from "./skill_sheet.ts";
export { SkillTable } from "./skill_table.ts";
export type {
  SkillEntry,
  SkillTableOptions,
  SkillTableStats,
} from "./skill_table.ts";
export { SYSTEM_CLOCK } from "./types.ts";
export type { Clock, Messenger, RequestOptions, SelfAddress } from "./types.ts";
export { Kademlia, KADEMLIA_PLUGIN, tagSkillKey } from "./kademlia/mod.ts";
export type {
  KademliaOptions,
  KademliaStats,
  LookupOutcome,
  LookupStep,
} from "./kademlia/mod.ts";
