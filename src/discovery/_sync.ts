/** Outbound SYNC_REQUEST: pulling the skills another node holds. */
import type { HostPort } from "../config/mod.ts";
import { float, toNumber, verifySyncEntry } from "../wire/mod.ts";
import type { JsonObject, Message } from "../wire/mod.ts";
import { addrKey, type DiscoveryContext } from "./_context.ts";
import { skillTtl } from "./options.ts";
import { sheetName, validateSheet } from "./skill_sheet.ts";

/** The longest TTL a synced entry may claim, in seconds. */
const MAX_SYNCED_TTL = 5400;

/**
 * `Discovery.sync()`: stores every entry of the target's SYNC_RESPONSE whose signature
 * verifies and whose sheet is valid; returns how many were stored.
 */
export async function sync(
  ctx: Pick<DiscoveryContext, "deps" | "options" | "log" | "seen">,
  target: HostPort,
  since: number,
  signal?: AbortSignal,
): Promise<number> {
  let reply: Message | null;
  try {
    reply = await ctx.deps.messenger.request(target, "SYNC_REQUEST", {
      since: float(since),
    }, {
      timeoutMs: ctx.options.requestTimeoutMs,
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    ctx.log.warn(
      `Cannot sync from "${addrKey(target)}": ${(error as Error).message}`,
    );
    return 0;
  }
  if (reply?.type !== "SYNC_RESPONSE") return 0;
  const { self, peers, skills, clock } = ctx.deps;
  let stored = 0;
  const now = clock.now();
  for (const raw of reply.skills) {
    const verified = await verifySyncEntry(raw);
    if (verified.status !== "ok" || verified.message.type !== "ANNOUNCE") {
      continue;
    }
    const a = verified.message;
    if (a.node_id === self.nodeId || validateSheet(a.skill_sheet)) continue;
    if (sheetName(a.skill_sheet) !== a.skill_key) continue;
    const entry = raw as JsonObject;
    const ttl = typeof entry.ttl === "number" && entry.ttl > 0
      ? Math.min(entry.ttl, MAX_SYNCED_TTL)
      : skillTtl(peers.size);
    const announcedAt = Math.min(toNumber(entry.announced_at) ?? now, now);
    const peer = peers.get(a.node_id);
    const put = skills.put({
      skillKey: a.skill_key,
      providerNodeId: a.node_id,
      sheet: a.skill_sheet,
      isOwn: false,
      visibility: "public",
      announcedAt,
      ttl,
      publicKey: a.public_key,
      signature: a.signature,
      msgId: a.msg_id,
      sidecarPort: a.sidecar_port,
      host: peer?.host ?? "",
      port: peer?.port ?? 0,
    });
    if (!put) continue;
    ctx.seen.add(`A/${a.skill_key}/${a.node_id}/${a.msg_id}`);
    stored++;
  }
  return stored;
}
