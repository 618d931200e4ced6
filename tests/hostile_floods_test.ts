/**
 * Regression tests for floods of valid, signed messages (`bench/hostile_peers.ts`:
 * join-flood-many, announce-flood, sidecar-signed-flood): what they may grow in a node's
 * tables, its gossip and its sidecar's replay memory, reproduced small and fast.
 */
import { assert, assertEquals } from "./assert.ts";
import { Identity } from "../src/crypto/mod.ts";
import { KnarrNode } from "../src/node/mod.ts";
import type { KnarrNodeOptions } from "../src/node/mod.ts";
import { encodeFrame, encodeMessage, signMessage } from "../src/wire/mod.ts";
import type {
  JsonObject,
  MessageFields,
  MessageType,
} from "../src/wire/mod.ts";
import { rawExchange, signedHead, startSidecar } from "./sidecar_helpers.ts";
import { exchangeFrame } from "./exchange_helpers.ts";

/** Sends one signed message from `localAddress`; the reply's message, or null when closed. */
async function sendFrom<T extends MessageType>(
  localAddress: string,
  port: number,
  type: T,
  fields: MessageFields<T>,
  signer: Identity,
): Promise<Record<string, unknown> | null> {
  const message = await signMessage(type, fields, signer);
  return await exchangeFrame(
    port,
    encodeFrame(encodeMessage(message)),
    localAddress,
  );
}

function sheet(name: string): JsonObject {
  return {
    name,
    version: "1.0.0",
    description: "flood",
    tags: ["flood"],
    input_schema: {},
    output_schema: {},
  };
}

/** A listener that counts the connections a node makes to it (each gossip forward is one). */
function dialCounter() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let dials = 0;
  const serving = (async () => {
    for await (const conn of listener) {
      dials++;
      conn.close();
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    get dials() {
      return dials;
    },
    async [Symbol.asyncDispose]() {
      listener.close();
      await serving.catch(() => {});
    },
  };
}

async function started(options: KnarrNodeOptions): Promise<KnarrNode> {
  const node = await KnarrNode.create({ host: "127.0.0.1", ...options });
  await node.start({ maintenance: false });
  return node;
}

Deno.test("KnarrNode caps the peers that JOIN_REQUESTs from one address add", async () => {
  await using node = await started({
    peers: { maxPeersPerAddress: 4, exemptLoopback: false },
  });
  const port = node.address.port;
  const answers: unknown[] = [];
  for (let i = 0; i < 10; i++) {
    const fresh = await Identity.generate();
    const reply = await sendFrom("127.0.0.5", port, "JOIN_REQUEST", {
      node_id: fresh.nodeId,
      host: `10.254.0.${i}`,
      port: 9000,
      ephemeral: false,
    }, fresh);
    answers.push(reply?.type);
  }
  // Still answered, but before, each added a peer (50 a second from one address, kept 300 s).
  assertEquals(answers, Array(10).fill("JOIN_RESPONSE"));
  assertEquals(node.discovery.peers.size, 4);
  assertEquals(node.discovery.peers.stats.refused, 6);
  const other = await Identity.generate();
  await sendFrom("127.0.0.6", port, "JOIN_REQUEST", {
    node_id: other.nodeId,
    host: "10.254.1.1",
    port: 9000,
    ephemeral: false,
  }, other);
  assert(node.discovery.peers.get(other.nodeId) !== undefined);
});

Deno.test("KnarrNode stores and gossips a flood of ANNOUNCEs from fresh keys only within its limits", async () => {
  await using counter = dialCounter();
  await using node = await started({
    skills: { maxRemoteSkills: 20, maxSkillsPerProvider: 2 },
    discovery: { forwardsPerSecond: 1 },
    requestRatePerAddress: null,
  });
  const port = node.address.port;
  const announce = (key: Identity, name: string, from: string) =>
    sendFrom(from, port, "ANNOUNCE", {
      node_id: key.nodeId,
      skill_key: name,
      skill_sheet: sheet(name),
      provider_host: "127.0.0.1",
      provider_port: counter.port,
    }, key);
  // One key, ever new skills: past its cap they get an error ACK and are not passed on.
  const hoarder = await Identity.generate();
  const statuses = [];
  for (let i = 0; i < 4; i++) {
    statuses.push((await announce(hoarder, `h${i}`, "127.0.0.7"))?.status);
  }
  assertEquals(statuses, ["ok", "ok", "error", "error"]);
  // Fresh keys, each one skill, from 4 addresses.
  for (let i = 0; i < 40; i++) {
    await announce(
      await Identity.generate(),
      `f${i}`,
      `127.0.0.${10 + (i & 3)}`,
    );
  }
  await new Promise((r) => setTimeout(r, 300));
  // Before: 42 skills kept and every one passed on to 3 peers (126 dials). Now the table
  // keeps its 20 newest and the budget (10 at once) passes on 10 of the 42.
  assertEquals(node.discovery.skills.size, 20);
  const stats = node.discovery.stats;
  assertEquals(stats.announcesForwarded, 10);
  assertEquals(stats.forwardsDropped, 32);
  assert(counter.dials <= 30, `${counter.dials} forwards`);
});

Deno.test("KnarrNode rates ANNOUNCE and DEREGISTER per address with the request rate", async () => {
  await using node = await started({
    requestRatePerAddress: { ratePerSecond: 1, burst: 3 },
  });
  const key = await Identity.generate();
  const replies = [];
  for (let i = 0; i < 3; i++) {
    replies.push(
      (await sendFrom("127.0.0.8", node.address.port, "ANNOUNCE", {
        node_id: key.nodeId,
        skill_key: `r${i}`,
        skill_sheet: sheet(`r${i}`),
      }, key))?.type ?? "closed",
    );
  }
  for (let i = 0; i < 2; i++) {
    replies.push(
      (await sendFrom("127.0.0.8", node.address.port, "DEREGISTER", {
        node_id: key.nodeId,
        skill_key: `r${i}`,
      }, key))?.type ?? "closed",
    );
  }
  // Before: gossip was not rated at all.
  assertEquals(replies, ["ACK", "ACK", "ACK", "closed", "closed"]);
  assertEquals(node.stats.rejected["rate limited"], 2);
});

Deno.test("KnarrNode rates requests from all addresses together after each address's own rate", async () => {
  await using node = await started({
    requestRatePerAddress: { ratePerSecond: 1, burst: 2 },
    requestRateTotal: { ratePerSecond: 1, burst: 4 },
  });
  const key = await Identity.generate();
  const replies = [];
  // Two addresses within their own rate use the shared budget; a third finds it spent.
  for (
    const from of [
      "127.0.0.21",
      "127.0.0.21",
      "127.0.0.22",
      "127.0.0.22",
      "127.0.0.23",
    ]
  ) {
    replies.push(
      (await sendFrom(from, node.address.port, "QUERY", {
        query_type: "all",
      }, key))?.type ?? "closed",
    );
  }
  // An address over its own rate does not spend the shared budget.
  replies.push(
    (await sendFrom("127.0.0.21", node.address.port, "QUERY", {
      query_type: "all",
    }, key))?.type ?? "closed",
  );
  assertEquals(replies, [
    ...Array(4).fill("QUERY_RESPONSE"),
    "closed",
    "closed",
  ]);
  assertEquals(node.stats.rejected["rate limited (all addresses)"], 1);
  assertEquals(node.stats.rejected["rate limited"], 1);
});

Deno.test("KnarrNode passes on a DEREGISTER only when it withdrew a skill it had", async () => {
  await using counter = dialCounter();
  await using node = await started({});
  const port = node.address.port;
  const observer = await Identity.generate();
  await sendFrom("127.0.0.9", port, "JOIN_REQUEST", {
    node_id: observer.nodeId,
    host: "127.0.0.1",
    port: counter.port,
    ephemeral: false,
  }, observer);
  const key = await Identity.generate();
  for (let i = 0; i < 5; i++) {
    // Withdrawals of nothing, each with a new message id.
    await sendFrom("127.0.0.9", port, "DEREGISTER", {
      node_id: key.nodeId,
      skill_key: `never-${i}`,
    }, key);
  }
  await new Promise((r) => setTimeout(r, 200));
  // Before: each was passed on to `fanout` peers.
  assertEquals(counter.dials, 0);
  await sendFrom("127.0.0.9", port, "ANNOUNCE", {
    node_id: key.nodeId,
    skill_key: "real",
    skill_sheet: sheet("real"),
  }, key);
  await sendFrom("127.0.0.9", port, "DEREGISTER", {
    node_id: key.nodeId,
    skill_key: "real",
  }, key);
  await new Promise((r) => setTimeout(r, 200));
  assertEquals(counter.dials, 2);
  assertEquals(node.discovery.skills.size, 0);
});

Deno.test("SidecarServer keeps serving signed requests once a flood fills its replay memory", async () => {
  await using sidecar = await startSidecar({ server: { replayMemory: 40 } });
  const flooder = await Identity.generate();
  const now = Math.floor(Date.now() / 1000);
  for (let i = 0; i < 40; i++) {
    const head = await signedHead(
      flooder,
      "HEAD",
      `/assets/${"0".repeat(63)}${i % 10}`,
      {
        timestamp: now - 30 - Math.floor(i / 10),
      },
    );
    assertEquals((await rawExchange(sidecar, head)).status, 404);
  }
  // Before: 401 for everyone until the flood's timestamps left the window (up to 2 minutes).
  const honest = await signedHead(await Identity.generate(), "GET", "/assets", {
    timestamp: now,
  });
  assertEquals((await rawExchange(sidecar, honest)).status, 200);
  // What was forgotten to make room cannot be replayed.
  const replay = await signedHead(
    flooder,
    "HEAD",
    `/assets/${"0".repeat(64)}`,
    {
      timestamp: now - 33,
    },
  );
  assertEquals((await rawExchange(sidecar, replay)).status, 401);
});

Deno.test("KnarrNode answers a QUERY with at most 100 results and SYNC_REQUESTs at a rate of their own", async () => {
  await using node = await started({});
  for (let i = 0; i < 120; i++) await node.announce(sheet(`s${i}`));
  const key = await Identity.generate();
  const port = node.address.port;
  const all = await sendFrom("127.0.0.31", port, "QUERY", {
    query_type: "all",
  }, key);
  // Before: all 120; a node holding 10,000 skills answered "all" with megabytes.
  assertEquals((all?.results as unknown[]).length, 100);
  const syncs = [];
  for (let i = 0; i < 7; i++) {
    syncs.push(
      (await sendFrom("127.0.0.32", port, "SYNC_REQUEST", { since: 0 }, key))
        ?.type ?? "closed",
    );
  }
  // Five at once, then one a second (the SYNC_RESPONSE lists every skill).
  assertEquals(syncs.slice(0, 5), Array(5).fill("SYNC_RESPONSE"));
  assertEquals(syncs.slice(5), ["closed", "closed"]);
  // Other requests from that address are still within their rate.
  const query = await sendFrom("127.0.0.32", port, "QUERY", {
    query_type: "name",
    value: "s1",
  }, key);
  assertEquals((query?.results as unknown[]).length, 1);
});
