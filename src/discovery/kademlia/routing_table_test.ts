import { assert, assertEquals } from "../../../tests/assert.ts";
import { bucketIndex, xorDistance } from "./distance.ts";
import { RoutingTable } from "./routing_table.ts";
import type { Contact } from "./routing_table.ts";

const SELF = "0".repeat(64);
/** An id in bucket 255 of SELF (top bit set), distinct per n. */
function far(n: number): string {
  return "8" + n.toString(16).padStart(63, "0");
}

Deno.test("bucketIndex() and xorDistance() follow bit_length(distance) - 1", () => {
  assertEquals(bucketIndex(SELF, SELF), -1);
  assertEquals(bucketIndex(SELF, "0".repeat(63) + "1"), 0);
  assertEquals(bucketIndex(SELF, far(1)), 255);
  assertEquals(xorDistance("f".repeat(64), "f".repeat(64)), 0n);
});

Deno.test("RoutingTable.add()", async (t) => {
  const clock = {
    t: 100,
    now() {
      return this.t;
    },
  };
  await t.step("keeps most recently seen last and never stores self", () => {
    const table = new RoutingTable({ selfId: SELF, clock });
    assertEquals(table.add({ nodeId: SELF, host: "h", port: 1 }), "rejected");
    table.add({ nodeId: far(1), host: "10.0.0.1", port: 1 });
    table.add({ nodeId: far(2), host: "10.0.0.2", port: 1 });
    assertEquals(
      table.add({ nodeId: far(1), host: "10.0.0.1", port: 1 }),
      "updated",
    );
    assertEquals(table.bucket(255).map((c) => c.nodeId), [far(2), far(1)]);
  });
  await t.step("allows at most 2 contacts per host per bucket", () => {
    const table = new RoutingTable({ selfId: SELF, clock });
    assertEquals(
      table.add({ nodeId: far(1), host: "10.0.0.9", port: 1 }),
      "added",
    );
    assertEquals(
      table.add({ nodeId: far(2), host: "10.0.0.9", port: 2 }),
      "added",
    );
    assertEquals(
      table.add({ nodeId: far(3), host: "10.0.0.9", port: 3 }),
      "rejected",
    );
    assertEquals(
      table.add({ nodeId: far(4), host: "127.0.0.1", port: 3 }),
      "added",
    );
  });
  await t.step(
    "pings the oldest of a full bucket: a live one stays, the newcomer is dropped",
    async () => {
      const pinged: string[] = [];
      const table = new RoutingTable({
        selfId: SELF,
        clock,
        ping: (c) => (pinged.push(c.nodeId), Promise.resolve(true)),
      }, { k: 3 });
      for (let i = 1; i <= 3; i++) {
        table.add({ nodeId: far(i), host: `10.0.0.${i}`, port: 1 });
      }
      assertEquals(
        table.add({ nodeId: far(4), host: "10.0.0.4", port: 1 }),
        "rejected",
        "an oldest contact seen within staleAfterS is not pinged",
      );
      clock.t += 301;
      assertEquals(
        table.add({ nodeId: far(4), host: "10.0.0.4", port: 1 }),
        "pinging",
      );
      await table.settled();
      assertEquals(pinged, [far(1)]);
      assertEquals(table.bucket(255).map((c) => c.nodeId), [
        far(2),
        far(3),
        far(1),
      ]);
    },
  );
  await t.step(
    "a dead oldest contact is evicted for the newcomer",
    async () => {
      const table = new RoutingTable({
        selfId: SELF,
        clock,
        ping: () => Promise.resolve(false),
      }, { k: 3, staleAfterS: 0 });
      for (let i = 1; i <= 3; i++) {
        table.add({
          nodeId: far(i),
          host: `10.0.0.${i}`,
          port: 1,
        });
      }
      table.add({ nodeId: far(4), host: "10.0.0.4", port: 1 });
      await table.settled();
      assertEquals(table.bucket(255).map((c) => c.nodeId), [
        far(2),
        far(3),
        far(4),
      ]);
    },
  );
  await t.step("closest() sorts by XOR distance", () => {
    const table = new RoutingTable({ selfId: SELF, clock });
    for (let i = 1; i <= 5; i++) {
      table.add({ nodeId: far(i), host: `10.0.0.${i}`, port: 1 });
    }
    assertEquals(table.closest(far(4), 2).map((c) => c.nodeId), [
      far(4),
      far(5),
    ]);
  });
});

Deno.test("RoutingTable persists through its store and reloads it", () => {
  const rows = new Map<string, Contact>();
  const store = {
    put: (c: Contact) => void rows.set(c.nodeId, c),
    remove: (id: string) => void rows.delete(id),
    list: () => [...rows.values()],
  };
  const clock = { now: () => 5 };
  const a = new RoutingTable({ selfId: SELF, clock, store });
  a.add({ nodeId: far(1), host: "10.0.0.1", port: 7 });
  a.add({ nodeId: far(2), host: "10.0.0.2", port: 8 });
  a.remove(far(2));
  const b = new RoutingTable({ selfId: SELF, clock, store });
  assertEquals(b.list().map((c) => [c.nodeId, c.port]), [[far(1), 7]]);
  assert(b.get(far(1)));
});
