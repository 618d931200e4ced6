/** The knarr message shapes: one interface per `type`, joined in discriminated unions. */
import type { JsonNumber, JsonObject, JsonValue } from "./json_value.ts";

/** The envelope every message carries. */
export interface Envelope<T extends string> {
  /** The message type, the union's discriminant. */
  readonly type: T;
  /** A uuid4; replies such as ACK reuse the request's. */
  readonly msg_id: string;
  /** The signer's raw Ed25519 public key, 64 lowercase hex characters. */
  readonly public_key: string;
  /** Ed25519 signature of the signing string, 128 lowercase hex characters. */
  readonly signature: string;
}

/** Asks a node to add the sender to its peer table. */
export interface JoinRequest extends Envelope<"JOIN_REQUEST"> {
  /** The joiner's node id (SHA-256 of public_key). */
  readonly node_id: string;
  /** The joiner's advertised host. */
  readonly host: string;
  /** The joiner's protocol port (the responder requires 1–65535). */
  readonly port: number;
  /** Not signed. One-shot clients set it so they are not recorded as peers. */
  readonly ephemeral: boolean;
}

/** One `{node_id, host, port}` entry of a JOIN_RESPONSE. */
export type PeerEntry = { node_id: string; host: string; port: number };

/** The responder's peer table plus itself. */
export interface JoinResponse extends Envelope<"JOIN_RESPONSE"> {
  /** `PeerEntry`-shaped, but unvalidated JSON: check each entry. */
  readonly peers: JsonValue[];
}

/** Announces one skill; gossiped onward with `hops + 1` and the same signature. */
export interface Announce extends Envelope<"ANNOUNCE"> {
  /** The provider's node id (SHA-256 of public_key). */
  readonly node_id: string;
  /** The skill's name. */
  readonly skill_key: string;
  /** Signed exactly as received, unknown keys (such as `uri`) included. */
  readonly skill_sheet: JsonObject;
  /** Not signed: gossip hop count. */
  readonly hops: number;
  /** Not signed: the provider's asset sidecar port, 0 for none. */
  readonly sidecar_port: number;
  /** Not signed: the provider's X25519 key, hex. */
  readonly encryption_key: string;
  /** Not signed: a wallet address. */
  readonly wallet: string;
  /** Not signed: the provider's advertised host. */
  readonly provider_host: string;
  /** Not signed: the provider's protocol port. */
  readonly provider_port: number;
  /** Not signed: for example "eu.ch". */
  readonly jurisdiction: string;
}

/** Looks skills up. */
export interface Query extends Envelope<"QUERY"> {
  /** "name", "tag" or "all". */
  readonly query_type: string;
  /** The skill name or tag looked for. */
  readonly value: string;
}

/** The skills a node knows that match a QUERY. */
export interface QueryResponse extends Envelope<"QUERY_RESPONSE"> {
  /** `{node_id, host, port, skill_sheet, sidecar_port}` plus signed `_`-prefixed internals. */
  readonly results: JsonValue[];
}

/** Withdraws a skill; gossiped like ANNOUNCE. */
export interface Deregister extends Envelope<"DEREGISTER"> {
  /** The provider's node id (SHA-256 of public_key). */
  readonly node_id: string;
  /** The skill's name. */
  readonly skill_key: string;
  /** Not signed: gossip hop count. */
  readonly hops: number;
}

/** Liveness probe and its reply. */
export interface Heartbeat extends Envelope<"HEARTBEAT"> {
  /** The sender's node id (SHA-256 of public_key). */
  readonly node_id: string;
  /** A Python float: unix seconds. */
  readonly timestamp: JsonNumber;
  /** Not signed: the sender's software version. */
  readonly version: string;
  /** Not signed: the lowest version the sender talks to. */
  readonly min_protocol_version: string;
}

/** Generic reply. */
export interface Ack extends Envelope<"ACK"> {
  /** "ok" or "error". */
  readonly status: string;
  /** Why, when status is "error". */
  readonly error_detail: string | null;
}

/** Asks a provider to run a skill. */
export interface TaskRequest extends Envelope<"TASK_REQUEST"> {
  /** A uuid4 naming the task. */
  readonly task_id: string;
  /** The consumer's node id (not checked against public_key by the original). */
  readonly requester_node_id: string;
  /** Where a slow skill's TASK_RESULT is pushed. */
  readonly requester_host: string;
  /** Where a slow skill's TASK_RESULT is pushed. */
  readonly requester_port: number;
  /** The skill to run. */
  readonly skill_name: string;
  /** The skill's input. */
  readonly input_data: JsonObject;
  /** A Python int: the consumer's deadline in milliseconds. */
  readonly timeout_ms: number;
  /** Not signed: "sync" or "async". */
  readonly mode: string;
}

/** A provider's interim answer. */
export interface TaskStatus extends Envelope<"TASK_STATUS"> {
  /** The task's id. */
  readonly task_id: string;
  /** "accepted", "rejected" or "queued". */
  readonly status: string;
  /** Why, for "rejected". */
  readonly reason: string;
  /** Queue position, for "queued". */
  readonly position: number;
}

/** A task's outcome. */
export interface TaskResult extends Envelope<"TASK_RESULT"> {
  /** The task's id. */
  readonly task_id: string;
  /** "completed" or "failed". */
  readonly status: string;
  /** The skill's output. */
  readonly output_data: JsonObject;
  /** `{code, message, …}` when failed, else `{}`. */
  readonly error: JsonObject;
  /** Not signed: a JSON document in a string. */
  readonly receipt: string;
}

/** Asks for every skill announced since a time. */
export interface SyncRequest extends Envelope<"SYNC_REQUEST"> {
  /** A Python float: unix seconds, 0.0 for everything. */
  readonly since: JsonNumber;
}

/** One SYNC_RESPONSE entry: a stored ANNOUNCE with its original signature. */
export type SyncEntry = {
  skill_key: string;
  provider_node_id: string;
  skill_sheet: JsonObject;
  announced_at: JsonNumber;
  ttl: number;
  public_key: string;
  signature: string;
  msg_id: string;
  sidecar_port: number;
};

/** The responder's skills. */
export interface SyncResponse extends Envelope<"SYNC_RESPONSE"> {
  /** `SyncEntry`-shaped, unvalidated: check each with `verifySyncEntry()`. */
  readonly skills: JsonValue[];
}

/** Plugin traffic (for example Kademlia). */
export interface PluginMessage extends Envelope<"PLUGIN_MESSAGE"> {
  /** The sender's node id (SHA-256 of public_key). */
  readonly node_id: string;
  /** The target plugin, for example "knarr-kademlia". */
  readonly plugin_name: string;
  /** A plugin action, for example "FIND_NODE". */
  readonly action: string;
  /** A JSON document in a string. */
  readonly payload: string;
}

/** Backpressure advice from a newer node. */
export interface Warn extends Envelope<"WARN"> {
  /** Suggested delay. */
  readonly delay_ms: number;
  /** Why. */
  readonly reason: string;
  /** The sender's load in percent. */
  readonly pressure_pct: number;
}

/** A newer node's notice that it blocks the sender. */
export interface Blocked extends Envelope<"BLOCKED"> {
  /** Why. */
  readonly reason: string;
  /** For how long. */
  readonly duration_minutes: number;
}

/** Mail delivery between newer nodes. */
export interface MailSync extends Envelope<"MAIL_SYNC"> {
  /** The sender's node id (not checked). */
  readonly sender_node_id: string;
  /** Mail items. */
  readonly items: JsonValue[];
  /** Not signed: batch number. */
  readonly batch_seq: number;
}

/** Mail receipt between newer nodes. */
export interface MailAck extends Envelope<"MAIL_ACK"> {
  /** The sender's node id (not checked). */
  readonly sender_node_id: string;
  /** The acknowledged batch. */
  readonly ack_seq: number;
  /** The acknowledged items. */
  readonly item_ids: JsonValue[];
}

/** Mail pull request between newer nodes. */
export interface MailPullReq extends Envelope<"MAIL_PULL_REQ"> {
  /** The requester's node id (not checked). */
  readonly requester_node_id: string;
  /** A Python float: unix seconds. */
  readonly since_timestamp: JsonNumber;
}

/** Mail pull response between newer nodes. */
export interface MailPullResp extends Envelope<"MAIL_PULL_RESP"> {
  /** The sender's node id (not checked). */
  readonly sender_node_id: string;
  /** Mail items. */
  readonly items: JsonValue[];
}

/** Mail pull receipt between newer nodes. */
export interface MailPullAck extends Envelope<"MAIL_PULL_ACK"> {
  /** The requester's node id (not checked). */
  readonly requester_node_id: string;
  /** The acknowledged items. */
  readonly item_ids: JsonValue[];
}

/** The messages the node speaks (spec section 4). */
export type CoreMessage =
  | JoinRequest
  | JoinResponse
  | Announce
  | Query
  | QueryResponse
  | Deregister
  | Heartbeat
  | Ack
  | TaskRequest
  | TaskStatus
  | TaskResult
  | SyncRequest
  | SyncResponse;

/** Messages of plugin-enabled or newer nodes: verified, then usually ignored. */
export type ToleratedMessage =
  | PluginMessage
  | Warn
  | Blocked
  | MailSync
  | MailAck
  | MailPullReq
  | MailPullResp
  | MailPullAck;

/** Every message with a known field list. */
export type Message = CoreMessage | ToleratedMessage;

/** Every known `type` string. */
export type MessageType = Message["type"];

/** The message interface of one type. */
export type MessageOf<T extends MessageType> = Extract<Message, { type: T }>;

/** The type-specific fields of a message, all optional (defaults fill the gaps). */
export type MessageFields<T extends MessageType> = {
  -readonly [K in Exclude<keyof MessageOf<T>, keyof Envelope<T>>]?: MessageOf<
    T
  >[K];
};
