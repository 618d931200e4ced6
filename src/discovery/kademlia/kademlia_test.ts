import { assert, assertEquals } from "../../../tests/assert.ts";
import { FakeNet } from "./_testing.ts";
import type { FakeNode } from "./_testing.ts";
import { bucketIndex } from "./distance.ts";
import { Identity } from "../../crypto/mod.ts";
import { Kademlia, randomIdInBucket } from "./kademlia.ts";
import { signRecord } from "./record_proof.ts";
import { decodeRpc, encodeRpc } from "./rpc_codec.ts";
import { providerKey } from "./skill_keys.ts";

/** A network of `n` nodes on distinct hosts, each knowing a few others. */
async function network(
  n: number,
): Promise<{ net: FakeNet; nodes: FakeNode[] }> {
  const net = new FakeNet();
  const nodes: FakeNode[] = [];
  for (let i = 0; i < n; i++) {
    nodes.push(await net.add(`10.0.${i >> 8}.${i & 255}`));
  }
  for (const [i, node] of nodes.entries()) {
    for (let j = 1; j <= 3; j++) {
      const other = nodes[(i + j * 7) % n]!;
      if (other !== node) {
        node.dht.observe({ nodeId: other.identity.nodeId, ...other.address });
      }
    }
  }
  // Each node looks itself up, as a joining node does.
  for (const node of nodes) {
    await net.run(node.dht.findNode(node.identity.nodeId));
  }
  return { net, nodes };
}

Deno.test("Kademlia.findNode() converges on the closest nodes of a 40-node network", async () => {
  const { net, nodes } = await network(40);
  const target = nodes[5]!.identity.nodeId;
  const found = await net.run(nodes[30]!.dht.findNode(target));
  assertEquals(found.closest[0]!.nodeId, target);
  assert(found.rounds >= 1 && found.rounds <= 20);
  await net.close();
});

Deno.test("Kademlia.provide() then findProviders() finds a signed record by skill and by tag", async () => {
  const { net, nodes } = await network(40);
  const provider = nodes[3]!;
  const sent = await net.run(provider.dht.provide("Echo/"));
  assert(sent >= 10, `sent ${sent}`);
  await net.run(provider.dht.provide("tag:text"));
  const before = net.messages;
  const steps: string[] = [];
  const found = await net.run(
    nodes[27]!.dht.findProviders(" echo", {
      onStep: (s) => steps.push(s.outcome),
    }),
  );
  assertEquals(found.providers.map((p) => [p.nodeId, p.host, p.port]), [
    [provider.identity.nodeId, provider.address.host, provider.address.port],
  ]);
  assert(found.providers[0]!.proof, "record carries the provider's signature");
  assert(
    net.messages - before <= 3 * Math.log2(40) + 6,
    `${net.messages - before} messages`,
  );
  assert(steps.includes("providers"));
  const tag = await net.run(nodes[11]!.dht.findProviders("tag:text"));
  assertEquals(tag.providers.length, 1);
  const none = await net.run(
    nodes[11]!.dht.findProviders("nobody-offers-this"),
  );
  assertEquals(none.providers, []);
  await net.close();
});

Deno.test("Kademlia lookups survive silent nodes and time out per request", async () => {
  const { net, nodes } = await network(40);
  await net.run(nodes[0]!.dht.provide("echo"));
  for (const n of nodes.slice(10, 14)) {
    net.silent.add(`${n.address.host}:${n.address.port}`);
  }
  const found = await net.run(nodes[20]!.dht.findProviders("echo"));
  assertEquals(found.providers.length, 1);
  net.silent.clear();
  for (const n of nodes) {
    if (n !== nodes[21]) {
      net.silent.add(`${n.address.host}:${n.address.port}`);
    }
  }
  const t0 = net.time.now();
  const lost = await net.run(nodes[21]!.dht.findProviders("echo"));
  assert(net.time.now() - t0 <= 5.001, "the whole lookup stops at 5 s");
  assertEquals(lost.providers, []);
  assert(lost.timeouts > 0);
  assert(nodes[21]!.dht.stats.lookupFailures >= 1);
  await net.close();
});

Deno.test("Kademlia.handle() drops hostile and unauthorized messages without throwing", async (t) => {
  const { net, nodes } = await network(6);
  const [a, b] = [nodes[0]!, nodes[1]!];
  const from = b.identity.nodeId;
  const send = (action: string, payload: string, nodeId = from) =>
    a.dht.handle({ node_id: nodeId, action, payload }, from, b.address.host);
  await t.step("malformed, wrongly typed and huge payloads", async () => {
    const dropped = a.dht.stats.dropped;
    await send("FIND_NODE", "{not json");
    await send("FIND_NODE", '{"_request_id": 7, "target": []}');
    await send("GET_PROVIDERS", '{"_request_id": "x", "skill_key": {"a": 1}}');
    await send("PUT_PROVIDER", "null");
    await send(
      "FIND_NODE_RESP",
      JSON.stringify({ _request_id: "x", peers: Array(5000).fill("p") }),
    );
    await send("GET_PROVIDERS", "x".repeat(1_000_000));
    await send("WHATEVER", "{}");
    assertEquals(a.dht.stats.dropped - dropped, 7);
  });
  await t.step("a node_id that is not the signer's", async () => {
    const dropped = a.dht.stats.dropped;
    await send(
      "FIND_NODE",
      JSON.stringify({ _request_id: "x", target: from }),
      "c".repeat(64),
    );
    assertEquals(a.dht.stats.dropped - dropped, 1);
  });
  await t.step(
    "a PUT_PROVIDER without a valid token is not stored",
    async () => {
      const put = encodeRpc({
        action: "PUT_PROVIDER",
        requestId: "p",
        skillKey: "echo",
        sidecarPort: 0,
        token: "f".repeat(32),
      });
      await send(put.action, put.payload);
      assertEquals(a.dht.records.get(await providerKey("echo")), []);
    },
  );
  await t.step("more than 10 PUT_PROVIDER a minute are refused", async () => {
    const dropped = a.dht.stats.dropped;
    const put = encodeRpc({
      action: "PUT_PROVIDER",
      requestId: "p",
      skillKey: "echo",
      sidecarPort: 0,
      token: "",
    });
    for (let i = 0; i < 12; i++) await send(put.action, put.payload);
    // Ten refused for the token (after the earlier one: nine), then two over the limit.
    assertEquals(a.dht.stats.dropped - dropped, 12);
    net.time.advance(61_000);
  });
  await t.step("an unsolicited reply settles nothing", async () => {
    const reply = encodeRpc({
      action: "FIND_NODE_RESP",
      requestId: "nobody-asked",
      peers: [],
    });
    const dropped = a.dht.stats.dropped;
    await send(reply.action, reply.payload);
    assertEquals(a.dht.stats.dropped - dropped, 1);
  });
  await net.close();
});

Deno.test("Kademlia records expire after their TTL", async () => {
  const { net, nodes } = await network(8);
  await net.run(nodes[0]!.dht.provide("echo"));
  const key = await providerKey("echo");
  const holders = nodes.filter((n) => n.dht.records.get(key).length > 0);
  assert(holders.length > 0);
  net.time.advance(1_801_000);
  assertEquals(holders.flatMap((n) => n.dht.records.get(key)), []);
  await net.close();
});

Deno.test("Kademlia refuses a PUT_PROVIDER for a key it is far from (over 2x the k-th closest it knows)", async () => {
  const net = new FakeNet();
  const a = await net.add("10.1.0.1", { k: 2 });
  const b = await net.add("10.1.0.2");
  const others = [];
  for (let i = 0; i < 12; i++) others.push(await net.add(`10.2.0.${i}`));
  for (const o of [b, ...others]) {
    a.dht.observe({ nodeId: o.identity.nodeId, ...o.address });
  }
  const { idToBigInt } = await import("./distance.ts");
  const dist = async (id: string, skill: string) =>
    idToBigInt(id) ^ idToBigInt(await providerKey(skill));
  const pick = async (far: boolean) => {
    for (let i = 0;; i++) {
      const skill = `s${i}`;
      const key = await providerKey(skill);
      const kth = a.dht.table.closest(key, 2)[1]!.nodeId;
      const isFar =
        (await dist(a.identity.nodeId, skill)) > 2n * (await dist(kth, skill));
      if (isFar === far) return skill;
    }
  };
  const replies: string[] = [];
  const deliver = net.deliver.bind(net);
  net.deliver = (fromId, from, to, action, payload) => {
    if (action === "GET_PROVIDERS_RESP") replies.push(payload);
    return deliver(fromId, from, to, action, payload);
  };
  const putVia = async (skill: string) => {
    const ask = encodeRpc({
      action: "GET_PROVIDERS",
      requestId: skill,
      skillKey: skill,
    });
    await a.dht.handle(
      { node_id: b.identity.nodeId, ...ask },
      b.identity.nodeId,
      b.address.host,
    );
    const token = JSON.parse(replies.at(-1)!).token as string;
    const put = encodeRpc({
      action: "PUT_PROVIDER",
      requestId: "p",
      skillKey: skill,
      sidecarPort: 0,
      token,
    });
    await a.dht.handle(
      { node_id: b.identity.nodeId, ...put },
      b.identity.nodeId,
      b.address.host,
    );
    return a.dht.records.get(await providerKey(skill)).length;
  };
  assertEquals(await putVia(await pick(true)), 0);
  assertEquals(await putVia(await pick(false)), 1);
  await net.settle();
  await net.close();
});

Deno.test("Kademlia.refresh() looks up its own id (and random ids of stale buckets): no bucket stays stale", async () => {
  const { net, nodes } = await network(20);
  const a = nodes[0]!;
  for (let i = 0; i < 50; i++) {
    const id = randomIdInBucket(a.identity.nodeId, 200 + (i % 50));
    assertEquals(bucketIndex(a.identity.nodeId, id), 200 + (i % 50));
  }
  const fresh = await net.run(a.dht.refresh());
  assertEquals(fresh, 1);
  net.time.advance(3_601_000);
  await net.run(a.dht.refresh());
  const now = net.time.now();
  for (const i of a.dht.table.usedBuckets()) {
    assert(
      now - a.dht.table.bucket(i).at(-1)!.lastSeen < 3600,
      `bucket ${i} is fresh`,
    );
  }
  await net.close();
});

/** One node with a capturing `send` and a peer table holding only `peers`. */
async function lone(peers: Map<string, { host: string; port: number }>) {
  const identity = await Identity.generate();
  const sent: { to: string; action: string; payload: string }[] = [];
  const dht = new Kademlia({
    self: {
      nodeId: identity.nodeId,
      host: "10.2.0.1",
      port: 9000,
      sidecarPort: 0,
    },
    signer: identity,
    clock: { now: () => 1_700_000_000 },
    send: (to, action, payload) => {
      sent.push({ to: `${to.host}:${to.port}`, action, payload });
      return Promise.resolve();
    },
    addressOf: (id) => peers.get(id),
  });
  const last = () => {
    const m = sent.at(-1)!;
    return { to: m.to, rpc: decodeRpc(m.action, m.payload) };
  };
  return { dht, sent, last };
}

Deno.test("Kademlia.handle() answers a requester that is no peer (a one-shot client) but keeps it out of the routing table", async () => {
  const peer = await Identity.generate();
  const client = await Identity.generate();
  const { dht, last } = await lone(
    new Map([[peer.nodeId, { host: "10.2.0.2", port: 9000 }]]),
  );
  const ask = (who: string, replyPort: number, host: string) => {
    const { action, payload } = encodeRpc({
      action: "FIND_NODE",
      requestId: `r-${who.slice(0, 4)}`,
      target: who,
      replyPort,
    });
    return dht.handle({ node_id: who, action, payload }, who, host);
  };
  await ask(client.nodeId, 5555, "10.2.0.9");
  assertEquals(last().to, "10.2.0.9:5555");
  assertEquals(dht.table.get(client.nodeId), undefined);
  assertEquals(dht.table.size, 0);
  await ask(peer.nodeId, 9000, "10.2.0.2");
  assertEquals(last().to, "10.2.0.2:9000");
  assertEquals(dht.table.get(peer.nodeId)?.port, 9000);
  await dht.close();
});

Deno.test("Kademlia.handle() replies to, and records puts at, the new port a known peer names from its own host (a restart)", async () => {
  const peer = await Identity.generate();
  // The peer table still holds the port from before the peer's restart.
  const { dht, last } = await lone(
    new Map([[peer.nodeId, { host: "10.2.0.2", port: 9000 }]]),
  );
  const send = async (
    rpc: Parameters<typeof encodeRpc>[0],
    host = "10.2.0.2",
  ) => {
    const { action, payload } = encodeRpc(rpc);
    await dht.handle(
      { node_id: peer.nodeId, action, payload },
      peer.nodeId,
      host,
    );
  };
  await send({
    action: "GET_PROVIDERS",
    requestId: "g",
    skillKey: "echo",
    replyPort: 9100,
  });
  const reply = last();
  assertEquals(reply.to, "10.2.0.2:9100");
  assertEquals(dht.table.get(peer.nodeId)?.port, 9100);
  assert(reply.rpc.action === "GET_PROVIDERS_RESP");
  const key = await providerKey("echo");
  await send({
    action: "PUT_PROVIDER",
    requestId: "p",
    skillKey: "echo",
    sidecarPort: 0,
    token: reply.rpc.token,
    proof: await signRecord(peer, {
      key,
      nodeId: peer.nodeId,
      sidecarPort: 0,
      issuedAt: 1_700_000_000,
    }),
    replyPort: 9100,
  });
  assertEquals(
    dht.records.get(key).map((r) => `${r.host}:${r.port}`),
    ["10.2.0.2:9100"],
  );
  // A port named from another host does not redirect replies away from the known address.
  await send({
    action: "FIND_NODE",
    requestId: "f",
    target: peer.nodeId,
    replyPort: 7777,
  }, "10.2.0.66");
  assertEquals(last().to, "10.2.0.2:9000");
  await dht.close();
});
