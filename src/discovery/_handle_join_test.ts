import { assert, assertEquals } from "../../tests/assert.ts";
import { SILENT_LOGGER } from "../util/mod.ts";
import type { JoinRequest } from "../wire/mod.ts";
import { handleJoin, JOIN_RESPONSE_PEERS } from "./_handle_join.ts";
import { PeerTable } from "./peer_table.ts";

const id = (n: number) => n.toString(16).padStart(64, "0");

Deno.test("handleJoin() lists at most 128 peers, those that answered us first, then itself", () => {
  const self = { nodeId: "f".repeat(64), host: "198.51.100.1", port: 9000 };
  const peers = new PeerTable(self.nodeId, null, { maxPeersPerAddress: null });
  for (let n = 1; n <= 300; n++) {
    peers.upsert({
      nodeId: id(n),
      host: `10.0.${n >> 8}.${n & 255}`,
      port: 9000,
    }, 1);
  }
  // The last ten added answered a request of ours.
  for (let n = 291; n <= 300; n++) peers.confirm(id(n));
  const join = {
    type: "JOIN_REQUEST",
    node_id: id(999),
    host: "10.1.0.1",
    port: 9000,
    ephemeral: true,
  } as unknown as JoinRequest;
  const ctx = {
    deps: { self, peers, clock: { now: () => 2 } },
    log: SILENT_LOGGER,
  } as never;
  const listOf = () =>
    (handleJoin(ctx, join, "10.1.0.1").fields as {
      peers: { node_id: string; port?: number }[];
    }).peers;
  const listed = listOf();
  assertEquals(listed.length, JOIN_RESPONSE_PEERS + 1);
  assertEquals(
    listed.slice(0, 10).map((p) => p.node_id),
    Array.from({ length: 10 }, (_, i) => id(291 + i)),
  );
  assertEquals(listed[10]!.node_id, id(1));
  assertEquals(listed.at(-1), {
    node_id: self.nodeId,
    host: self.host,
    port: self.port,
  });
  // The same listing (its text kept) until the table changes.
  assert(listOf() === listed);
  peers.confirm(id(1));
  const next = listOf();
  assert(next !== listed);
  assertEquals(
    next.slice(0, 11).map((p) => p.node_id).sort(),
    [1, ...Array.from({ length: 10 }, (_, i) => 291 + i)].map(id).sort(),
  );
  self.port = 9001;
  assertEquals(listOf().at(-1)!.port, 9001);
});
