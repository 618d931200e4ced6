/** JOIN_REQUEST: records the joiner as a peer and answers with our peer table. */
import { sealJson } from "../wire/mod.ts";
import type { JoinRequest, JsonValue } from "../wire/mod.ts";
import type { PeerTable } from "./peer_table.ts";
import type { DiscoveryContext } from "./_context.ts";
import type { Reply } from "./discovery_types.ts";

/**
 * Peers listed in a JOIN_RESPONSE at most (the original lists its whole table). Signing
 * and writing the listing is most of a JOIN's cost: 1,000 peers made every JOIN cost
 * ≈ 1 ms, and a flood of JOINs from many addresses grows the table it lists. A joiner
 * learns the rest by peer exchange and the DHT.
 */
export const JOIN_RESPONSE_PEERS = 128;

/**
 * Adds a non-ephemeral joiner at its advertised host (or the address it came from), as far
 * as the peer table's caps allow (they count it against `remoteHost`), then answers
 * JOIN_RESPONSE with up to {@linkcode JOIN_RESPONSE_PEERS} known peers, those that
 * answered us first, plus this node.
 */
export function handleJoin(
  ctx: Pick<DiscoveryContext, "deps" | "log">,
  message: JoinRequest,
  remoteHost: string,
): Reply {
  const { self, peers, clock } = ctx.deps;
  const now = clock.now();
  if (!message.ephemeral) {
    const host = message.host && message.host !== "0.0.0.0"
      ? message.host
      : remoteHost;
    if (message.port >= 1 && message.port <= 65535 && host.length <= 256) {
      const added = peers.upsert(
        { nodeId: message.node_id, host, port: message.port },
        now,
        { publicKey: message.public_key, origin: { from: remoteHost } },
      );
      if (added) {
        ctx.log.info(
          `Peer joined: ${
            message.node_id.slice(0, 16)
          } at ${host}:${message.port}`,
        );
      }
    }
  }
  return {
    type: "JOIN_RESPONSE",
    fields: { peers: listing(peers, self) as JsonValue[] },
  };
}

interface Listing {
  version: number;
  self: string;
  peers: readonly JsonValue[];
}

// The last listing of each peer table: the same until the table changes, and sealed, so
// that its text is written once however many JOINs it answers.
const listings = new WeakMap<PeerTable, Listing>();

function listing(
  peers: PeerTable,
  self: { nodeId: string; host: string; port: number },
): readonly JsonValue[] {
  const selfKey = `${self.nodeId} ${self.host}:${self.port}`;
  const last = listings.get(peers);
  if (last?.version === peers.version && last.self === selfKey) {
    return last.peers;
  }
  const entries: JsonValue[] = [];
  const add = (confirmed: boolean) => {
    for (const p of peers.list()) {
      if (entries.length >= JOIN_RESPONSE_PEERS) return;
      if (peers.isConfirmed(p.nodeId) !== confirmed) continue;
      entries.push({ node_id: p.nodeId, host: p.host, port: p.port });
    }
  };
  add(true);
  add(false);
  entries.push({ node_id: self.nodeId, host: self.host, port: self.port });
  const sealed = sealJson(entries);
  listings.set(peers, { version: peers.version, self: selfKey, peers: sealed });
  return sealed;
}
