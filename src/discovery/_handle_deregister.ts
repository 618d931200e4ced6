/** DEREGISTER: forgets a remote skill once and gossips the withdrawal onward. */
import type { Deregister } from "../wire/mod.ts";
import type { DiscoveryContext } from "./_context.ts";
import { forwardOnward, type GossipContext } from "./_gossip.ts";
import type { Reply } from "./discovery_types.ts";

/** Removes the provider's skill the first time this withdrawal is seen, forwards it, and answers ACK. */
export function handleDeregister(
  ctx: GossipContext & Pick<DiscoveryContext, "seen">,
  message: Deregister,
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
  ctx.deps.skills.remove(message.skill_key, message.node_id);
  forwardOnward(ctx, message);
  return ack;
}
