import { assert, assertEquals } from "./assert.ts";
import { KnarrNode } from "../src/node/mod.ts";
import type { LookupStep } from "../src/discovery/mod.ts";
import { ECHO_SHEET } from "./fixtures/sheets.ts";

function node(): Promise<KnarrNode> {
  return KnarrNode.create({ host: "127.0.0.1", port: 0 });
}

async function waitFor(what: string, fn: () => boolean, ms = 3000) {
  const start = performance.now();
  while (!fn()) {
    if (performance.now() - start > ms) {
      throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Five nodes on 127.0.0.1: b…e join a. */
async function network(): Promise<KnarrNode[]> {
  const nodes: KnarrNode[] = [];
  for (let i = 0; i < 5; i++) {
    const n = await node();
    await n.start({ maintenance: false });
    nodes.push(n);
  }
  for (const n of nodes.slice(1)) await n.join([nodes[0]!.address]);
  return nodes;
}

Deno.test("KnarrNode.query() over TCP: announce puts DHT records, name and tag queries find them", async () => {
  const nodes = await network();
  try {
    const [, , c, , e] = nodes as [
      KnarrNode,
      KnarrNode,
      KnarrNode,
      KnarrNode,
      KnarrNode,
    ];
    await c.announce(ECHO_SHEET);
    // One record for the name and one for the tag, each at every other node (k > 4).
    const stored = () =>
      nodes.reduce((n, x) => n + (x.stats.kademlia?.recordsStored ?? 0), 0);
    await waitFor("DHT records", () => stored() >= 4);
    const steps: LookupStep[] = [];
    const byName = await e.query({ name: "echo" }, {
      onStep: (s) => steps.push(s),
    });
    assertEquals(byName.map((r) => [r.node_id, r.port]), [[
      c.nodeId,
      c.address.port,
    ]]);
    assertEquals(e.stats.dht?.dhtAnswered, 1);
    assert(steps.length >= 1 && steps.some((s) => s.outcome === "providers"));
    assert((e.stats.kademlia?.lookups ?? 0) >= 1);
    const byTag = await e.query({ tag: "example" });
    assertEquals(byTag.map((r) => r.node_id), [c.nodeId]);
    assertEquals(e.stats.dht?.dhtAnswered, 2);
  } finally {
    for (const n of nodes) await n.close();
  }
});

Deno.test("KnarrNode.query() falls back to the gossip / query path when the DHT has no record", async () => {
  await using a = await node();
  await using b = await node();
  await using c = await node();
  for (const n of [a, b, c]) await n.start({ maintenance: false });
  // Announced while a knows nobody to put at: only the gossip / sync path has it.
  await a.announce(ECHO_SHEET);
  await b.join([a.address]);
  await c.join([a.address]);
  const results = await c.query({ name: "echo" }, { timeoutMs: 2000 });
  assertEquals(results.map((r) => r.node_id), [a.nodeId]);
  assertEquals(c.stats.dht?.fallbacks, 1);
  assertEquals(c.stats.dht?.dhtAnswered, 0);
});

Deno.test("KnarrNode.deregister(): the DHT record no longer yields the skill (its provider no longer answers for it)", async () => {
  const nodes = await network();
  try {
    const [, , c, d] = nodes as [KnarrNode, KnarrNode, KnarrNode, KnarrNode];
    await c.announce(ECHO_SHEET);
    const stored = () =>
      nodes.reduce((n, x) => n + (x.stats.kademlia?.recordsStored ?? 0), 0);
    await waitFor("DHT records", () => stored() >= 4);
    await c.deregister("echo");
    await waitFor(
      "deregister gossip",
      () => d.discovery.skills.get("echo", c.nodeId) === undefined,
    );
    const results = await d.query({ name: "echo" }, { timeoutMs: 2000 });
    assertEquals(results, []);
    assertEquals(d.stats.dht?.dhtAnswered, 0);
  } finally {
    for (const n of nodes) await n.close();
  }
});

Deno.test("KnarrNode drops hostile knarr-kademlia messages over TCP and keeps its routing table in SQLite", async () => {
  await using a = await node();
  await using b = await node();
  for (const n of [a, b]) await n.start({ maintenance: false });
  await b.join([a.address]);
  const send = (action: string, payload: string) =>
    b.sendMessage(a.address, "PLUGIN_MESSAGE", {
      node_id: b.nodeId,
      plugin_name: "knarr-kademlia",
      action,
      payload,
    });
  assertEquals(await send("FIND_NODE", "{oops"), null);
  assertEquals(
    await send("GET_PROVIDERS", '{"_request_id": [], "skill_key": 1}'),
    null,
  );
  assertEquals(
    await send(
      "FIND_NODE_RESP",
      JSON.stringify({ _request_id: "x", peers: Array(9999).fill(0) }),
    ),
    null,
  );
  await waitFor("three drops", () => (a.stats.kademlia?.dropped ?? 0) >= 3);
  // Another plugin's message is ignored, and the node still answers lookups.
  const dropped = a.stats.kademlia?.dropped;
  await b.sendMessage(a.address, "PLUGIN_MESSAGE", {
    node_id: b.nodeId,
    plugin_name: "some-other-plugin",
    action: "FIND_NODE",
    payload: "{}",
  }, { timeoutMs: 300 }).catch(() => null);
  assertEquals(a.stats.kademlia?.dropped, dropped);
  assertEquals(
    await b.query({ name: "nothing-here" }, { timeoutMs: 1000 }),
    [],
  );
  assert((b.stats.kademlia?.lookups ?? 0) >= 1);
  const rows = a.db.all("SELECT node_id FROM kad_contacts").map((r) =>
    r.node_id
  );
  assertEquals(rows, [b.nodeId]);
});

Deno.test("KnarrNode.announce() before join() (as knarr serve does): the DHT records are put within seconds of the join", async () => {
  const nodes = await network();
  await using late = await node();
  try {
    await late.start({ maintenance: false });
    // Nobody to put at yet: the records are owed, and retried soon rather than in 30 s.
    await late.announce(ECHO_SHEET);
    assertEquals(late.stats.dht?.recordsPut, 0);
    await late.join([nodes[0]!.address]);
    await waitFor("DHT records", () => (late.stats.dht?.recordsPut ?? 0) >= 4);
    const results = await nodes[3]!.query({ name: "echo" });
    assertEquals(results.map((r) => r.node_id), [late.nodeId]);
    assertEquals(nodes[3]!.stats.dht?.dhtAnswered, 1);
  } finally {
    for (const n of nodes) await n.close();
  }
});
