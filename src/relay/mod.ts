/** The keep relay: packet codec, router, TCP relay server and client. */
export { SYSTEM_CLOCK } from "./clock.ts";
export type { Clock } from "./clock.ts";
export {
  encodeFrame,
  FRAME_HEADER_BYTES,
  FrameReader,
  KEEP_FRAME_LIMITS,
  MAX_FRAME_BYTES,
} from "./frame.ts";
export type { ByteSource, FrameReaderOptions } from "./frame.ts";
export {
  createPacket,
  decodePacket,
  encodePacket,
  signedPayload,
} from "./packet.ts";
export type { Packet, PacketInit } from "./packet.ts";
export { signPacket, verifyPacket } from "./signature.ts";
export type { PacketVerdict } from "./signature.ts";
export { RelayMetrics } from "./relay_metrics.ts";
export { MAX_SCAR_SENDERS, Router } from "./router.ts";
export type {
  RoutedPacket,
  RouteResult,
  RouterOptions,
  RouterPeer,
} from "./router.ts";
export { RelayServer } from "./relay_server.ts";
export type { RelayServerDeps, RelayServerOptions } from "./relay_server.ts";
export { TokenBucket } from "./token_bucket.ts";
export type { TokenBucketOptions } from "./token_bucket.ts";
export { KeepClient } from "./keep_client.ts";
export type {
  KeepClientCreateOptions,
  KeepClientDeps,
  KeepClientOptions,
  SendOptions,
  SignalOptions,
} from "./keep_client.ts";
export { EndpointCache } from "./endpoint_cache.ts";
export type {
  CachedEndpoint,
  EndpointCacheOptions,
  EndpointInfo,
} from "./endpoint_cache.ts";
export { loadOrCreateIdentity as loadOrCreateKeyFile } from "./key_file.ts";
export { ConnectionClosedError } from "./errors.ts";
export { relayOptionsFromConfig } from "./relay_config.ts";
