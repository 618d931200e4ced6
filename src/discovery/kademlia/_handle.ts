/** Inbound `knarr-kademlia` actions: answer requests, settle replies, store puts. */
import type { HostPort } from "../../config/mod.ts";
import type { KadContext } from "./_context.ts";
import { idToBigInt } from "./distance.ts";
import { verifyRecord } from "./record_proof.ts";
import { decodeRpc } from "./rpc_codec.ts";
import type { KadRpc } from "./rpc_codec.ts";
import { canonicalSkillKey, providerKey } from "./skill_keys.ts";

/** The PLUGIN_MESSAGE fields a handler reads. */
export interface KadInbound {
  node_id: string;
  action: string;
  payload: string;
}

/**
 * Handles one verified message of `senderId`. Never throws: whatever a peer sends is
 * either answered, settled, stored or dropped (and counted).
 */
export async function handleInbound(
  ctx: KadContext,
  message: KadInbound,
  senderId: string,
  remoteHost: string,
): Promise<void> {
  try {
    if (message.node_id !== senderId || senderId === ctx.deps.self.nodeId) {
      return drop(ctx, "sender", message.action, senderId);
    }
    let rpc: KadRpc;
    try {
      rpc = decodeRpc(message.action, message.payload);
    } catch (error) {
      return drop(ctx, (error as Error).message, message.action, senderId);
    }
    const from = replyAddress(ctx, senderId, remoteHost, rpc.replyPort);
    switch (rpc.action) {
      case "FIND_NODE_RESP":
      case "GET_PROVIDERS_RESP":
        if (!ctx.pending.settle(rpc.requestId, senderId, rpc)) {
          drop(ctx, "unsolicited reply", rpc.action, senderId);
        } else if (from) ctx.table.add({ nodeId: senderId, ...from });
        return;
      case "FIND_NODE":
      case "GET_PROVIDERS":
      case "PUT_PROVIDER":
        if (!ctx.limits[rpc.action].allow(senderId)) {
          return drop(ctx, "rate limited", rpc.action, senderId);
        }
        if (!from) return drop(ctx, "no reply address", rpc.action, senderId);
        // Beside a peer table, a requester joins the routing table only when it is a peer
        // (or a contact) already: a one-shot client (`knarr query`, joined ephemerally)
        // is answered but not kept, else tables fill with clients gone a moment later.
        if (
          !ctx.deps.addressOf || ctx.deps.addressOf(senderId) ||
          ctx.table.get(senderId)
        ) {
          ctx.table.add({ nodeId: senderId, ...from });
        }
        return await answer(ctx, rpc, senderId, from);
    }
  } catch (error) {
    ctx.log.warn(
      `Cannot handle Kademlia "${message.action}" from "${senderId}": ${
        (error as Error).message
      }`,
    );
  }
}

async function answer(
  ctx: KadContext,
  rpc: Extract<
    KadRpc,
    { action: "FIND_NODE" | "GET_PROVIDERS" | "PUT_PROVIDER" }
  >,
  senderId: string,
  from: HostPort,
): Promise<void> {
  const k = ctx.options.k;
  const exclude = new Set([senderId]);
  switch (rpc.action) {
    case "FIND_NODE": {
      const peers = ctx.table.closest(rpc.target, k, exclude);
      ctx.stats.repliesSent++;
      await ctx.send(from, {
        action: "FIND_NODE_RESP",
        requestId: rpc.requestId,
        peers: peers.map(({ nodeId, host, port }) => ({ nodeId, host, port })),
      });
      return;
    }
    case "GET_PROVIDERS": {
      const key = await providerKey(rpc.skillKey);
      const providers = ctx.options.mode === "full" ? ctx.records.get(key) : [];
      ctx.stats.repliesSent++;
      await ctx.send(from, {
        action: "GET_PROVIDERS_RESP",
        requestId: rpc.requestId,
        providers: providers.slice(0, 100).map((r) => ({
          nodeId: r.nodeId,
          host: r.host,
          port: r.port,
          sidecarPort: r.sidecarPort,
          storedAt: r.storedAt,
          ttl: r.ttl,
          skillKey: r.skillKey,
          ...(r.proof ? { proof: r.proof } : {}),
        })),
        closerPeers: ctx.table.closest(key, k, exclude).map((
          { nodeId, host, port },
        ) => ({ nodeId, host, port })),
        token: ctx.tokens.issue(tokenAddress(senderId, from)),
      });
      return;
    }
    case "PUT_PROVIDER":
      return await storePut(ctx, rpc, senderId, from);
  }
}

async function storePut(
  ctx: KadContext,
  rpc: Extract<KadRpc, { action: "PUT_PROVIDER" }>,
  senderId: string,
  from: HostPort,
): Promise<void> {
  if (ctx.options.mode !== "full") {
    return drop(ctx, "passive mode", rpc.action, senderId);
  }
  if (!ctx.tokens.check(tokenAddress(senderId, from), rpc.token)) {
    return drop(ctx, "bad token", rpc.action, senderId);
  }
  const skillKey = canonicalSkillKey(rpc.skillKey);
  if (skillKey === "") return drop(ctx, "empty key", rpc.action, senderId);
  const key = await providerKey(skillKey);
  // We should be one of the k closest nodes to the key: refuse to hold records for keys
  // far from us (more than twice the distance of the k-th closest node we know).
  const known = ctx.table.closest(key, ctx.options.k);
  if (known.length >= ctx.options.k) {
    const kth = idToBigInt(known[known.length - 1]!.nodeId) ^ idToBigInt(key);
    const ours = idToBigInt(ctx.deps.self.nodeId) ^ idToBigInt(key);
    if (ours > 2n * kth) return drop(ctx, "too far", rpc.action, senderId);
  }
  const record = { key, nodeId: senderId, sidecarPort: rpc.sidecarPort };
  if (rpc.proof && !(await verifyRecord(rpc.proof, record))) {
    return drop(ctx, "bad record signature", rpc.action, senderId);
  }
  // The provider's host comes from the peer table (or the routing table), never from
  // the payload; its port too, unless it named a new one from that very host.
  const address = ctx.deps.addressOf?.(senderId) ?? ctx.table.get(senderId);
  if (!address) return drop(ctx, "unknown provider", rpc.action, senderId);
  if (
    ctx.records.put({
      ...record,
      skillKey,
      host: address.host,
      port: from.host === address.host ? from.port : address.port,
      storedAt: ctx.deps.clock.now(),
      ttl: ctx.options.recordTtlS,
      ...(rpc.proof ? { proof: rpc.proof } : {}),
    })
  ) ctx.stats.recordsStored++;
}

/**
 * Where to send a reply: the peer table, then the routing table, then the source host.
 * A `_reply_port` from the known host wins over the known port: a node restarted on a
 * new port is heard from before its new address has spread through the peer tables.
 */
function replyAddress(
  ctx: KadContext,
  senderId: string,
  remoteHost: string,
  replyPort: number | undefined,
): HostPort | undefined {
  const known = ctx.deps.addressOf?.(senderId) ?? ctx.table.get(senderId);
  if (known) {
    const port = replyPort && remoteHost === known.host
      ? replyPort
      : known.port;
    return { host: known.host, port };
  }
  // Only the connection's own source host: a forged port cannot aim replies elsewhere.
  if (replyPort && remoteHost && remoteHost !== "memory") {
    return { host: remoteHost, port: replyPort };
  }
  return undefined;
}

function tokenAddress(senderId: string, from: HostPort): string {
  return `${senderId}@${from.host}`;
}

function drop(ctx: KadContext, why: string, action: string, senderId: string) {
  ctx.stats.dropped++;
  ctx.log.debug(`Dropped Kademlia "${action}" from "${senderId}": ${why}`);
}
