import {
  assert,
  assertEquals,
  assertRejects,
  assertThrows,
} from "../../tests/assert.ts";
import { Identity } from "../crypto/mod.ts";
import { hexToBytes } from "../util/mod.ts";
import { pythonWireJson } from "./canonical_json.ts";
import { decodeMessage } from "./codec.ts";
import { JsonFloat, type JsonObject, type JsonValue } from "./json_value.ts";
import {
  isMessageType,
  MESSAGE_FIELDS,
  SIGNATURE_EXCLUDED_FIELDS,
} from "./message_fields.ts";
import type { MessageFields, MessageType } from "./messages.ts";
import {
  signingString,
  signMessage,
  verifyMessage,
  type VerifyResult,
} from "./sign.ts";
import { readLosslessVector } from "./_test_vectors.ts";

interface MessageVector {
  name: string;
  type: string;
  signer_public_key: string;
  message: JsonObject;
  wire_json: string;
  canonical_signing_string: string;
  signature: string;
}
interface MessageVectors {
  identities: Record<string, { seed_hex: string; public_key: string }>;
  vectors: MessageVector[];
}
const { identities, vectors } = readLosslessVector<MessageVectors>(
  "messages.json",
);

const signers = new Map<string, Identity>();
for (const id of Object.values(identities)) {
  signers.set(id.public_key, await Identity.fromSeed(hexToBytes(id.seed_hex)));
}

function signerOf(v: MessageVector): Identity {
  const id = signers.get(v.signer_public_key);
  assert(id, `no seed for ${v.signer_public_key}`);
  return id;
}

function assertOk(result: VerifyResult): void {
  assertEquals(result.status === "invalid" ? result : result.status, "ok");
}

function tamper(value: JsonValue): JsonValue {
  if (typeof value === "string") return value + "x";
  if (typeof value === "number") return value + 1;
  if (typeof value === "boolean") return !value;
  if (value instanceof JsonFloat) return new JsonFloat(value.value + 1);
  if (Array.isArray(value)) return [...value, 1];
  if (value !== null && typeof value === "object") {
    return { ...value, tampered: 1 };
  }
  return "x";
}

Deno.test("signingString() equals every vector's canonical_signing_string", async (t) => {
  for (const v of vectors) {
    await t.step(v.name, () => {
      assertEquals(
        signingString(decodeMessage(v.wire_json)),
        v.canonical_signing_string,
      );
      assertEquals(signingString(v.message), v.canonical_signing_string);
    });
  }
});

Deno.test("signMessage() reproduces every vector's signature and wire bytes", async (t) => {
  for (const v of vectors) {
    await t.step(v.name, async () => {
      assert(isMessageType(v.type));
      const { type: _, msg_id, public_key: _k, signature: _s, ...fields } =
        v.message;
      const signed = await signMessage(
        v.type,
        fields as MessageFields<MessageType>,
        signerOf(v),
        { msgId: msg_id as string },
      );
      assertEquals(signed.signature, v.signature);
      assertEquals(pythonWireJson(signed), v.wire_json);
    });
  }
});

Deno.test("verifyMessage() accepts every vector's wire_json", async (t) => {
  for (const v of vectors) {
    await t.step(v.name, async () => {
      const wire = decodeMessage(v.wire_json);
      const result = await verifyMessage(wire);
      assertOk(result);
      assert(result.status === "ok");
      assertEquals(result.message.type, v.type);
      // Re-encoding the received object, or the typed message, gives the same bytes.
      assertEquals(pythonWireJson(wire), v.wire_json);
      assertEquals(pythonWireJson(result.message), v.wire_json);
    });
  }
});

Deno.test("verifyMessage() rejects a tampered signed field", async (t) => {
  for (const v of vectors) {
    await t.step(v.name, async () => {
      assert(isMessageType(v.type));
      const signed = MESSAGE_FIELDS[v.type].filter((f) =>
        !SIGNATURE_EXCLUDED_FIELDS.has(f.name)
      );
      for (const key of ["msg_id", ...signed.map((f) => f.name)]) {
        const wire = decodeMessage(v.wire_json);
        wire[key] = tamper(wire[key] ?? null);
        const result = await verifyMessage(wire);
        assertEquals(result.status, "invalid", key);
      }
    });
  }
});

Deno.test("verifyMessage() ignores changes to excluded and unknown fields", async (t) => {
  for (const v of vectors) {
    await t.step(v.name, async () => {
      assert(isMessageType(v.type));
      const wire = decodeMessage(v.wire_json);
      for (const f of MESSAGE_FIELDS[v.type]) {
        if (SIGNATURE_EXCLUDED_FIELDS.has(f.name)) {
          wire[f.name] = f.kind === "bool" ? true : f.kind === "int" ? 7 : "x";
        }
      }
      wire.unknown_key = "dropped";
      const result = await verifyMessage(wire);
      assertOk(result);
      assert(result.status === "ok");
      assert(!("unknown_key" in result.message));
    });
  }
});

Deno.test("verifyMessage() accepts a gossip-forwarded ANNOUNCE with hops + 1", async () => {
  const v = vectors.find((x) => x.name === "announce_forwarded_hops1")!;
  const result = await verifyMessage(decodeMessage(v.wire_json));
  assert(result.status === "ok" && result.message.type === "ANNOUNCE");
  assertEquals(result.message.hops, 1);
});

Deno.test("verifyMessage() explains each failure", async (t) => {
  const [a, b] = [...signers.values()] as [Identity, Identity];
  const announce = await signMessage("ANNOUNCE", {
    node_id: a.nodeId,
    skill_key: "echo",
    skill_sheet: { name: "echo" },
  }, a);
  const invalid = async (msg: unknown, reason: string) => {
    const result = await verifyMessage(msg);
    assertEquals(result.status === "invalid" && result.reason, reason);
  };
  await t.step("unsigned", async () => {
    await invalid({ ...announce, signature: "" }, "unsigned");
    const { public_key: _, ...rest } = announce;
    await invalid(rest, "unsigned");
  });
  await t.step("bad signature", async () => {
    await invalid({ ...announce, public_key: b.publicKey }, "bad signature");
  });
  await t.step("node_id mismatch", async () => {
    const spoof = await signMessage("ANNOUNCE", {
      node_id: b.nodeId,
      skill_key: "echo",
    }, a);
    await invalid(spoof, "node_id mismatch");
    const empty = await signMessage("HEARTBEAT", { node_id: "" }, a);
    await invalid(empty, "node_id mismatch");
  });
  await t.step("unknown type", async () => {
    await invalid({ ...announce, type: "FOO" }, "unknown type");
  });
  await t.step("malformed", async () => {
    await invalid(null, "malformed");
    await invalid([], "malformed");
    await invalid({ type: 1 }, "malformed");
    await invalid({ ...announce, hops: "1" }, "malformed");
    await invalid({ ...announce, skill_sheet: [] }, "malformed");
    await invalid({ ...announce, msg_id: 5 }, "malformed");
    await invalid({ ...announce, public_key: "zz" }, "malformed");
    await invalid({ ...announce, signature: "00" }, "malformed");
    let deep: unknown = {};
    for (let i = 0; i < 1100; i++) deep = { d: deep };
    await invalid({ ...announce, skill_sheet: deep }, "malformed");
  });
  await t.step("unverifiable MAIL_PULL_* without a field list", async () => {
    assertEquals(await verifyMessage({ ...announce, type: "MAIL_PULL_NEW" }), {
      status: "unverifiable",
      type: "MAIL_PULL_NEW",
    });
  });
  await t.step(
    "uppercase hex as Python's bytes.fromhex accepts it",
    async () => {
      assertOk(
        await verifyMessage({
          ...announce,
          signature: announce.signature.toUpperCase(),
        }),
      );
    },
  );
});

Deno.test("signMessage() builds floats, defaults and the envelope", async (t) => {
  const [a] = [...signers.values()] as [Identity];
  await t.step("an integral timestamp is sent as a float", async () => {
    const hb = await signMessage("HEARTBEAT", {
      node_id: a.nodeId,
      timestamp: 1700000000,
    }, a);
    assert(pythonWireJson(hb).includes('"timestamp": 1700000000.0'));
    assert(signingString(hb).includes('"timestamp":1700000000.0'));
    assertOk(await verifyMessage(decodeMessage(pythonWireJson(hb))));
  });
  await t.step("defaults fill missing fields in wire order", async () => {
    const req = await signMessage("TASK_REQUEST", { skill_name: "echo" }, a, {
      msgId: "m1",
    });
    assertEquals(
      pythonWireJson({ ...req, signature: "" }),
      `{"type": "TASK_REQUEST", "msg_id": "m1", "public_key": "${a.publicKey}", "signature": "", "task_id": "", "requester_node_id": "", "requester_host": "", "requester_port": 0, "skill_name": "echo", "input_data": {}, "timeout_ms": 30000, "mode": "sync"}`,
    );
    const sync = await signMessage("SYNC_REQUEST", {}, a);
    assert(pythonWireJson(sync).endsWith('"since": 0.0}'));
    const ack = await signMessage("ACK", { status: "ok" }, a);
    assertEquals(ack.error_detail, null);
  });
  await t.step("a fresh uuid4 msg_id unless given", async () => {
    const q = await signMessage("QUERY", { query_type: "all" }, a);
    assert(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
        .test(q.msg_id),
    );
  });
  await t.step("unknown fields and wrong kinds are refused", async () => {
    await assertRejects(
      () => signMessage("QUERY", { nope: 1 } as MessageFields<"QUERY">, a),
      {
        name: "TypeError",
        message: 'Cannot sign "QUERY": unknown field "nope"',
      },
    );
    await assertRejects(
      () => signMessage("JOIN_REQUEST", { port: 1.5 }, a),
      {
        name: "TypeError",
        message: 'Cannot sign "JOIN_REQUEST": field "port" must be an int',
      },
    );
  });
});

Deno.test("signingString() refuses unknown types and missing keys", () => {
  assertThrows(
    () => signingString({ type: "FOO", msg_id: "", public_key: "" }),
    TypeError,
  );
  assertThrows(() => signingString({ type: "ACK", public_key: "" }), {
    name: "TypeError",
    message: 'Cannot build signing string for "ACK": "msg_id" is not a string',
  });
});
