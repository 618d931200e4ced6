/** Outbound ANNOUNCE: publishing our own skills. */
import { signMessage } from "../wire/mod.ts";
import type { JsonObject } from "../wire/mod.ts";
import type { DiscoveryContext } from "./_context.ts";
import { type GossipContext, sendToPeers } from "./_gossip.ts";
import { sheetName, validateSheet } from "./skill_sheet.ts";

/** What announcing uses of the discovery state. */
export type AnnounceContext = GossipContext & Pick<DiscoveryContext, "seen">;

/** `Discovery.announce()`: stores the sheet as our own and, unless private, gossips a signed ANNOUNCE. */
export async function announce(
  ctx: AnnounceContext,
  sheet: JsonObject,
  visibility: string,
): Promise<void> {
  const problem = validateSheet(sheet);
  if (problem) throw new RangeError(`Cannot announce skill: ${problem}`);
  const self = ctx.deps.self;
  const skillKey = sheetName(sheet);
  const now = ctx.deps.clock.now();
  // Private skills are stored unsigned and never leave the node.
  const message = visibility === "private"
    ? null
    : await signMessage("ANNOUNCE", {
      node_id: self.nodeId,
      skill_key: skillKey,
      skill_sheet: sheet,
      hops: 0,
      sidecar_port: self.sidecarPort,
      provider_host: self.host,
      provider_port: self.port,
    }, ctx.deps.signer);
  ctx.deps.skills.put({
    skillKey,
    providerNodeId: self.nodeId,
    sheet,
    isOwn: true,
    visibility,
    announcedAt: now,
    ttl: 0,
    publicKey: self.publicKey,
    signature: message?.signature ?? "",
    msgId: message?.msg_id ?? "",
    sidecarPort: self.sidecarPort,
    host: self.host,
    port: self.port,
  });
  if (!message) return;
  ctx.seen.add(`A/${skillKey}/${self.nodeId}/${message.msg_id}`);
  await sendToPeers(ctx, message, new Set());
}

/** `Discovery.announceAll()`: re-signs and re-announces every own skill. */
export async function announceAll(ctx: AnnounceContext): Promise<void> {
  await Promise.all(
    ctx.deps.skills.own().map((e) => announce(ctx, e.sheet, e.visibility)),
  );
}
