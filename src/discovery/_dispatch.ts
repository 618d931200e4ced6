/** Routes each inbound discovery message to the handler of its type. */
import type { Message } from "../wire/mod.ts";
import type { DiscoveryContext } from "./_context.ts";
import { handleAnnounce } from "./_handle_announce.ts";
import { handleDeregister } from "./_handle_deregister.ts";
import { handleHeartbeat } from "./_handle_heartbeat.ts";
import { handleJoin } from "./_handle_join.ts";
import { handleQuery } from "./_handle_query.ts";
import { handleSync } from "./_handle_sync.ts";
import type { Reply } from "./discovery_types.ts";

/** Answers a verified message; null for types discovery does not answer (replies, tasks, plugins). */
export function dispatch(
  ctx: DiscoveryContext,
  message: Message,
  remoteHost: string,
): Reply | null {
  switch (message.type) {
    case "JOIN_REQUEST":
      return handleJoin(ctx, message, remoteHost);
    case "SYNC_REQUEST":
      return handleSync(ctx, message);
    case "ANNOUNCE":
      return handleAnnounce(ctx, message, remoteHost);
    case "DEREGISTER":
      return handleDeregister(ctx, message, remoteHost);
    case "QUERY":
      return handleQuery(ctx, message);
    case "HEARTBEAT":
      return handleHeartbeat(ctx);
    default:
      return null;
  }
}
