/**
 * The discovery service: join, sync, gossip announce/deregister, query, liveness.
 * `Discovery` holds the state; inbound messages go through `_dispatch.ts` to one
 * `_handle_<type>.ts` per message kind, each outbound operation lives in its own private
 * file (`_join.ts`, `_query.ts`, …), and all of them share one `DiscoveryContext`.
 */
import type { HostPort } from "../config/mod.ts";
import { nodeIdOf } from "../crypto/mod.ts";
import { SILENT_LOGGER } from "../util/mod.ts";
import type { JsonObject, Message } from "../wire/mod.ts";
import { announce, announceAll } from "./_announce.ts";
import type { DiscoveryContext } from "./_context.ts";
import { deregister, withdrawAll } from "./_deregister.ts";
import { dispatch } from "./_dispatch.ts";
import { ForwardBudget } from "./_gossip.ts";
import { SeenSet } from "./_gossip_seen.ts";
import { exchangePeers, join } from "./_join.ts";
import { localResults } from "./_local_results.ts";
import { Maintenance } from "./_maintenance.ts";
import { query } from "./_query.ts";
import { sync } from "./_sync.ts";
import type {
  DiscoveryDeps,
  DiscoveryStats,
  JoinOutcome,
  QueryOptions,
  QueryResult,
  QuerySpec,
  Reply,
} from "./discovery_types.ts";
import { resolveDiscoveryOptions } from "./options.ts";
import type { DiscoveryOptions } from "./options.ts";
import type { PeerTable } from "./peer_table.ts";
import type { SkillTable } from "./skill_table.ts";

/** The discovery half of a node. */
export class Discovery {
  /** Message counters since the node started. */
  readonly stats: DiscoveryStats = {
    announcesReceived: 0,
    announcesForwarded: 0,
    forwardsDropped: 0,
    queriesAnswered: 0,
    queryMessagesSent: 0,
  };
  #ctx: DiscoveryContext;
  #maintenance: Maintenance;
  #nodeIds = new Map<string, string>();
  #background = new Set<Promise<unknown>>();

  /** Takes the collaborators and the timing options (protocol defaults for those left out). */
  constructor(deps: DiscoveryDeps, options: DiscoveryOptions = {}) {
    const resolved = resolveDiscoveryOptions(options);
    this.#ctx = {
      deps,
      options: resolved,
      forwards: resolved.forwardsPerSecond === null
        ? null
        : new ForwardBudget(resolved.forwardsPerSecond),
      log: deps.logger ?? SILENT_LOGGER,
      seen: new SeenSet(),
      stats: this.stats,
      noteContact: (message, dialed) => this.noteContact(message, dialed),
      spawn: (promise) => this.#spawn(promise),
    };
    this.#maintenance = new Maintenance(this.#ctx);
  }

  /** The peer table. */
  get peers(): PeerTable {
    return this.#ctx.deps.peers;
  }

  /** The skill table. */
  get skills(): SkillTable {
    return this.#ctx.deps.skills;
  }

  /** Starts periodic maintenance (heartbeats, expiry, pruning, re-announce, re-join). */
  start(): void {
    this.#maintenance.start(() => this.tick());
  }

  /** Stops timers and waits for background gossip; idempotent. */
  async close(): Promise<void> {
    this.#maintenance.stop();
    while (this.#background.size > 0) {
      await Promise.allSettled([...this.#background]);
    }
  }

  // ---- inbound ----------------------------------------------------------------------

  /**
   * Records contact with the signer of any verified message; returns its node id. `dialed`:
   * the message answers a request sent to that peer's address, which confirms the peer when
   * it is the signer (see `PeerTable.confirm()`).
   */
  async noteContact(message: Message, dialed?: string): Promise<string> {
    const nodeId = await this.nodeIdOf(message.public_key);
    const peers = this.#ctx.deps.peers;
    peers.touch(nodeId, this.#ctx.deps.clock.now(), message.public_key);
    if (dialed === nodeId) peers.confirm(nodeId);
    return nodeId;
  }

  /** SHA-256 node id of a public key (cached). */
  async nodeIdOf(publicKey: string): Promise<string> {
    let nodeId = this.#nodeIds.get(publicKey);
    if (nodeId === undefined) {
      nodeId = await nodeIdOf(publicKey);
      if (this.#nodeIds.size > 10_000) this.#nodeIds.clear();
      this.#nodeIds.set(publicKey, nodeId);
    }
    return nodeId;
  }

  /** Answers a verified discovery message; null means no reply. */
  handle(message: Message, remoteHost: string): Reply | null {
    return dispatch(this.#ctx, message, remoteHost);
  }

  /** Results this node can answer from its own storage. */
  localResults(queryType: string, value: string): QueryResult[] {
    return localResults(this.#ctx, queryType, value);
  }

  // ---- outbound ---------------------------------------------------------------------

  /**
   * Joins through the first bootstrap that answers: adds its peers, syncs its skills and
   * (unless ephemeral) announces our own. The list is remembered for re-joins.
   */
  async join(
    bootstrap: readonly HostPort[],
    options: { ephemeral?: boolean; signal?: AbortSignal } = {},
  ): Promise<JoinOutcome> {
    if (!options.ephemeral) this.#maintenance.rememberBootstrap(bootstrap);
    return await join(this.#ctx, bootstrap, options);
  }

  /**
   * Peer exchange: joins one random known peer to learn its peer table (and be recorded in
   * it). The protocol only spreads tables at join time; this keeps them growing afterwards
   * so queries and gossip reach further. Returns how many peers were new.
   */
  async exchangePeers(): Promise<number> {
    return await exchangePeers(this.#ctx);
  }

  /** Pulls skills announced since `since` from one node; returns how many were stored. */
  async sync(
    target: HostPort,
    since = 0,
    signal?: AbortSignal,
  ): Promise<number> {
    return await sync(this.#ctx, target, since, signal);
  }

  /**
   * Stores a sheet as our own skill and, unless private, signs an ANNOUNCE and sends it
   * to `fanout` random peers.
   */
  async announce(
    sheet: JsonObject,
    visibility: string = "public",
  ): Promise<void> {
    return await announce(this.#ctx, sheet, visibility);
  }

  /** Re-signs and re-announces every own skill. */
  async announceAll(): Promise<void> {
    return await announceAll(this.#ctx);
  }

  /** Removes an own skill and gossips a signed DEREGISTER (unless it was private). */
  async deregister(skillKey: string): Promise<boolean> {
    return await deregister(this.#ctx, skillKey);
  }

  /**
   * Shutdown: tells every known peer (not just `fanout` of them) that our non-private
   * skills are gone, keeping them in our own store for the next start.
   */
  async withdrawAll(): Promise<void> {
    return await withdrawAll(this.#ctx);
  }

  /**
   * Finds skills: local storage first, then QUERY waves of `queryWave` peers in parallel
   * (most recently seen first) until a wave brings results, every peer was asked, or the
   * deadline passes. Results are verified, de-duplicated by (node, name) and ranked.
   */
  async query(
    spec: QuerySpec,
    options: QueryOptions = {},
  ): Promise<QueryResult[]> {
    return await query(this.#ctx, spec, options);
  }

  // ---- maintenance ------------------------------------------------------------------

  /** One maintenance round; the timer calls it, tests may too. */
  async tick(): Promise<void> {
    return await this.#maintenance.tick();
  }

  #spawn(promise: Promise<unknown>): void {
    const p = promise.catch((error) =>
      this.#ctx.log.warn(`Background task failed: ${(error as Error).message}`)
    );
    this.#background.add(p);
    p.finally(() => this.#background.delete(p));
  }
}
