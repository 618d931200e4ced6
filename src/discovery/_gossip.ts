/** Gossip: sending a signed ANNOUNCE or DEREGISTER to random peers, and passing one on. */
import { RateLimiter } from "../util/mod.ts";
import type { Announce, Deregister, Message } from "../wire/mod.ts";
import { addressGroup } from "./_address_group.ts";
import type { DiscoveryContext } from "./_context.ts";
import { maxHops } from "./options.ts";

/** What gossip uses of the discovery state. */
export type GossipContext = Pick<
  DiscoveryContext,
  "deps" | "options" | "log" | "stats" | "noteContact" | "spawn" | "forwards"
>;

/** How many received messages may be passed on: in all, and of those from one address. */
export class ForwardBudget {
  #total: RateLimiter;
  #perAddress: RateLimiter;

  /**
   * `perSecond` in all (10 seconds' worth at once); a quarter of it from one address (64 at
   * once: a provider announcing all its skills).
   */
  constructor(perSecond: number) {
    this.#total = new RateLimiter({
      ratePerSecond: perSecond,
      burst: Math.max(1, 10 * perSecond),
    });
    this.#perAddress = new RateLimiter({
      ratePerSecond: perSecond / 4,
      burst: 64,
    });
  }

  /** Takes one forward for a message from `remoteHost`; false when over either budget. */
  take(remoteHost: string): boolean {
    return this.#perAddress.take(addressGroup(remoteHost)) &&
      this.#total.take("");
  }
}

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
      if (reply) await ctx.noteContact(reply, p.nodeId);
    } catch (error) {
      ctx.log.debug(
        `Gossip to ${p.host}:${p.port} failed: ${(error as Error).message}`,
      );
    }
  }));
}

/**
 * Passes a received ANNOUNCE or DEREGISTER on in the background with `hops + 1`, unless
 * it has travelled `maxHops` already or the forward budget is spent (a flood of valid
 * announcements from fresh keys must not make this node a gossip amplifier); never back to
 * its provider.
 */
export function forwardOnward(
  ctx: GossipContext,
  message: Announce | Deregister,
  remoteHost: string,
): void {
  if (message.hops >= maxHops(ctx.deps.peers.size)) return;
  if (ctx.forwards !== null && !ctx.forwards.take(remoteHost)) {
    ctx.stats.forwardsDropped++;
    return;
  }
  const onward = { ...message, hops: message.hops + 1 } as Message;
  ctx.stats.announcesForwarded++;
  ctx.spawn(sendToPeers(ctx, onward, new Set([message.node_id])));
}
