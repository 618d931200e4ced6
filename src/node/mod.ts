/** The node: composition root wiring store, discovery and transport together. */
export {
  chooseAdvertiseHost,
  detectAddress,
  isPrivateAddress,
} from "./advertise.ts";
export type { AdvertiseChoice } from "./advertise.ts";
export { KnarrNode } from "./knarr_node.ts";
export { NodeCockpit } from "./node_cockpit.ts";
export type { RelayFigures } from "./node_cockpit.ts";
export { NodeMetrics } from "./node_metrics.ts";
export type { NodeMetricsSources } from "./node_metrics.ts";
export { SkillSwitches } from "./skill_switches.ts";
export type { DhtStats, NodeQueryOptions } from "./_dht.ts";
export { DEFAULT_POLICY } from "./node_options.ts";
export type { AssetPeer, NodeSidecarOptions } from "./node_assets.ts";
export type {
  InProcessHandler,
  KnarrNodeOptions,
  NodeStats,
  SkillAccess,
  SkillRunner,
  StartOptions,
} from "./node_options.ts";
export { MemoryNetwork, TcpTransport } from "./transport.ts";
export type {
  BodyHandler,
  ExchangeOptions,
  Listening,
  TcpTransportOptions,
  Transport,
} from "./transport.ts";
export { assetStoreFromConfig, ConfiguredSkills } from "./configured_skills.ts";
export { BridgedSkills } from "./bridged_skills.ts";
export type { BridgedSkillsOptions } from "./bridged_skills.ts";
export type { ApplyOutcome } from "./configured_skills.ts";
export { fileStamp, watchFile } from "./file_watch.ts";
export type { FileStamp, WatchFileOptions } from "./file_watch.ts";
export { RelayReach } from "./relay_reach.ts";
export type { RelayReachNode, RelayReachOptions } from "./relay_reach.ts";
export { RelayTransport } from "./relay_transport.ts";
export type { RelayTransportDeps } from "./relay_transport.ts";
export {
  parseRelayedAddress,
  relayedAddress,
  relayIdentity,
} from "./relay_address.ts";
export type { RelayedAddress } from "./relay_address.ts";
export { checkReachable, REACH_PLUGIN } from "./reach_check.ts";
export type { ReachAsker, SendMessage } from "./reach_check.ts";
