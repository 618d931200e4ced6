/** ANNOUNCE: stores a remote skill once and gossips it onward. */
import type { Announce } from "../wire/mod.ts";
import type { DiscoveryContext } from "./_context.ts";
import { forwardOnward, type GossipContext } from "./_gossip.ts";
import type { Reply } from "./discovery_types.ts";
import { skillTtl } from "./options.ts";
import { sheetName, validateSheet } from "./skill_sheet.ts";

/**
 * Validates the sheet, stores the skill the first time this announcement is seen (adding
 * the provider as a peer when it is new and says where it listens, as far as the peer
 * table's caps allow), forwards it, and answers ACK; an invalid sheet, or a skill the skill
 * table's limits refuse, gets an error ACK.
 */
export function handleAnnounce(
  ctx: GossipContext & Pick<DiscoveryContext, "seen">,
  message: Announce,
  remoteHost: string,
): Reply {
  ctx.stats.announcesReceived++;
  const ack = (detail: string | null): Reply => ({
    type: "ACK",
    fields: { status: detail ? "error" : "ok", error_detail: detail },
    msgId: message.msg_id,
  });
  const problem = validateSheet(message.skill_sheet);
  if (problem) return ack(problem);
  if (sheetName(message.skill_sheet) !== message.skill_key) {
    return ack("skill_key must equal the sheet's name");
  }
  const { self, peers, skills, clock } = ctx.deps;
  if (message.node_id === self.nodeId) return ack(null);
  const now = clock.now();
  const fresh = ctx.seen.add(
    `A/${message.skill_key}/${message.node_id}/${message.msg_id}`,
  );
  if (!fresh) return ack(null);
  const known = peers.get(message.node_id);
  let host = known?.host ?? "";
  let port = known?.port ?? 0;
  if (
    message.provider_host && message.provider_port >= 1 &&
    message.provider_port <= 65535
  ) {
    host = message.provider_host;
    port = message.provider_port;
    if (!known) {
      peers.upsert({ nodeId: message.node_id, host, port }, now, {
        publicKey: message.public_key,
        origin: { from: remoteHost },
      });
    }
  }
  const stored = skills.put({
    skillKey: message.skill_key,
    providerNodeId: message.node_id,
    sheet: message.skill_sheet,
    isOwn: false,
    visibility: "public",
    announcedAt: now,
    ttl: skillTtl(peers.size),
    publicKey: message.public_key,
    signature: message.signature,
    msgId: message.msg_id,
    sidecarPort: message.sidecar_port,
    host,
    port,
  });
  // Refused by the skill table's limits: not passed on either.
  if (!stored) {
    return ack("skill not stored: this node's skill limits are reached");
  }
  forwardOnward(ctx, message, remoteHost);
  return ack(null);
}
