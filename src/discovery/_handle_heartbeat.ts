/** HEARTBEAT: the liveness probe, answered in kind. */
import { float } from "../wire/mod.ts";
import type { MessageFields } from "../wire/mod.ts";
import type { DiscoveryContext } from "./_context.ts";
import type { Reply } from "./discovery_types.ts";

/** The software version our heartbeats report. */
const AGENT_VERSION = "knarr-deno/0.1.0";

/** Answers a HEARTBEAT with our own (the contact itself was recorded by the node). */
export function handleHeartbeat(ctx: Pick<DiscoveryContext, "deps">): Reply {
  return {
    type: "HEARTBEAT",
    fields: heartbeatFields(ctx.deps.self.nodeId, ctx.deps.clock.now()),
  };
}

/** The fields of a HEARTBEAT from `nodeId` at unix time `now`, probe or answer. */
export function heartbeatFields(
  nodeId: string,
  now: number,
): MessageFields<"HEARTBEAT"> {
  return { node_id: nodeId, timestamp: float(now), version: AGENT_VERSION };
}
