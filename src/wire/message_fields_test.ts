import { assert, assertEquals } from "../../tests/assert.ts";
import { JsonFloat } from "./json_value.ts";
import {
  isMessageType,
  MESSAGE_FIELDS,
  SIGNATURE_EXCLUDED_FIELDS,
} from "./message_fields.ts";
import type { MessageFields, MessageType } from "./messages.ts";
import { readLosslessVector } from "./_test_vectors.ts";

interface MessageVectors {
  signature_excluded_fields: string[];
  vectors: { name: string; type: string; message: Record<string, unknown> }[];
}
const vectors = readLosslessVector<MessageVectors>("messages.json");

// Compile-time: the field table names exactly the fields of each TS interface.
type TableNames = { [T in MessageType]: keyof MessageFields<T> };
const _names: { [T in MessageType]: TableNames[T][] } = {
  JOIN_REQUEST: ["node_id", "host", "port", "ephemeral"],
  JOIN_RESPONSE: ["peers"],
  ANNOUNCE: [
    "node_id",
    "skill_key",
    "skill_sheet",
    "hops",
    "sidecar_port",
    "encryption_key",
    "wallet",
    "provider_host",
    "provider_port",
    "jurisdiction",
  ],
  QUERY: ["query_type", "value"],
  QUERY_RESPONSE: ["results"],
  DEREGISTER: ["node_id", "skill_key", "hops"],
  HEARTBEAT: ["node_id", "timestamp", "version", "min_protocol_version"],
  ACK: ["status", "error_detail"],
  TASK_REQUEST: [
    "task_id",
    "requester_node_id",
    "requester_host",
    "requester_port",
    "skill_name",
    "input_data",
    "timeout_ms",
    "mode",
  ],
  TASK_STATUS: ["task_id", "status", "reason", "position"],
  TASK_RESULT: ["task_id", "status", "output_data", "error", "receipt"],
  SYNC_REQUEST: ["since"],
  SYNC_RESPONSE: ["skills"],
  PLUGIN_MESSAGE: ["node_id", "plugin_name", "action", "payload"],
  WARN: ["delay_ms", "reason", "pressure_pct"],
  BLOCKED: ["reason", "duration_minutes"],
  MAIL_SYNC: ["sender_node_id", "items", "batch_seq"],
  MAIL_ACK: ["sender_node_id", "ack_seq", "item_ids"],
  MAIL_PULL_REQ: ["requester_node_id", "since_timestamp"],
  MAIL_PULL_RESP: ["sender_node_id", "items"],
  MAIL_PULL_ACK: ["requester_node_id", "item_ids"],
};

Deno.test("MESSAGE_FIELDS lists each interface's fields in wire order", () => {
  for (const [type, names] of Object.entries(_names)) {
    assertEquals(
      MESSAGE_FIELDS[type as MessageType].map((f) => f.name),
      names,
      type,
    );
  }
});

Deno.test("MESSAGE_FIELDS matches the key order of every vector message", async (t) => {
  for (const v of vectors.vectors) {
    await t.step(v.name, () => {
      assert(isMessageType(v.type));
      assertEquals(Object.keys(v.message), [
        "type",
        "msg_id",
        "public_key",
        "signature",
        ...MESSAGE_FIELDS[v.type].map((f) => f.name),
      ]);
    });
  }
});

Deno.test("MESSAGE_FIELDS marks the float fields and the int timeout", () => {
  const floats = Object.entries(MESSAGE_FIELDS).flatMap(([type, specs]) =>
    specs.filter((f) => f.kind === "float").map((f) => `${type}.${f.name}`)
  );
  assertEquals(floats, [
    "HEARTBEAT.timestamp",
    "SYNC_REQUEST.since",
    "MAIL_PULL_REQ.since_timestamp",
  ]);
  assertEquals(MESSAGE_FIELDS.HEARTBEAT[1]!.default, new JsonFloat(0));
  const timeout = MESSAGE_FIELDS.TASK_REQUEST.find((f) =>
    f.name === "timeout_ms"
  );
  assertEquals(timeout, { name: "timeout_ms", kind: "int", default: 30_000 });
});

Deno.test("SIGNATURE_EXCLUDED_FIELDS equals the vectors' set", () => {
  assertEquals(
    [...SIGNATURE_EXCLUDED_FIELDS].sort(),
    [...vectors.signature_excluded_fields].sort(),
  );
});
