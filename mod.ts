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
  checkReachable,
  DEFAULT_POLICY,
  KnarrNode,
  MemoryNetwork,
  parseRelayedAddress,
  relayedAddress,
  RelayReach,
  RelayTransport,
  TcpTransport,
} from "./src/node/mod.ts";
export type {
  AdvertiseChoice,
  AssetPeer,
  BodyHandler,
  DhtStats,
  ExchangeOptions,
  InProcessHandler,
  KnarrNodeOptions,
  Listening,
  NodeMetrics,
  NodeMetricsSources,
  NodeQueryOptions,
  NodeSidecarOptions,
  NodeStats,
  ReachAsker,
  RelayedAddress,
  RelayReachNode,
  RelayReachOptions,
  RelayTransportDeps,
  SendMessage,
  SkillAccess,
  SkillRunner,
  SkillSwitches,
  StartOptions,
  TcpTransportOptions,
  Transport,
} from "./src/node/mod.ts";
export { buildSheet, validateSheet } from "./src/discovery/mod.ts";
export type {
  Clock,
  Discovery,
  DiscoveryDeps,
  DiscoveryOptions,
  DiscoveryStats,
  JoinOutcome,
  KademliaOptions,
  KademliaStats,
  LookupStep,
  Messenger,
  PeerAddress,
  PeerExtra,
  PeerOrigin,
  PeerTable,
  PeerTableOptions,
  PeerTableStats,
  QueryOptions,
  QueryResult,
  QuerySpec,
  Reply,
  RequestOptions,
  SelfAddress,
  SheetSource,
  SkillEntry,
  SkillTable,
  SkillTableOptions,
  SkillTableStats,
} from "./src/discovery/mod.ts";
export type {
  RunContext,
  RunOutcome,
  SkillTaskStats,
  TaskConsumer,
  TaskMetrics,
  TaskMetricsOptions,
  TaskOutcome,
  TaskPolicy,
  TaskProvider,
  TaskRecord,
  TaskRequestOptions,
  TaskSeriesPoint,
} from "./src/tasks/mod.ts";
export { Identity, nodeIdOf, verifyHex } from "./src/crypto/mod.ts";
export type {
  Counter,
  Gauge,
  Histogram,
  HistogramChild,
  LogFields,
  LogFormat,
  Logger,
  LoggerOptions,
  LogLevel,
  LogSink,
  MetricFamily,
  MetricsRegistry,
  MetricType,
  RateLimiterOptions,
  Sample,
  ValueChild,
} from "./src/util/mod.ts";
export {
  ConfigError,
  defaultConfig,
  DEFAULTS,
  loadConfig,
  parseConfig,
} from "./src/config/mod.ts";
export type {
  BridgeConfig,
  CockpitSection,
  ConfigOverrides,
  HostPort,
  KnarrConfig,
  NetworkSection,
  NodeSection,
  PolicySection,
  RelaySection,
  SidecarSection,
  SkillConfig,
  Visibility,
} from "./src/config/mod.ts";
export {
  Database,
  DemandRepo,
  StorageHealth,
  StorageUnavailableError,
  StoreOpenError,
} from "./src/store/mod.ts";
export type {
  DatabaseOptions,
  DemandRow,
  LedgerRepo,
  LedgerRow,
  Migration,
  PeerRow,
  ProviderHistory,
  Row,
  SkillRow,
  StorageHealthOptions,
  TaskRepo,
  TaskRow,
} from "./src/store/mod.ts";
export {
  canonicalJson,
  JsonFloat,
  parseJson,
  signMessage,
  verifyMessage,
} from "./src/wire/mod.ts";
export type {
  Ack,
  Announce,
  Blocked,
  CoreMessage,
  Deregister,
  Envelope,
  Heartbeat,
  InvalidReason,
  JoinRequest,
  JoinResponse,
  JsonNumber,
  JsonObject,
  JsonValue,
  MailAck,
  MailPullAck,
  MailPullReq,
  MailPullResp,
  MailSync,
  Message,
  MessageFields,
  MessageOf,
  MessageType,
  PluginMessage,
  Query,
  QueryResponse,
  Signer,
  SignMessageOptions,
  SyncRequest,
  SyncResponse,
  TaskRequest,
  TaskResult,
  TaskStatus,
  ToleratedMessage,
  VerifyResult,
  Warn,
} from "./src/wire/mod.ts";
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
  PacketVerdict,
  RelayMetrics,
  RelayServerOptions,
  SendOptions,
  SignalOptions,
} from "./src/relay/mod.ts";
export {
  AssetHashMismatchError,
  AssetQuotaError,
  AssetStore,
  AssetTooLargeError,
  AssetTruncatedError,
} from "./src/assets/mod.ts";
export type {
  AssetInfo,
  AssetStoreOptions,
  ByteSource,
  WriteOptions,
  WriteOutcome,
} from "./src/assets/mod.ts";
export {
  CertificatePinError,
  createCertificate,
  RequestVerifier,
  SidecarClient,
  SidecarHttpError,
  SidecarServer,
  signRequest,
} from "./src/sidecar/mod.ts";
export type {
  AuthResult,
  CreateCertificateOptions,
  ListedAsset,
  RequestVerifierOptions,
  SidecarCertificate,
  SidecarClientDeps,
  SidecarClientOptions,
  SidecarServerDeps,
  SidecarServerOptions,
  SidecarStats,
  SidecarTarget,
  SignRequestOptions,
  TransferOptions,
  UploadOutcome,
} from "./src/sidecar/mod.ts";
export { SkillSandbox } from "./src/skills/mod.ts";
export type {
  RunOptions,
  RunOutcome as SkillRunOutcome,
  SkillHandler,
  SkillReloadEvent,
  SkillSpec,
  SkillStats,
  TaskContext,
} from "./src/skills/mod.ts";
export { ConfiguredSkills } from "./src/node/mod.ts";
export type { ApplyOutcome } from "./src/node/mod.ts";
export { main } from "./src/cli/mod.ts";
export type { MainOptions, Output } from "./src/cli/mod.ts";
