/** SYNC_REQUEST: answers with the signed announcements we hold, as SYNC_RESPONSE entries. */
import { syncEntryOf, toNumber } from "../wire/mod.ts";
import type { Announce, JsonValue, SyncRequest } from "../wire/mod.ts";
import type { DiscoveryContext } from "./_context.ts";
import type { Reply } from "./discovery_types.ts";

/** Keeps the SYNC_RESPONSE under the 1 MiB frame limit (estimated, not measured). */
const SYNC_RESPONSE_BUDGET_BYTES = 900_000;

/**
 * Answers with every unexpired remote skill and every signed non-private own skill
 * announced at or after `since`, as far as the frame budget allows.
 */
export function handleSync(
  ctx: Pick<DiscoveryContext, "deps">,
  message: SyncRequest,
): Reply {
  const since = toNumber(message.since) ?? 0;
  const now = ctx.deps.clock.now();
  const entries: JsonValue[] = [];
  let bytes = 0;
  for (const e of ctx.deps.skills.list()) {
    if (
      e.isOwn
        ? e.visibility === "private" || !e.signature
        : e.announcedAt + e.ttl < now
    ) continue;
    if (e.announcedAt < since) continue;
    const entry = syncEntryOf({
      node_id: e.providerNodeId,
      skill_key: e.skillKey,
      skill_sheet: e.sheet,
      public_key: e.publicKey,
      signature: e.signature,
      msg_id: e.msgId,
      sidecar_port: e.sidecarPort,
    } as Announce, { announcedAt: e.announcedAt, ttl: e.ttl });
    bytes += 600 + JSON.stringify(e.sheet).length * 2;
    if (bytes > SYNC_RESPONSE_BUDGET_BYTES) break;
    entries.push(entry as unknown as JsonValue);
  }
  return { type: "SYNC_RESPONSE", fields: { skills: entries } };
}
