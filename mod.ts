/**
 * knarr's programmatic API, for agents that build nodes in code.
 *
 * @example
 * ```ts
 * import { KnarrNode } from "./mod.ts";
 *
 * await using node = await KnarrNode.create({ storage: "node.db", port: 9000, host: "0.0.0.0" });
 * await node.start();
 * await node.join([{ host: "203.0.113.7", port: 9000 }]);
 * await node.announce({
 *   name: "upper", version: "1.0.0", description: "Upper-cases text", tags: ["text"],
 *   inputSchema: { text: "string" }, outputSchema: { text: "string" }, price: 1, maxInputSize: 65536,
 * });
 * node.registerHandler("upper", (input) => ({ text: String(input.text).toUpperCase() }));
 * const providers = await node.query({ tag: "text" });
 * const result = await node.request("upper", { text: "hi" });
 * ```
 *
 * @module
 */
export {
  DEFAULT_POLICY,
  KnarrNode,
  MemoryNetwork,
  TcpTransport,
} from "./src/node/mod.ts";
export type {
  InProcessHandler,
  KnarrNodeOptions,
  NodeStats,
  SkillAccess,
  SkillRunner,
  Transport,
} from "./src/node/mod.ts";
export { buildSheet, validateSheet } from "./src/discovery/mod.ts";
export type {
  DiscoveryOptions,
  JoinOutcome,
  QueryOptions,
  QueryResult,
  QuerySpec,
  SheetSource,
} from "./src/discovery/mod.ts";
export type {
  RunOutcome,
  TaskOutcome,
  TaskPolicy,
  TaskRequestOptions,
} from "./src/tasks/mod.ts";
export { Identity, nodeIdOf, verifyHex } from "./src/crypto/mod.ts";
export {
  ConfigError,
  defaultConfig,
  DEFAULTS,
  loadConfig,
  parseConfig,
} from "./src/config/mod.ts";
export type {
  ConfigOverrides,
  HostPort,
  KnarrConfig,
  SkillConfig,
  Visibility,
} from "./src/config/mod.ts";
export { Database, StoreOpenError } from "./src/store/mod.ts";
export {
  canonicalJson,
  JsonFloat,
  parseJson,
  signMessage,
  verifyMessage,
} from "./src/wire/mod.ts";
export type { JsonObject, JsonValue, Message } from "./src/wire/mod.ts";
export {
  ConnectionClosedError,
  decodePacket,
  encodePacket,
  EndpointCache,
  KeepClient,
  relayOptionsFromConfig,
  RelayServer,
  signPacket,
  verifyPacket,
} from "./src/relay/mod.ts";
export type {
  CachedEndpoint,
  EndpointCacheOptions,
  EndpointInfo,
  KeepClientCreateOptions,
  KeepClientOptions,
  Packet,
  PacketInit,
  RelayServerOptions,
  SendOptions,
} from "./src/relay/mod.ts";
export { AssetStore, SkillSandbox } from "./src/skills/mod.ts";
export type { SkillHandler, SkillSpec, TaskContext } from "./src/skills/mod.ts";
export { ConfiguredSkills } from "./src/node/mod.ts";
export { main } from "./src/cli/mod.ts";
