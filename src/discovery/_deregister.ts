/** Outbound DEREGISTER: withdrawing our own skills. */
import { signMessage } from "../wire/mod.ts";
import type { Message } from "../wire/mod.ts";
import type { AnnounceContext } from "./_announce.ts";
import { sendToPeers } from "./_gossip.ts";

/** `Discovery.deregister()`: removes an own skill and, unless private, gossips a signed DEREGISTER. */
export async function deregister(
  ctx: AnnounceContext,
  skillKey: string,
): Promise<boolean> {
  const self = ctx.deps.self;
  const entry = ctx.deps.skills.get(skillKey, self.nodeId);
  if (!entry) return false;
  ctx.deps.skills.remove(skillKey, self.nodeId);
  if (entry.visibility !== "private") {
    await sendToPeers(ctx, await signDeregister(ctx, skillKey), new Set());
  }
  return true;
}

/** `Discovery.withdrawAll()`: tells every known peer our non-private skills are gone. */
export async function withdrawAll(ctx: AnnounceContext): Promise<void> {
  const own = ctx.deps.skills.own().filter((e) => e.visibility !== "private");
  const messages = await Promise.all(
    own.map((e) => signDeregister(ctx, e.skillKey)),
  );
  await Promise.all(
    messages.map((m) => sendToPeers(ctx, m, new Set(), Infinity)),
  );
}

async function signDeregister(
  ctx: AnnounceContext,
  skillKey: string,
): Promise<Message> {
  const self = ctx.deps.self;
  const message = await signMessage("DEREGISTER", {
    node_id: self.nodeId,
    skill_key: skillKey,
    hops: 0,
  }, ctx.deps.signer);
  ctx.seen.add(`D/${skillKey}/${self.nodeId}/${message.msg_id}`);
  return message as Message;
}
