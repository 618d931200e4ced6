import { assertEquals, assertThrows } from "../../../tests/assert.ts";
import { decodeRpc, encodeRpc } from "./rpc_codec.ts";
import type { KadRpc } from "./rpc_codec.ts";

const ID = "a".repeat(64);

Deno.test("encodeRpc() and decodeRpc() round-trip every action with _request_id in the payload string", () => {
  const rpcs: KadRpc[] = [
    { action: "FIND_NODE", requestId: "r1", target: ID, replyPort: 9000 },
    {
      action: "FIND_NODE_RESP",
      requestId: "r2",
      peers: [{ nodeId: ID, host: "h", port: 1 }],
    },
    { action: "GET_PROVIDERS", requestId: "r3", skillKey: "echo" },
    {
      action: "GET_PROVIDERS_RESP",
      requestId: "r4",
      providers: [{
        nodeId: ID,
        host: "h",
        port: 2,
        sidecarPort: 0,
        storedAt: 5,
        ttl: 1800,
        skillKey: "echo",
      }],
      closerPeers: [],
      token: "t".repeat(32),
    },
    {
      action: "PUT_PROVIDER",
      requestId: "r5",
      skillKey: "echo",
      sidecarPort: 3,
      token: "x",
    },
  ];
  for (const rpc of rpcs) {
    const { action, payload } = encodeRpc(rpc);
    assertEquals(typeof payload, "string");
    assertEquals(JSON.parse(payload)._request_id, rpc.requestId);
    assertEquals(decodeRpc(action, payload), rpc);
  }
});

Deno.test("decodeRpc() reads the original's payloads and rejects hostile ones", async (t) => {
  await t.step("original FIND_NODE_RESP with unknown fields", () => {
    const rpc = decodeRpc(
      "FIND_NODE_RESP",
      JSON.stringify({
        _request_id: "q",
        peers: [{ node_id: ID, host: "1.2.3.4", port: 9000, x: 1 }],
      }),
    );
    assertEquals(rpc, {
      action: "FIND_NODE_RESP",
      requestId: "q",
      peers: [{ nodeId: ID, host: "1.2.3.4", port: 9000 }],
    });
  });
  await t.step("malformed JSON", () => {
    assertThrows(() => decodeRpc("FIND_NODE", "{nope"), SyntaxError);
  });
  await t.step("wrong types", () => {
    assertThrows(
      () => decodeRpc("FIND_NODE", '{"_request_id":1,"target":"x"}'),
      TypeError,
    );
    assertThrows(
      () => decodeRpc("FIND_NODE", `{"_request_id":"a","target":5}`),
      TypeError,
    );
    assertThrows(() => decodeRpc("FIND_NODE", "[]"), TypeError);
    assertThrows(
      () => decodeRpc("FIND_NODE_RESP", '{"_request_id":"a","peers":{}}'),
      TypeError,
    );
    assertThrows(() => decodeRpc("NOPE", '{"_request_id":"a"}'), TypeError);
  });
  await t.step("huge lists are cut and bad entries skipped", () => {
    const peers = Array.from(
      { length: 2_000 },
      (_, i) => ({ node_id: ID, host: "h", port: (i % 65535) + 1 }),
    );
    peers.unshift({ node_id: "zz", host: "h", port: 1 }, null as never);
    const rpc = decodeRpc(
      "FIND_NODE_RESP",
      JSON.stringify({ _request_id: "a", peers }),
    );
    assertEquals(rpc.action === "FIND_NODE_RESP" && rpc.peers.length, 18);
  });
  await t.step("oversized payload", () => {
    assertThrows(() => decodeRpc("FIND_NODE", " ".repeat(300_000)), RangeError);
  });
});

Deno.test("decodeRpc() takes only whole ports, TTLs and signing times, and unix seconds with a fraction for stored_at", () => {
  const id = "ab".repeat(32);
  // Found by the fuzzer (kademlia.rpc): a peer at port 80.5 was accepted, stored and dialed.
  const peers = decodeRpc(
    "FIND_NODE_RESP",
    JSON.stringify({
      _request_id: "r",
      peers: [{ node_id: id, host: "h", port: 80.5 }, {
        node_id: id,
        host: "h",
        port: 80,
      }],
    }),
  );
  assertEquals(
    peers.action === "FIND_NODE_RESP" && peers.peers.map((p) => p.port),
    [80],
  );
  assertThrows(
    () =>
      decodeRpc(
        "PUT_PROVIDER",
        JSON.stringify({ _request_id: "r", skill_key: "k", sidecar_port: 1.5 }),
      ),
    TypeError,
  );
  const providers = decodeRpc(
    "GET_PROVIDERS_RESP",
    JSON.stringify({
      _request_id: "r",
      providers: [
        { node_id: id, host: "h", port: 1, stored_at: 1700000000.25 },
        { node_id: id, host: "h", port: 1, ttl: 0.5 },
      ],
    }),
  );
  assertEquals(
    providers.action === "GET_PROVIDERS_RESP" &&
      providers.providers.map((p) => p.storedAt),
    [1700000000.25],
  );
});
