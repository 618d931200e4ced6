/**
 * Discovery benchmarks: in-process networks of 10, 50 and 200 nodes on the in-memory
 * transport (same bytes, signatures and verification as TCP, no sockets), and the wall
 * time of a `knarr query` process against a real TCP node.
 *
 * Run: deno task bench (or deno bench -A bench/discovery_bench.ts)
 */
import { KnarrNode, MemoryNetwork } from "../src/node/mod.ts";
import type { SheetSource } from "../src/discovery/mod.ts";

const SHEET: SheetSource = {
  name: "rare-skill",
  version: "1.0.0",
  description: "Only one provider has it",
  tags: ["bench"],
  inputSchema: {},
  outputSchema: {},
  price: 1,
  maxInputSize: 65_536,
};

interface Net {
  net: MemoryNetwork;
  nodes: KnarrNode[];
}

async function buildNetwork(size: number): Promise<Net> {
  const net = new MemoryNetwork();
  const nodes: KnarrNode[] = [];
  for (let i = 0; i < size; i++) {
    const node = await KnarrNode.create({
      transport: net,
      host: `10.0.${i >> 8}.${i & 255}`,
    });
    await node.start({ maintenance: false });
    if (i > 0) {
      // Join a random earlier node: the network grows like a real one, not as a star.
      await node.join([nodes[Math.floor(Math.random() * i)]!.address]);
    }
    nodes.push(node);
  }
  // Two rounds of peer exchange, as every node does every two minutes.
  for (let round = 0; round < 2; round++) {
    for (const node of nodes) await node.discovery.exchangePeers();
  }
  // The last joiner provides the skill; gossip spreads it for a few hops.
  await nodes[size - 1]!.announce(SHEET);
  await new Promise((r) => setTimeout(r, 50));
  return { net, nodes };
}

const networks = new Map<number, Net>();
for (const size of [10, 50, 200]) networks.set(size, await buildNetwork(size));

/** Picks a querier that did not receive the skill by gossip, so the query must cross the network. */
function querier({ nodes }: Net): KnarrNode {
  const provider = nodes[nodes.length - 1]!;
  return nodes.find((n) =>
    n !== provider && !n.discovery.skills.get("rare-skill", provider.nodeId)
  ) ?? nodes[0]!;
}

const figures: string[] = [];
for (const [size, network] of networks) {
  const q = querier(network);
  const before = network.net.messages;
  const start = performance.now();
  const results = await q.query({ name: "rare-skill" });
  const ms = performance.now() - start;
  const missBefore = network.net.messages;
  const missStart = performance.now();
  await q.query({ name: "no-such-skill" });
  const missMs = performance.now() - missStart;
  const reached = network.nodes.filter((n) =>
    n.discovery.skills.get("rare-skill", network.nodes[size - 1]!.nodeId)
  )
    .length;
  figures.push(
    `${size} nodes: gossip reached ${reached}/${size}; query found ${results.length} in ${
      ms.toFixed(1)
    } ms with ` +
      `${missBefore - before} messages; zero-result query ${
        missMs.toFixed(1)
      } ms with ${
        network.net.messages - missBefore
      } messages (peers known by querier: ${q.discovery.peers.size})`,
  );
}
// deno-lint-ignore no-console
console.log(figures.join("\n"));

for (const [size, network] of networks) {
  const q = querier(network);
  Deno.bench({
    name: `query by name, ${size}-node in-memory network`,
    group: "query",
  }, async () => {
    await q.query({ name: "rare-skill" });
  });
}

const provider = await KnarrNode.create({ host: "127.0.0.1" });
await provider.start({ maintenance: false });
await provider.announce({ ...SHEET, name: "echo" });
const main = new URL("../main.ts", import.meta.url).pathname;
Deno.bench({
  name: "knarr query process wall time (TCP, 1 provider)",
  group: "cli",
  n: 10,
}, async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      main,
      "query",
      "--bootstrap",
      `127.0.0.1:${provider.address.port}`,
      "--name",
      "echo",
    ],
    stdout: "null",
    stderr: "null",
  }).output();
  if (out.code !== 0) throw new Error("knarr query failed");
});

globalThis.addEventListener("unload", () => {
  for (const { nodes } of networks.values()) {
    for (const n of nodes) void n.close();
  }
  void provider.close();
});
