/**
 * The knarr wire layer: lossless JSON, Python-canonical JSON, frames, message
 * types, signing and verification, byte-compatible with the original nodes.
 *
 * @module
 */
export { float, isJsonObject, JsonFloat, toNumber } from "./json_value.ts";
export type { JsonNumber, JsonObject, JsonValue } from "./json_value.ts";
export { parseJson } from "./json_parse.ts";
export { peekStringField } from "./peek_field.ts";
export { canonicalJson, pythonWireJson, sealJson } from "./canonical_json.ts";
export {
  encodeFrame,
  FRAME_HEADER_BYTES,
  FrameDecoder,
  MAX_FRAME_BYTES,
} from "./frame.ts";
export type { FrameDecoderOptions } from "./frame.ts";
export {
  isMessageType,
  MESSAGE_FIELDS,
  SIGNATURE_EXCLUDED_FIELDS,
} from "./message_fields.ts";
export type { FieldKind, FieldSpec } from "./message_fields.ts";
export type {
  Ack,
  Announce,
  Blocked,
  CoreMessage,
  Deregister,
  Envelope,
  Heartbeat,
  JoinRequest,
  JoinResponse,
  MailAck,
  MailPullAck,
  MailPullReq,
  MailPullResp,
  MailSync,
  Message,
  MessageFields,
  MessageOf,
  MessageType,
  PeerEntry,
  PluginMessage,
  Query,
  QueryResponse,
  SyncEntry,
  SyncRequest,
  SyncResponse,
  TaskRequest,
  TaskResult,
  TaskStatus,
  ToleratedMessage,
  Warn,
} from "./messages.ts";
export { signingString, signMessage, verifyMessage } from "./sign.ts";
export type {
  InvalidReason,
  Signer,
  SignMessageOptions,
  VerifyResult,
} from "./sign.ts";
export { decodeMessage, encodeMessage, encodeMessageFrame } from "./codec.ts";
export type { WireObject } from "./codec.ts";
export { syncEntryOf, verifySyncEntry } from "./sync_entry.ts";
export type { SyncEntryOptions } from "./sync_entry.ts";
