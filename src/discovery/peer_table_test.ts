import { join } from "node:path";
import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { Database, PeerRepo } from "../store/mod.ts";
import { addressGroup, isLoopback } from "./_address_group.ts";
import { PeerTable } from "./peer_table.ts";

const SELF = "f".repeat(64);

function id(n: number): string {
  return n.toString(16).padStart(64, "0");
}

function peer(n: number) {
  return { nodeId: id(n), host: `10.9.${n >> 8}.${n & 255}`, port: 9000 };
}

Deno.test("addressGroup() counts IPv4 addresses one by one and IPv6 by /64", () => {
  assertEquals(addressGroup("10.0.0.1"), "10.0.0.1");
  assertEquals(addressGroup("::ffff:10.0.0.1"), "10.0.0.1");
  assertEquals(addressGroup("2001:DB8::1"), "2001:db8:0:0::/64");
  assertEquals(addressGroup("2001:db8:0:0:ffff::9"), "2001:db8:0:0::/64");
  assertEquals(addressGroup("[2001:db8:1:2:3:4:5:6]"), "2001:db8:1:2::/64");
  assertEquals(addressGroup("fe80::1%eth0"), "fe80:0:0:0::/64");
  assertEquals(
    addressGroup("not:an:address::x:y:z:w:v"),
    "not:an:address::x:y:z:w:v",
  );
  assert(isLoopback("127.0.0.72") && isLoopback("::1") && isLoopback("[::1]"));
  assert(!isLoopback("10.0.0.1") && !isLoopback("::2"));
});

Deno.test("PeerTable.upsert() refuses one address's unconfirmed peers past maxPeersPerAddress", () => {
  const table = new PeerTable(SELF, null, {
    maxPeersPerAddress: 3,
    exemptLoopback: false,
  });
  const from = { from: "203.0.113.5" };
  const added = Array.from(
    { length: 5 },
    (_, i) => table.upsert(peer(i), 100, { origin: from }),
  );
  // Before: every JOIN from one address added a peer, up to the flood's rate × 300 s.
  assertEquals(added, [true, true, true, false, false]);
  assertEquals(table.stats.refused, 2);
  // Other addresses, our own doing and a JOIN_RESPONSE listing are not that address's.
  assert(table.upsert(peer(10), 100, { origin: { from: "203.0.113.6" } }));
  assert(table.upsert(peer(11), 100));
  assert(table.upsert(peer(12), 100, { origin: { ...from, listed: true } }));
  // A confirmed peer frees its place; IPv6 counts by /64.
  table.confirm(id(0));
  assert(table.upsert(peer(3), 100, { origin: from }));
  const v6 = (i: number) => ({ origin: { from: `2001:db8::${i}` } });
  assertEquals(
    [20, 21, 22, 23].map((n) => table.upsert(peer(n), 100, v6(n))),
    [true, true, true, false],
  );
  // Loopback is exempt by default (local networks run many nodes on one address).
  const local = new PeerTable(SELF, null, { maxPeersPerAddress: 1 });
  const lo = { origin: { from: "127.0.0.1" } };
  assert(local.upsert(peer(1), 100, lo) && local.upsert(peer(2), 100, lo));
});

Deno.test("PeerTable keeps at most maxPeers: the address holding the most gives way, confirmed peers never", () => {
  const table = new PeerTable(SELF, null, {
    maxPeers: 6,
    maxPeersPerAddress: null,
  });
  // Two confirmed peers (they answered us), three from a flooding address, one from another.
  for (const n of [1, 2]) {
    table.upsert(peer(n), 100);
    table.confirm(id(n));
  }
  for (const n of [3, 4, 5]) {
    table.upsert(peer(n), 100 + n, { origin: { from: "198.51.100.1" } });
  }
  table.upsert(peer(6), 100, { origin: { from: "198.51.100.2" } });
  assertEquals(table.size, 6);
  // The flooder's next one is refused: its address already holds the most.
  assert(!table.upsert(peer(7), 200, { origin: { from: "198.51.100.1" } }));
  // A newcomer from elsewhere takes the place of the flooder's stalest entry.
  assert(table.upsert(peer(8), 200, { origin: { from: "198.51.100.3" } }));
  assertEquals(table.get(id(3)), undefined);
  assertEquals(table.size, 6);
  assertEquals(table.stats, { refused: 1, evicted: 1 });
  // Once only confirmed peers are left, newcomers are refused.
  const full = new PeerTable(SELF, null, { maxPeers: 2 });
  for (const n of [1, 2]) {
    full.upsert(peer(n), 100);
    full.confirm(id(n));
  }
  assert(!full.upsert(peer(3), 100, { origin: { from: "198.51.100.9" } }));
  assertEquals(full.list().map((p) => p.nodeId), [id(1), id(2)]);
});

Deno.test("PeerTable: a JOIN_RESPONSE listing neither moves nor refreshes a known peer", () => {
  const table = new PeerTable(SELF, null);
  table.upsert(peer(1), 100);
  table.confirm(id(1));
  const moved = { ...peer(1), host: "192.0.2.66" };
  assert(
    !table.upsert(moved, 500, { origin: { from: "192.0.2.1", listed: true } }),
  );
  assertEquals(table.get(id(1))?.host, peer(1).host);
  assertEquals(table.get(id(1))?.lastSeen, 100);
  assert(table.isConfirmed(id(1)));
  // Its own signed word (a JOIN) moves it; the new address is not confirmed yet.
  table.upsert(moved, 500, { origin: { from: "192.0.2.66" } });
  assertEquals(table.get(id(1))?.host, "192.0.2.66");
  assert(!table.isConfirmed(id(1)));
});

Deno.test("PeerTable loads at most maxPeers stored peers, the most recently seen, and deletes the rest", async () => {
  const dir = await Deno.makeTempDir({ prefix: "knarr-peers-" });
  try {
    const path = join(dir, "node.db");
    {
      await using db = Database.open(path);
      const table = new PeerTable(SELF, new PeerRepo(db));
      for (let n = 1; n <= 10; n++) table.upsert(peer(n), 1000 + n);
    }
    await using db = Database.open(path);
    const table = new PeerTable(SELF, new PeerRepo(db), { maxPeers: 4 });
    const kept = [id(7), id(8), id(9), id(10)];
    assertEquals(table.list().map((p) => p.nodeId).sort(), kept);
    assertEquals(new PeerRepo(db).list().map((p) => p.nodeId), kept);
    // What the table evicts leaves the store too.
    table.upsert(peer(11), 2000, { origin: { from: "198.51.100.1" } });
    assertEquals(table.size, 4);
    assertEquals(new PeerRepo(db).list().length, 4);
    assertEquals(table.get(id(7)), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("PeerTable refuses limits below 1", () => {
  assertThrows(() => new PeerTable(SELF, null, { maxPeers: 0 }), RangeError);
  assertThrows(
    () => new PeerTable(SELF, null, { maxPeersPerAddress: 0 }),
    RangeError,
  );
});
