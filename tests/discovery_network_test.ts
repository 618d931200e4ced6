import { join } from "node:path";
import { assert, assertEquals } from "./assert.ts";
import { KnarrNode } from "../src/node/mod.ts";
import type { KnarrNodeOptions } from "../src/node/mod.ts";
import { ECHO_SHEET } from "./fixtures/sheets.ts";
import { DemandRepo } from "../src/store/mod.ts";

const ECHO = ECHO_SHEET;

function node(options: KnarrNodeOptions = {}): Promise<KnarrNode> {
  return KnarrNode.create({ host: "127.0.0.1", port: 0, ...options });
}

async function waitFor(
  what: string,
  fn: () => boolean | Promise<boolean>,
  ms = 1000,
): Promise<number> {
  const start = performance.now();
  while (!(await fn())) {
    if (performance.now() - start > ms) {
      throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return performance.now() - start;
}

Deno.test("KnarrNode.join() propagates peer tables: B joins A, C joins B, C knows A and B", async () => {
  await using a = await node();
  await using b = await node();
  await using c = await node();
  for (const n of [a, b, c]) await n.start({ maintenance: false });
  assertEquals((await b.join([a.address])).via, a.address);
  await c.join([b.address]);
  const cPeers = c.discovery.peers.list().map((p) => p.nodeId).sort();
  assertEquals(cPeers, [a.nodeId, b.nodeId].sort());
  assertEquals(a.discovery.peers.list().map((p) => p.nodeId), [b.nodeId]);
  assertEquals(
    b.discovery.peers.list().map((p) => p.nodeId).sort(),
    [a.nodeId, c.nodeId].sort(),
  );
});

Deno.test("Ephemeral joins are not recorded as peers", async () => {
  await using a = await node();
  await using q = await node();
  await a.start({ maintenance: false });
  await q.start({ maintenance: false });
  const outcome = await q.join([a.address], { ephemeral: true });
  assertEquals(outcome.via, a.address);
  assertEquals(a.discovery.peers.size, 0);
  assertEquals(q.discovery.peers.size, 1);
});

Deno.test("Gossip: an announce reaches a node two hops away within 1 s; sync and deregister work", async () => {
  await using a = await node();
  await using b = await node();
  await using c = await node();
  await using d = await node();
  for (const n of [a, b, c, d]) await n.start({ maintenance: false });
  await a.join([b.address]); // A knows only B
  await c.join([b.address]); // C knows B and A; A does not know C
  assertEquals(a.discovery.peers.list().map((p) => p.nodeId), [b.nodeId]);
  await a.announce(ECHO);
  const hop2 = await waitFor(
    "C to learn echo through B",
    () => c.discovery.skills.get("echo", a.nodeId) !== undefined,
  );
  assert(hop2 < 1000);
  const found = await c.query({ name: "echo" }, { network: false });
  assertEquals(found.map((r) => [r.node_id, r.host, r.port]), [[
    a.nodeId,
    a.address.host,
    a.address.port,
  ]]);
  // A node that joins afterwards finds it at once through sync.
  await d.join([b.address]);
  assertEquals(
    (await d.query({ name: "echo" }, { network: false })).map((r) => r.node_id),
    [a.nodeId],
  );
  // A deregister reaches B, C and D within 1 s.
  await a.deregister("echo");
  await waitFor(
    "deregister to spread",
    () =>
      [b, c, d].every((n) =>
        n.discovery.skills.get("echo", a.nodeId) === undefined
      ),
  );
});

Deno.test("Query by name and by tag over the network; private skills never leave the node", async () => {
  await using a = await node();
  await using b = await node();
  for (const n of [a, b]) await n.start({ maintenance: false });
  await b.join([a.address]);
  await a.announce({ ...ECHO, name: "secret", tags: ["hidden"] }, {
    visibility: "private",
  });
  await a.announce({ ...ECHO, name: "summarize", tags: ["nlp", "text"] });
  // b asks the network (its local copy came by gossip; clear it to force a network query)
  b.discovery.skills.remove("summarize", a.nodeId);
  const byName = await b.query({ name: "summarize" });
  assertEquals(byName.map((r) => r.node_id), [a.nodeId]);
  const byTag = await b.query({ tag: "NLP" });
  assertEquals(byTag.map((r) => r.skill_sheet.name), ["summarize"]);
  assertEquals(await b.query({ name: "secret" }), []);
  assertEquals(await b.query({ tag: "hidden" }), []);
  assert(b.discovery.skills.get("secret", a.nodeId) === undefined);
  const all = await b.query({ all: true });
  assertEquals(all.map((r) => r.skill_sheet.name), ["summarize"]);
});

Deno.test("A zero-result query is recorded as demand on the nodes asked", async () => {
  await using a = await node();
  await using b = await node();
  for (const n of [a, b]) await n.start({ maintenance: false });
  await b.join([a.address]);
  assertEquals(await b.query({ name: "translate-de" }), []);
  assertEquals(
    new DemandRepo(a.db).list().map((
      r,
    ) => [r.queryValue, r.queryType, r.count]),
    [["translate-de", "name", 1]],
  );
});

Deno.test("Restart keeps identity, peers and own skills, and rejoins", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "knarr-restart-" });
  await using a = await node();
  await a.start({ maintenance: false });
  let firstId: string;
  {
    await using b = await node({ storage: join(dir, "b.db") });
    await b.start({ maintenance: false });
    await b.join([a.address]);
    await b.announce(ECHO);
    firstId = b.nodeId;
  }
  await using b = await node({ storage: join(dir, "b.db") });
  await b.start({ maintenance: false });
  assertEquals(b.nodeId, firstId);
  assertEquals(b.discovery.peers.list().map((p) => p.nodeId), [a.nodeId]);
  assertEquals(b.discovery.skills.own().map((e) => e.skillKey), ["echo"]);
  await b.join([a.address]);
  await waitFor(
    "A to learn B's re-announced skill",
    () => a.discovery.skills.get("echo", b.nodeId) !== undefined,
  );
});

Deno.test("Peers expire when silent and come back when they return", async () => {
  await using a = await node({
    discovery: {
      heartbeatAfter: 0.05,
      peerExpiry: 0.2,
      minPeers: 0,
      tickMs: 20,
    },
  });
  await a.start();
  const storage = join(Deno.makeTempDirSync(), "b.db");
  let bPort: number;
  {
    await using b = await node({ storage });
    await b.start({ maintenance: false });
    await b.join([a.address]);
    bPort = b.address.port;
    assertEquals(a.discovery.peers.size, 1);
  }
  await waitFor("A to expire B", () => a.discovery.peers.size === 0, 3000);
  await using b = await node({ storage, port: bPort });
  await b.start({ maintenance: false });
  await b.join([a.address]);
  assertEquals(a.discovery.peers.list().map((p) => p.nodeId), [b.nodeId]);
});

Deno.test("Heartbeats keep a live peer: it is not expired", async () => {
  await using a = await node({
    discovery: {
      heartbeatAfter: 0.05,
      peerExpiry: 0.3,
      minPeers: 0,
      tickMs: 20,
    },
  });
  await using b = await node();
  await a.start();
  await b.start({ maintenance: false });
  await b.join([a.address]);
  await new Promise((r) => setTimeout(r, 600));
  assertEquals(a.discovery.peers.list().map((p) => p.nodeId), [b.nodeId]);
});

Deno.test("A node with no peers left re-joins its bootstrap with backoff", async () => {
  await using a = await node();
  await a.start({ maintenance: false });
  await using b = await node({ discovery: { tickMs: 20, rejoinMin: 0.05 } });
  await b.start();
  await b.join([a.address]);
  b.discovery.peers.remove(a.nodeId);
  await waitFor("B to re-join A", () => b.discovery.peers.size === 1, 2000);
});

Deno.test("Discovery.exchangePeers() learns a random peer's table after joining", async () => {
  await using a = await node();
  await using b = await node();
  await using c = await node();
  for (const n of [a, b, c]) await n.start({ maintenance: false });
  await b.join([a.address]); // b knows a
  await c.join([a.address]); // c knows a and b; a knows b and c; b still knows only a
  assertEquals(b.discovery.peers.list().map((p) => p.nodeId), [a.nodeId]);
  assertEquals(await b.discovery.exchangePeers(), 1);
  assertEquals(
    b.discovery.peers.list().map((p) => p.nodeId).sort(),
    [a.nodeId, c.nodeId].sort(),
  );
});

Deno.test("The in-memory transport runs the same discovery protocol as TCP", async () => {
  const { MemoryNetwork } = await import("../src/node/mod.ts");
  const net = new MemoryNetwork();
  await using a = await node({ transport: net, host: "10.0.0.1" });
  await using b = await node({ transport: net, host: "10.0.0.2" });
  await using c = await node({ transport: net, host: "10.0.0.3" });
  for (const n of [a, b, c]) await n.start({ maintenance: false });
  await b.join([a.address]);
  await c.join([b.address]);
  await a.announce(ECHO);
  await waitFor(
    "gossip",
    () => c.discovery.skills.get("echo", a.nodeId) !== undefined,
  );
  assertEquals(
    (await c.query({ tag: "example" })).map((r) => [r.node_id, r.host]),
    [[a.nodeId, "10.0.0.1"]],
  );
  assert(net.messages > 0);
});

Deno.test("Discovery prunes expired remote skills and re-announces its own on schedule", async () => {
  let now = 1_000_000;
  const clock = { now: () => now };
  const options = {
    pruneInterval: 60,
    reannounce: 300,
    reannounceJitter: 0,
    tickMs: 3_600_000,
  };
  await using a = await node({ clock, discovery: options });
  await using b = await node({ clock, discovery: options });
  await a.start();
  await b.start();
  await b.join([a.address]);
  await a.announce(ECHO);
  await waitFor(
    "gossip",
    () => b.discovery.skills.get("echo", a.nodeId) !== undefined,
  );
  const firstMsg = b.discovery.skills.get("echo", a.nodeId)!.msgId;
  // 301 s later A re-announces with a fresh signature; B stores the new announcement.
  now += 301;
  await a.discovery.tick();
  await waitFor(
    "re-announce",
    () => b.discovery.skills.get("echo", a.nodeId)?.msgId !== firstMsg,
  );
  // Past the TTL (1800 s with few peers) without re-announcements, B prunes it.
  now += 1801;
  await b.discovery.tick();
  assertEquals(b.discovery.skills.get("echo", a.nodeId), undefined);
});

Deno.test("KnarrNode.withdraw() tells every peer, keeps its own skills for the next start", async () => {
  await using a = await node();
  await using b = await node();
  await using c = await node();
  for (const n of [a, b, c]) await n.start({ maintenance: false });
  await b.join([a.address]);
  await c.join([a.address]);
  await c.discovery.exchangePeers();
  await c.announce(ECHO);
  await waitFor(
    "gossip",
    () => [a, b].every((n) => n.discovery.skills.get("echo", c.nodeId)),
  );
  await c.withdraw();
  assertEquals([a, b].map((n) => n.discovery.skills.get("echo", c.nodeId)), [
    undefined,
    undefined,
  ]);
  assertEquals(c.discovery.skills.own().map((e) => e.skillKey), ["echo"]);
});
