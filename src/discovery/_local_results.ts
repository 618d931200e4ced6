/** Query results this node can answer from its own skill table. */
import type { DiscoveryContext } from "./_context.ts";
import type { QueryResult } from "./discovery_types.ts";
import type { SkillEntry } from "./skill_table.ts";

/**
 * Own non-private skills, at our advertised address, and unexpired remote skills whose
 * provider has an address or was heard from within `liveWindow`.
 */
export function localResults(
  ctx: Pick<DiscoveryContext, "deps" | "options">,
  queryType: string,
  value: string,
  limit = Infinity,
): QueryResult[] {
  const { self, peers, skills, clock } = ctx.deps;
  const now = clock.now();
  const out: QueryResult[] = [];
  for (const e of skills.match(queryType, value)) {
    if (out.length >= limit) break;
    if (e.isOwn) {
      if (e.visibility === "private") continue;
      out.push(resultOf(e, self.host, self.port, self.sidecarPort));
      continue;
    }
    if (e.announcedAt + e.ttl < now) continue;
    const peer = peers.get(e.providerNodeId);
    const host = e.host || peer?.host || "";
    const port = e.port || peer?.port || 0;
    const live = peer !== undefined &&
      now - peer.lastSeen <= ctx.options.liveWindow;
    if (!live && (host === "" || port === 0)) continue;
    out.push(resultOf(e, host, port, e.sidecarPort));
  }
  return out;
}

function resultOf(
  e: SkillEntry,
  host: string,
  port: number,
  sidecarPort: number,
): QueryResult {
  return {
    node_id: e.providerNodeId,
    host,
    port,
    skill_sheet: e.sheet,
    sidecar_port: sidecarPort,
  };
}
