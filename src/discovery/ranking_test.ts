import { assertEquals } from "../../tests/assert.ts";
import { maxHops, rank, scores, skillTtl } from "./mod.ts";

const base = { lastSeen: 100, announcedAt: 100, balance: 0, load: null };

Deno.test("scores() weighs liveness 0.3, freshness 0.2, balance 0.2, availability 0.3", () => {
  const s = scores([
    { nodeId: "a", lastSeen: 200, announcedAt: 100, balance: 0, load: null },
    { nodeId: "b", lastSeen: 100, announcedAt: 200, balance: 5, load: 0 },
  ]);
  // a: liveness 1, freshness 0, balance 0, availability (0.5 vs 1.0) 0 → 0.3
  // b: liveness 0, freshness 1, balance 1, availability 1 → 0.7
  assertEquals(s.map((x) => Math.round(x * 1000) / 1000), [0.3, 0.7]);
  // All equal: every factor normalizes to 1.0.
  assertEquals(scores([{ nodeId: "a", ...base }, { nodeId: "b", ...base }]), [
    1,
    1,
  ]);
});

Deno.test("rank() orders best first and breaks ties by node id", () => {
  const items = [{ nodeId: "c", ...base }, { nodeId: "a", ...base }, {
    nodeId: "b",
    ...base,
    load: 0,
  }];
  assertEquals(rank(items, (x) => x).map((x) => x.nodeId), ["b", "a", "c"]);
  assertEquals(rank([items[0]!], (x) => x).map((x) => x.nodeId), ["c"]);
});

Deno.test("skillTtl() and maxHops() scale with network size", () => {
  assertEquals([
    skillTtl(0),
    skillTtl(19),
    skillTtl(20),
    skillTtl(49),
    skillTtl(50),
  ], [1800, 1800, 3600, 3600, 5400]);
  assertEquals([maxHops(49), maxHops(50)], [2, 3]);
});
