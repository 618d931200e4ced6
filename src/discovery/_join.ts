/** Outbound JOIN_REQUEST: joining through a bootstrap, and peer exchange with a known peer. */
import type { HostPort } from "../config/mod.ts";
import { isJsonObject } from "../wire/mod.ts";
import type { JsonValue, Message } from "../wire/mod.ts";
import { announceAll } from "./_announce.ts";
import { addrKey, type DiscoveryContext } from "./_context.ts";
import { sync } from "./_sync.ts";
import type { JoinOutcome } from "./discovery_types.ts";
import type { PeerAddress } from "./peer_table.ts";

/** Options of {@linkcode join}. */
export interface JoinOptions {
  /** Ask not to be recorded as a peer, and announce nothing. Default false. */
  ephemeral?: boolean;
  /** Stops trying further bootstraps. */
  signal?: AbortSignal;
}

/**
 * `Discovery.join()`: joins through the first bootstrap that answers, adds its peers,
 * syncs its skills and (unless ephemeral) announces our own.
 */
export async function join(
  ctx: DiscoveryContext,
  bootstrap: readonly HostPort[],
  options: JoinOptions,
): Promise<JoinOutcome> {
  const outcome: JoinOutcome = {
    via: null,
    peersAdded: 0,
    skillsSynced: 0,
    errors: [],
  };
  const { self, messenger, peers, clock } = ctx.deps;
  for (const target of bootstrap) {
    if (options.signal?.aborted) break;
    if (target.port === self.port && target.host === self.host) continue; // ourselves
    let reply: Message | null;
    try {
      reply = await messenger.request(target, "JOIN_REQUEST", {
        node_id: self.nodeId,
        host: self.host,
        port: self.port,
        ephemeral: options.ephemeral ?? false,
      }, {
        timeoutMs: ctx.options.requestTimeoutMs,
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      outcome.errors.push((error as Error).message);
      continue;
    }
    if (reply?.type !== "JOIN_RESPONSE") {
      outcome.errors.push(
        `Cannot join "${addrKey(target)}": ${
          reply ? `answered ${reply.type}` : "no valid reply"
        }`,
      );
      continue;
    }
    const now = clock.now();
    const responderId = await ctx.noteContact(reply);
    for (const p of reply.peers) {
      const peer = parsePeer(p);
      if (!peer || peer.nodeId === self.nodeId) continue;
      // The responder's own entry is its signed word; the others it only lists.
      const isResponder = peer.nodeId === responderId;
      if (
        peers.upsert(
          peer,
          now,
          isResponder
            ? { publicKey: reply.public_key }
            : { origin: { from: target.host, listed: true } },
        )
      ) outcome.peersAdded++;
    }
    // It answered at the address we dialed: a bootstrap is kept whatever the caps.
    peers.confirm(responderId);
    outcome.via = target;
    outcome.skillsSynced = await sync(ctx, target, 0, options.signal);
    break;
  }
  if (outcome.via && !options.ephemeral) await announceAll(ctx);
  return outcome;
}

/**
 * `Discovery.exchangePeers()`: joins one random known peer to learn its peer table;
 * returns how many peers were new.
 */
export async function exchangePeers(
  ctx: Pick<DiscoveryContext, "deps" | "options" | "noteContact">,
): Promise<number> {
  const { self, messenger, peers, clock } = ctx.deps;
  const [peer] = peers.sample(1);
  if (!peer) return 0;
  let reply: Message | null;
  try {
    reply = await messenger.request(peer, "JOIN_REQUEST", {
      node_id: self.nodeId,
      host: self.host,
      port: self.port,
      ephemeral: false,
    }, { timeoutMs: ctx.options.requestTimeoutMs });
  } catch {
    return 0;
  }
  if (reply?.type !== "JOIN_RESPONSE") return 0;
  await ctx.noteContact(reply, peer.nodeId);
  const now = clock.now();
  let added = 0;
  for (const p of reply.peers) {
    const parsed = parsePeer(p);
    if (
      parsed && parsed.nodeId !== self.nodeId && !peers.get(parsed.nodeId)
    ) {
      const origin = { from: peer.host, listed: true };
      if (peers.upsert(parsed, now, { origin })) added++;
    }
  }
  return added;
}

/** A JOIN_RESPONSE entry, or null when it is malformed. */
function parsePeer(value: JsonValue): PeerAddress | null {
  if (!isJsonObject(value)) return null;
  const { node_id, host, port } = value;
  if (
    typeof node_id !== "string" || node_id.length === 0 || node_id.length > 128
  ) return null;
  if (typeof host !== "string" || host.length === 0 || host.length > 256) {
    return null;
  }
  if (
    typeof port !== "number" || !Number.isInteger(port) || port < 1 ||
    port > 65535
  ) return null;
  return { nodeId: node_id, host, port };
}
