/**
 * Kademlia simulation: N nodes (the DHT engine of `src/discovery/kademlia/`) on the
 * in-memory transport with a virtual clock. Each node listens on its own address of a
 * `MemoryNetwork`; a message is one `knarr-kademlia` action (JSON of node_id, action,
 * payload — the PLUGIN_MESSAGE fields, left unsigned here: signing changes no count).
 * Request deadlines run on virtual time, so a silent node costs a virtual second, not a
 * real one.
 *
 * Routing tables are filled as a network that has run for a while would have them: each
 * node holds up to k random nodes of each of its buckets. Then S skills get P providers
 * each (real `provide()`: lookup + signed PUT_PROVIDER with tokens), and L lookups run
 * from random nodes (`findProviders()`, α = 3 over 3 disjoint paths).
 *
 * Scenarios: "stable"; "churn" (20 % of the nodes replaced per virtual minute while the
 * lookups run, two minutes in all: leavers refuse connections, joiners bootstrap from
 * one live node and look themselves up); "silent" (10 % of the nodes accept Kademlia
 * messages and never answer). Providers stay up.
 *
 * Run: deno run -A bench/kademlia_sim.ts [--sizes 250,500,1000,2000,5000,10000]
 *      [--scenario-sizes 1000,10000] [--lookups 200] [--out bench/kademlia_sim.json]
 */
import { parseArgs } from "node:util";
import { Identity } from "../src/crypto/mod.ts";
import { Kademlia } from "../src/discovery/mod.ts";
import { MemoryNetwork } from "../src/node/mod.ts";

const K = 20;
const SKILLS = 20;
const PROVIDERS_PER_SKILL = 2;

/** Virtual clock and timers. */
class VirtualTime {
  t = 1_700_000_000;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #next = 1;
  now = (): number => this.t;
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.t + ms / 1000, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.#timers.delete(h as number);
  }
  fireNext(): boolean {
    let best: [number, { at: number; fn: () => void }] | undefined;
    for (const e of this.#timers) if (!best || e[1].at < best[1].at) best = e;
    if (!best) return false;
    this.#timers.delete(best[0]);
    this.t = Math.max(this.t, best[1].at);
    best[1].fn();
    return true;
  }
  /** Moves forward, firing what falls due. */
  advance(s: number): void {
    const end = this.t + s;
    for (;;) {
      let best: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.#timers) {
        if (e[1].at <= end && (!best || e[1].at < best[1].at)) best = e;
      }
      if (!best) break;
      this.#timers.delete(best[0]);
      this.t = Math.max(this.t, best[1].at);
      best[1].fn();
    }
    this.t = end;
  }
}

interface SimNode {
  id: string;
  big: bigint;
  host: string;
  port: number;
  dht: Kademlia;
  close: () => Promise<void>;
  alive: boolean;
  silent: boolean;
  stable: boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

class Sim {
  net = new MemoryNetwork();
  time = new VirtualTime();
  nodes: SimNode[] = [];
  byId = new Map<string, SimNode>();
  inFlight = 0;
  #hosts = 0;

  async addNode(silent = false): Promise<SimNode> {
    const identity = await Identity.generate();
    const n = this.#hosts++;
    const host = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
    const self = { nodeId: identity.nodeId, host, port: 1, sidecarPort: 0 };
    const dht = new Kademlia({
      self,
      signer: identity,
      clock: this.time,
      timers: this.time,
      send: async (to, action, payload) => {
        const body = encoder.encode(
          JSON.stringify({ node_id: identity.nodeId, action, payload }),
        );
        await this.net.exchange(to, body, { timeoutMs: 1000 });
      },
      addressOf: (id) => {
        const x = this.byId.get(id);
        return x ? { host: x.host, port: x.port } : undefined;
      },
    }, { k: K });
    const node: SimNode = {
      id: identity.nodeId,
      big: BigInt(`0x${identity.nodeId}`),
      host,
      port: 1,
      dht,
      close: () => Promise.resolve(),
      alive: true,
      silent,
      stable: false,
    };
    const listening = await this.net.listen(host, 1, (body) => {
      if (node.silent) return Promise.resolve("close");
      const m = JSON.parse(decoder.decode(body));
      this.inFlight++;
      dht.handle(m, m.node_id, host).finally(() => this.inFlight--);
      return Promise.resolve("close");
    });
    node.close = async () => {
      node.alive = false;
      await listening.close();
      await dht.close();
    };
    this.nodes.push(node);
    this.byId.set(node.id, node);
    return node;
  }

  /** Fills every routing table with up to k random nodes of each bucket. */
  fillTables(): void {
    const sorted = [...this.nodes].sort((a, b) => (a.big < b.big ? -1 : 1));
    const ids = sorted.map((n) => n.big);
    const lowerBound = (v: bigint) => {
      let lo = 0, hi = ids.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (ids[mid]! < v) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    const minBucket = Math.max(
      0,
      255 - 2 * Math.ceil(Math.log2(ids.length)) - 12,
    );
    for (const node of this.nodes) {
      for (let b = 255; b >= minBucket; b--) {
        const bb = BigInt(b);
        const prefix = (node.big >> (bb + 1n)) << (bb + 1n);
        const flip = ((node.big >> bb) & 1n) ^ 1n;
        const lo = prefix | (flip << bb);
        const hi = lo + (1n << bb);
        const from = lowerBound(lo), to = lowerBound(hi);
        const count = to - from;
        if (count === 0) continue;
        const picks = count <= K ? range(from, to) : sample(from, to, K);
        for (const i of picks) {
          const o = sorted[i]!;
          node.dht.observe({ nodeId: o.id, host: o.host, port: o.port });
        }
      }
    }
  }

  /** Runs `work`, jumping virtual time whenever everything waits on a timer. */
  async run<T>(work: Promise<T>): Promise<T> {
    let done = false;
    const p = work.finally(() => done = true);
    while (!done) {
      await new Promise((r) => setTimeout(r, 0));
      if (done) break;
      if (this.inFlight > 0) continue;
      await new Promise((r) => setTimeout(r, 0));
      if (done || this.inFlight > 0) continue;
      if (!this.time.fireNext()) break;
    }
    return await p;
  }

  randomAlive(filter: (n: SimNode) => boolean = () => true): SimNode {
    for (;;) {
      const n = this.nodes[Math.floor(Math.random() * this.nodes.length)]!;
      if (n.alive && filter(n)) return n;
    }
  }
}

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a }, (_, i) => a + i);
}

function sample(a: number, b: number, k: number): number[] {
  const out = new Set<number>();
  while (out.size < k) out.add(a + Math.floor(Math.random() * (b - a)));
  return [...out];
}

/** One scenario's figures. */
export interface SimResult {
  n: number;
  scenario: "stable" | "churn" | "silent";
  lookups: number;
  /** The lookup's own requests and replies. */
  messagesPerLookup: number;
  p95Messages: number;
  /** Every message in the network meanwhile (the lookup's, and the pings it set off). */
  networkMessagesPerLookup: number;
  roundsPerLookup: number;
  successRate: number;
  virtualSecondsPerLookup: number;
  messagesPerPut: number;
  askEveryPeerMessages: number;
  goalMessages: number;
  wallSeconds: number;
}

async function scenario(
  n: number,
  kind: SimResult["scenario"],
  lookups: number,
): Promise<SimResult> {
  const started = performance.now();
  const sim = new Sim();
  for (let i = 0; i < n; i++) {
    await sim.addNode(kind === "silent" && Math.random() < 0.1);
  }
  sim.fillTables();
  const skills = Array.from({ length: SKILLS }, (_, i) => `skill-${i}`);
  const providers = new Map<string, SimNode[]>();
  const putStart = sim.net.messages;
  let puts = 0;
  for (const skill of skills) {
    const ps: SimNode[] = [];
    for (let j = 0; j < PROVIDERS_PER_SKILL; j++) {
      const p = sim.randomAlive((x) => !x.silent && !x.stable);
      p.stable = true;
      ps.push(p);
      await sim.run(p.dht.provide(skill));
      puts++;
    }
    providers.set(skill, ps);
  }
  const messagesPerPut = (sim.net.messages - putStart) / puts;
  const perLookup: number[] = [];
  let network = 0;
  let rounds = 0, ok = 0, virtual = 0;
  const churnSeconds = 120;
  const slice = churnSeconds / lookups;
  let owed = 0;
  for (let i = 0; i < lookups; i++) {
    if (kind === "churn") {
      sim.time.advance(slice);
      owed += (0.2 / 60) * n * slice;
      while (owed >= 1) {
        owed -= 1;
        await sim.randomAlive((x) => !x.stable).close();
        const joiner = await sim.addNode();
        const via = sim.randomAlive((x) => x !== joiner);
        joiner.dht.observe({ nodeId: via.id, host: via.host, port: via.port });
        await sim.run(joiner.dht.findNode(joiner.id));
      }
    }
    const asker = sim.randomAlive((x) => !x.silent);
    const skill = skills[Math.floor(Math.random() * skills.length)]!;
    const before = sim.net.messages;
    const t0 = sim.time.now();
    const out = await sim.run(asker.dht.findProviders(skill));
    virtual += sim.time.now() - t0;
    network += sim.net.messages - before;
    perLookup.push(2 * out.requests - out.timeouts);
    rounds += out.rounds;
    const live = new Set(providers.get(skill)!.map((p) => p.id));
    if (out.providers.some((p) => live.has(p.nodeId))) ok++;
  }
  for (const node of sim.nodes) if (node.alive) await node.close();
  perLookup.sort((a, b) => a - b);
  return {
    n,
    scenario: kind,
    lookups,
    messagesPerLookup: perLookup.reduce((a, b) => a + b, 0) / lookups,
    p95Messages: perLookup[Math.floor(lookups * 0.95)]!,
    networkMessagesPerLookup: network / lookups,
    roundsPerLookup: rounds / lookups,
    successRate: ok / lookups,
    virtualSecondsPerLookup: virtual / lookups,
    messagesPerPut,
    askEveryPeerMessages: 2 * (n - 1),
    goalMessages: 3 * Math.log2(n),
    wallSeconds: (performance.now() - started) / 1000,
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      sizes: { type: "string", default: "250,500,1000,2000,5000,10000" },
      "scenario-sizes": { type: "string", default: "1000,10000" },
      lookups: { type: "string", default: "200" },
      out: { type: "string", default: "" },
    },
  });
  const lookups = Number(values.lookups);
  const sizes = values.sizes.split(",").filter(Boolean).map(Number);
  const scenarioSizes = values["scenario-sizes"].split(",").filter(Boolean).map(
    Number,
  );
  const results: SimResult[] = [];
  const runs: [number, SimResult["scenario"]][] = [
    ...sizes.map((n) => [n, "stable"] as [number, SimResult["scenario"]]),
    ...scenarioSizes.flatMap((n) =>
      (["churn", "silent"] as const).map((s) =>
        [n, s] as [number, SimResult["scenario"]]
      )
    ),
  ];
  const log = (line: string) =>
    Deno.stdout.writeSync(encoder.encode(line + "\n"));
  log(
    "N       scenario  msgs/lookup  p95  all msgs  goal 3log2N  rounds  success  virt s  msgs/put  ask-all  wall s",
  );
  for (const [n, kind] of runs) {
    const r = await scenario(n, kind, lookups);
    results.push(r);
    log(
      [
        String(n).padEnd(7),
        kind.padEnd(8),
        r.messagesPerLookup.toFixed(1).padStart(11),
        String(r.p95Messages).padStart(4),
        r.networkMessagesPerLookup.toFixed(1).padStart(9),
        r.goalMessages.toFixed(1).padStart(12),
        r.roundsPerLookup.toFixed(2).padStart(7),
        `${(r.successRate * 100).toFixed(1)}%`.padStart(8),
        r.virtualSecondsPerLookup.toFixed(2).padStart(7),
        r.messagesPerPut.toFixed(0).padStart(9),
        String(r.askEveryPeerMessages).padStart(8),
        r.wallSeconds.toFixed(0).padStart(7),
      ].join(" "),
    );
  }
  if (values.out) {
    Deno.writeTextFileSync(values.out, JSON.stringify(results, null, 2) + "\n");
  }
}
