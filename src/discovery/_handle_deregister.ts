/** DEREGISTER: forgets a remote skill once and gossips the withdrawal onward. */
import type { Deregister } from "../wire/mod.ts";
import type { DiscoveryContext } from "./_context.ts";
import { forwardOnward, type GossipContext } from "./_gossip.ts";
import type { Reply } from "./discovery_types.ts";

/**
 * Removes the provider's skill the first time this withdrawal is seen and answers ACK; it
 * is passed on only when it withdrew a skill this node had (a flood of withdrawals of
 * nothing, each under a fresh key, is not gossiped).
 */
export function handleDeregister(
  ctx: GossipContext & Pick<DiscoveryContext, "seen">,
  message: Deregister,
  remoteHost: string,
): Reply {
  const ack: Reply = {
    type: "ACK",
    fields: { status: "ok", error_detail: null },
    msgId: message.msg_id,
  };
  if (message.node_id === ctx.deps.self.nodeId) return ack;
  if (
    !ctx.seen.add(
      `D/${message.skill_key}/${message.node_id}/${message.msg_id}`,
    )
  ) return ack;
  if (ctx.deps.skills.remove(message.skill_key, message.node_id)) {
    forwardOnward(ctx, message, remoteHost);
  }
  return ack;
}
