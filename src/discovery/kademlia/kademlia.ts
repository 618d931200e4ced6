/**
 * The Kademlia DHT of a node, speaking the original's `knarr-kademlia` plugin actions
 * inside signed PLUGIN_MESSAGEs: a routing table, provider records held for others,
 * iterative lookups, and the puts of this node's own skills.
 */
import { SILENT_LOGGER } from "../../util/mod.ts";
import { AnnounceTokens } from "./announce_tokens.ts";
import type { KadContext } from "./_context.ts";
import { handleInbound } from "./_handle.ts";
import type { KadInbound } from "./_handle.ts";
import { lookup } from "./_lookup.ts";
import type { LookupSpec } from "./_lookup.ts";
import { PendingRequests, SYSTEM_TIMERS } from "./_pending.ts";
import { ProviderStore } from "./provider_store.ts";
import { RateLimiter } from "./rate_limiter.ts";
import { signRecord } from "./record_proof.ts";
import { RoutingTable } from "./routing_table.ts";
import { encodeRpc } from "./rpc_codec.ts";
import { canonicalSkillKey, providerKey } from "./skill_keys.ts";
import { resolveKademliaOptions } from "./types.ts";
import type {
  KademliaDeps,
  KademliaOptions,
  KademliaStats,
  LookupOutcome,
  LookupStep,
} from "./types.ts";

/** Options of {@linkcode Kademlia.findProviders}. */
export interface FindProvidersOptions {
  /** Cancels the lookup. */
  signal?: AbortSignal;
  /** Called with each request as it completes (`--trace`). */
  onStep?: (step: LookupStep) => void;
}

/** A node's Kademlia DHT. */
export class Kademlia {
  /** Counters since start. */
  readonly stats: KademliaStats = {
    lookups: 0,
    lookupFailures: 0,
    rounds: 0,
    requestsSent: 0,
    timeouts: 0,
    repliesSent: 0,
    dropped: 0,
    recordsStored: 0,
  };
  #ctx: KadContext;
  #closed = false;
  #sending = new Set<Promise<void>>();

  /** Takes the collaborators and the protocol options (the original's defaults). */
  constructor(deps: KademliaDeps, options: KademliaOptions = {}) {
    const o = resolveKademliaOptions(options);
    const clock = deps.clock;
    const timers = deps.timers ?? SYSTEM_TIMERS;
    const pending = new PendingRequests(timers);
    const ctx: KadContext = {
      deps,
      options: o,
      log: deps.logger ?? SILENT_LOGGER,
      timers,
      table: new RoutingTable({
        selfId: deps.self.nodeId,
        clock,
        store: deps.store ?? null,
        ping: (c) => this.ping(c),
      }, {
        k: o.k,
        maxPerHost: o.maxPerHost,
        exemptLoopback: o.exemptLoopback,
      }),
      records: new ProviderStore({ clock }, { maxRecords: o.maxRecords }),
      tokens: new AnnounceTokens({ clock }),
      pending,
      limits: {
        FIND_NODE: new RateLimiter({ clock }, { limit: o.queriesPerMinute }),
        GET_PROVIDERS: new RateLimiter({ clock }, {
          limit: o.queriesPerMinute,
        }),
        PUT_PROVIDER: new RateLimiter({ clock }, { limit: o.putsPerMinute }),
      },
      stats: this.stats,
      send: async (to, rpc) => {
        if (this.#closed) return false;
        const { action, payload } = encodeRpc(rpc);
        try {
          await deps.send(to, action, payload);
          return true;
        } catch (error) {
          ctx.log.debug(
            `Cannot send Kademlia "${action}" to "${to.host}:${to.port}": ${
              (error as Error).message
            }`,
          );
          return false;
        }
      },
      request: async (to, rpc, signal) => {
        this.stats.requestsSent++;
        const reply = pending.wait(
          rpc.requestId,
          to.nodeId,
          o.rpcTimeoutMs,
          signal,
        );
        // The reply comes as its own message, maybe before the send settles (a peer may
        // hold the connection open): wait for the reply, not for the send.
        const sending = ctx.send(to, { ...rpc, replyPort: deps.self.port })
          .then((sent) => {
            if (!sent) pending.settleNull(rpc.requestId);
          });
        this.#sending.add(sending);
        sending.finally(() => this.#sending.delete(sending));
        const r = await reply;
        if (r === null) this.stats.timeouts++;
        return r;
      },
    };
    this.#ctx = ctx;
  }

  /** The routing table. */
  get table(): RoutingTable {
    return this.#ctx.table;
  }

  /** The provider records held for others. */
  get records(): ProviderStore {
    return this.#ctx.records;
  }

  /** Handles a verified `knarr-kademlia` PLUGIN_MESSAGE of `senderId`; never throws. */
  async handle(
    message: KadInbound,
    senderId: string,
    remoteHost: string,
  ): Promise<void> {
    if (this.#closed) return;
    await handleInbound(this.#ctx, message, senderId, remoteHost);
  }

  /** Learns a node's address (from the peer table, join or announce traffic). */
  observe(peer: { nodeId: string; host: string; port: number }): void {
    if (peer.port > 0 && peer.host !== "") this.#ctx.table.add(peer);
  }

  /** Checks that a contact answers (a FIND_NODE of its own id). */
  async ping(
    c: { nodeId: string; host: string; port: number },
  ): Promise<boolean> {
    const reply = await this.#ctx.request(c, {
      action: "FIND_NODE",
      requestId: crypto.randomUUID(),
      target: c.nodeId,
    });
    return reply !== null;
  }

  /** Iterative FIND_NODE: the k closest nodes to `target` that answered. */
  async findNode(target: string, signal?: AbortSignal): Promise<LookupOutcome> {
    this.#seed();
    return await lookup(this.#ctx, {
      kind: "nodes",
      target,
      ...(signal ? { signal } : {}),
    });
  }

  /** Iterative GET_PROVIDERS of a skill key (or `tag:<tag>`); stops at the first answers. */
  async findProviders(
    skillKey: string,
    options: FindProvidersOptions = {},
  ): Promise<LookupOutcome> {
    this.#seed();
    const spec: LookupSpec = {
      kind: "providers",
      skillKey: canonicalSkillKey(skillKey),
      stopOnProviders: true,
      ...options,
    };
    return await lookup(this.#ctx, spec);
  }

  /**
   * Puts a signed provider record of this node for `skillKey` at the k closest nodes
   * (each with the token its GET_PROVIDERS answer carried); returns how many were sent.
   */
  async provide(skillKey: string, signal?: AbortSignal): Promise<number> {
    this.#seed();
    const canonical = canonicalSkillKey(skillKey);
    const key = await providerKey(canonical);
    const self = this.#ctx.deps.self;
    const proof = await signRecord(this.#ctx.deps.signer, {
      key,
      nodeId: self.nodeId,
      sidecarPort: self.sidecarPort,
      issuedAt: this.#ctx.deps.clock.now(),
    });
    const found = await lookup(this.#ctx, {
      kind: "providers",
      skillKey: canonical,
      ...(signal ? { signal } : {}),
    });
    let sent = 0;
    await Promise.all(
      found.closest.filter((c) => c.token !== "").map(async (c) => {
        const ok = await this.#ctx.send(c, {
          action: "PUT_PROVIDER",
          requestId: crypto.randomUUID(),
          skillKey: canonical,
          sidecarPort: self.sidecarPort,
          token: c.token,
          proof,
          replyPort: self.port,
        });
        if (ok) sent++;
      }),
    );
    return sent;
  }

  /**
   * Bucket refresh: a lookup of our own id, then one of a random id in each bucket not
   * heard from within `staleS` (the original refreshes every 60 minutes).
   */
  async refresh(staleS = 3_600, signal?: AbortSignal): Promise<number> {
    const self = this.#ctx.deps.self.nodeId;
    await this.findNode(self, signal);
    const now = this.#ctx.deps.clock.now();
    let lookups = 1;
    for (const i of this.#ctx.table.usedBuckets()) {
      const newest = this.#ctx.table.bucket(i).at(-1);
      if (!newest || now - newest.lastSeen < staleS || signal?.aborted) {
        continue;
      }
      await this.findNode(randomIdInBucket(self, i), signal);
      lookups++;
    }
    return lookups;
  }

  /** Stops answering and resolves waiting requests; idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#ctx.pending.cancelAll();
    await this.#ctx.table.settled();
    await Promise.allSettled([...this.#sending]);
  }

  /** An empty (or small) table starts from the node's peer table. */
  #seed(): void {
    if (this.#ctx.table.size >= this.#ctx.options.k) return;
    for (const p of this.#ctx.deps.seedPeers?.() ?? []) this.observe(p);
  }
}

/** A random id whose XOR distance from `self` falls in bucket `i`. */
export function randomIdInBucket(self: string, i: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let below = 0n;
  for (const b of bytes) below = (below << 8n) | BigInt(b);
  const d = (1n << BigInt(i)) | (below & ((1n << BigInt(i)) - 1n));
  return (BigInt(`0x${self}`) ^ d).toString(16).padStart(64, "0");
}
