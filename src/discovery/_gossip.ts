/** Gossip: sending a signed ANNOUNCE or DEREGISTER to random peers, and passing one on. */
import type { Announce, Deregister, Message } from "../wire/mod.ts";
import type { DiscoveryContext } from "./_context.ts";
import { maxHops } from "./options.ts";

/** What gossip uses of the discovery state. */
export type GossipContext = Pick<
  DiscoveryContext,
  "deps" | "options" | "log" | "stats" | "noteContact" | "spawn"
>;

/** Sends `message` as it is to `count` random peers (default `fanout`) not in `exclude`. */
export async function sendToPeers(
  ctx: GossipContext,
  message: Message,
  exclude: Set<string>,
  count: number = ctx.options.fanout,
): Promise<void> {
  const targets = ctx.deps.peers.sample(count, exclude);
  await Promise.all(targets.map(async (p) => {
    try {
      const reply = await ctx.deps.messenger.forward(p, message, {
        timeoutMs: ctx.options.requestTimeoutMs,
      });
      if (reply) await ctx.noteContact(reply);
    } catch (error) {
      ctx.log.debug(
        `Gossip to ${p.host}:${p.port} failed: ${(error as Error).message}`,
      );
    }
  }));
}

/**
 * Passes a received ANNOUNCE or DEREGISTER on in the background with `hops + 1`, unless
 * it has travelled `maxHops` already; never back to its provider.
 */
export function forwardOnward(
  ctx: GossipContext,
  message: Announce | Deregister,
): void {
  if (message.hops >= maxHops(ctx.deps.peers.size)) return;
  const onward = { ...message, hops: message.hops + 1 } as Message;
  ctx.stats.announcesForwarded++;
  ctx.spawn(sendToPeers(ctx, onward, new Set([message.node_id])));
}
