/** The field table of every message type (spec section 4) and the unsigned fields. */
import { JsonFloat } from "./json_value.ts";
import type { MessageType } from "./messages.ts";

/** The JSON type a field holds; `float` fields serialize as Python floats. */
export type FieldKind =
  | "string"
  | "nullable-string"
  | "int"
  | "float"
  | "bool"
  | "array"
  | "object";

/** One field of a message type, in wire order. */
export interface FieldSpec {
  /** The JSON key. */
  readonly name: string;
  /** The JSON type. */
  readonly kind: FieldKind;
  /** The default of a scalar field; containers default to a fresh `[]` or `{}`. */
  readonly default: string | number | boolean | null | JsonFloat;
}

function field(
  name: string,
  kind: FieldKind,
  fallback?: FieldSpec["default"],
): FieldSpec {
  const byKind = {
    string: "",
    "nullable-string": null,
    int: 0,
    float: new JsonFloat(0),
    bool: false,
    array: null,
    object: null,
  } as const;
  return Object.freeze({
    name,
    kind,
    default: fallback === undefined ? byKind[kind] : fallback,
  });
}

const s = (name: string, fallback?: string) => field(name, "string", fallback);
const i = (name: string, fallback?: number) => field(name, "int", fallback);

/**
 * Fields of each type after the envelope (`type, msg_id, public_key, signature`),
 * in the order the original serializes them. The tolerated types' lists come
 * from the original's source, not from the vectors.
 */
export const MESSAGE_FIELDS: Readonly<
  Record<MessageType, readonly FieldSpec[]>
> = freezeTable({
  JOIN_REQUEST: [
    s("node_id"),
    s("host"),
    i("port"),
    field("ephemeral", "bool"),
  ],
  JOIN_RESPONSE: [field("peers", "array")],
  ANNOUNCE: [
    s("node_id"),
    s("skill_key"),
    field("skill_sheet", "object"),
    i("hops"),
    i("sidecar_port"),
    s("encryption_key"),
    s("wallet"),
    s("provider_host"),
    i("provider_port"),
    s("jurisdiction"),
  ],
  QUERY: [s("query_type"), s("value")],
  QUERY_RESPONSE: [field("results", "array")],
  DEREGISTER: [s("node_id"), s("skill_key"), i("hops")],
  HEARTBEAT: [
    s("node_id"),
    field("timestamp", "float"),
    s("version"),
    s("min_protocol_version"),
  ],
  ACK: [s("status"), field("error_detail", "nullable-string")],
  TASK_REQUEST: [
    s("task_id"),
    s("requester_node_id"),
    s("requester_host"),
    i("requester_port"),
    s("skill_name"),
    field("input_data", "object"),
    i("timeout_ms", 30_000),
    s("mode", "sync"),
  ],
  TASK_STATUS: [s("task_id"), s("status"), s("reason"), i("position")],
  TASK_RESULT: [
    s("task_id"),
    s("status"),
    field("output_data", "object"),
    field("error", "object"),
    s("receipt"),
  ],
  SYNC_REQUEST: [field("since", "float")],
  SYNC_RESPONSE: [field("skills", "array")],
  PLUGIN_MESSAGE: [
    s("node_id"),
    s("plugin_name"),
    s("action"),
    s("payload"),
  ],
  WARN: [i("delay_ms"), s("reason"), i("pressure_pct")],
  BLOCKED: [s("reason"), i("duration_minutes")],
  MAIL_SYNC: [s("sender_node_id"), field("items", "array"), i("batch_seq")],
  MAIL_ACK: [s("sender_node_id"), i("ack_seq"), field("item_ids", "array")],
  MAIL_PULL_REQ: [s("requester_node_id"), field("since_timestamp", "float")],
  MAIL_PULL_RESP: [s("sender_node_id"), field("items", "array")],
  MAIL_PULL_ACK: [s("requester_node_id"), field("item_ids", "array")],
});

function freezeTable<T extends Record<string, FieldSpec[]>>(table: T): T {
  for (const specs of Object.values(table)) Object.freeze(specs);
  return Object.freeze(table);
}

/** Fields left out of the signing string (they may change in transit or are advisory). */
export const SIGNATURE_EXCLUDED_FIELDS: ReadonlySet<string> = new Set([
  "signature",
  "hops",
  "ephemeral",
  "load",
  "sidecar_port",
  "version",
  "min_protocol_version",
  "mode",
  "peer_count",
  "batch_seq",
  "encryption_key",
  "receipt",
  "provider_host",
  "provider_port",
  "wallet",
  "jurisdiction",
]);

/** True when `type` has a field list here. */
export function isMessageType(type: string): type is MessageType {
  return Object.hasOwn(MESSAGE_FIELDS, type);
}

/** True for types a node may receive but has no field list for (`MAIL_PULL_*` variants). */
export function isToleratedUnknownType(type: string): boolean {
  return type.startsWith("MAIL_PULL_") && !isMessageType(type);
}

/** The default of a field, with a fresh container for arrays and objects. */
export function defaultOf(spec: FieldSpec): unknown {
  if (spec.kind === "array") return [];
  if (spec.kind === "object") return {};
  return spec.default;
}
