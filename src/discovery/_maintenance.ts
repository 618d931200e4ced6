/** Periodic upkeep: heartbeats, peer expiry, skill pruning, peer exchange, re-announce, re-join. */
import type { HostPort } from "../config/mod.ts";
import { announceAll } from "./_announce.ts";
import { addrKey, type DiscoveryContext } from "./_context.ts";
import { heartbeatFields } from "./_handle_heartbeat.ts";
import { exchangePeers, join } from "./_join.ts";

/** Heartbeats sent in one maintenance round, at most. */
const MAX_HEARTBEATS_PER_ROUND = 256;
/** Heartbeats in flight at once. */
const HEARTBEATS_AT_ONCE = 32;

/** The maintenance timer and the schedule it keeps between rounds. */
export class Maintenance {
  #ctx: DiscoveryContext;
  #bootstrap: HostPort[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #lastPrune = 0;
  #lastExchange = 0;
  #nextReannounce = 0;
  #rejoinDelay = 0;
  #nextRejoin = 0;
  #ticking = false;
  #stopped = false;
  /** Peers probed and not answered yet → when (the next probe waits `heartbeatAfter`). */
  #probedAt = new Map<string, number>();

  /** Takes the shared discovery state; nothing runs until `start()`. */
  constructor(ctx: DiscoveryContext) {
    this.#ctx = ctx;
  }

  /** Remembers the bootstrap list to re-join through when no peer is left. */
  rememberBootstrap(bootstrap: readonly HostPort[]): void {
    this.#bootstrap = [...bootstrap];
  }

  /** Schedules the first re-announce and runs `round()` every `tickMs` (its promise goes to `spawn`). */
  start(round: () => Promise<void>): void {
    if (this.#timer !== undefined || this.#stopped) return;
    this.#scheduleReannounce();
    this.#timer = setInterval(
      () => this.#ctx.spawn(round()),
      this.#ctx.options.tickMs,
    );
  }

  /** Stops the timer for good; later rounds do nothing. Idempotent. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One maintenance round; skipped while one is running or after `stop()`. */
  async tick(): Promise<void> {
    if (this.#ticking || this.#stopped) return;
    this.#ticking = true;
    const ctx = this.#ctx;
    const { peers, skills, clock } = ctx.deps;
    try {
      const now = clock.now();
      await this.#heartbeats(now);
      this.#expirePeers(now);
      if (now - this.#lastPrune >= ctx.options.pruneInterval) {
        this.#lastPrune = now;
        const pruned = skills.prune(now);
        if (pruned) ctx.log.debug(`Pruned ${pruned} expired skills`);
      }
      if (
        peers.size > 0 &&
        now - this.#lastExchange >= ctx.options.peerExchangeInterval
      ) {
        this.#lastExchange = now;
        await exchangePeers(ctx);
      }
      if (this.#nextReannounce > 0 && now >= this.#nextReannounce) {
        this.#scheduleReannounce();
        await announceAll(ctx);
      }
      if (
        peers.size === 0 && this.#bootstrap.length > 0 &&
        now >= this.#nextRejoin
      ) {
        await this.#rejoin(now);
      }
    } catch (error) {
      ctx.log.warn(`Maintenance failed: ${(error as Error).message}`);
    } finally {
      this.#ticking = false;
    }
  }

  /**
   * Probes peers silent for `heartbeatAfter`, each at most once per `heartbeatAfter` (a dead
   * peer is not dialed every round until it expires), the stalest first, at most
   * {@linkcode MAX_HEARTBEATS_PER_ROUND} a round and {@linkcode HEARTBEATS_AT_ONCE} at once: a
   * peer table filled with made-up addresses must not turn the node into a dialing flood.
   */
  async #heartbeats(now: number): Promise<void> {
    const { self, peers, messenger } = this.#ctx.deps;
    const after = this.#ctx.options.heartbeatAfter;
    for (const [nodeId, at] of this.#probedAt) {
      if (now - at >= after || !peers.get(nodeId)) {
        this.#probedAt.delete(nodeId);
      }
    }
    const due = peers.list()
      .filter((p) => now - p.lastSeen >= after && !this.#probedAt.has(p.nodeId))
      .sort((a, b) => a.lastSeen - b.lastSeen)
      .slice(0, MAX_HEARTBEATS_PER_ROUND);
    for (const p of due) this.#probedAt.set(p.nodeId, now);
    let next = 0;
    const probe = async () => {
      while (next < due.length) {
        const p = due[next++]!;
        try {
          const reply = await messenger.request(
            p,
            "HEARTBEAT",
            heartbeatFields(self.nodeId, now),
            { timeoutMs: this.#ctx.options.requestTimeoutMs },
          );
          if (reply) await this.#ctx.noteContact(reply, p.nodeId);
        } catch {
          // silence is handled by expiry
        }
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(HEARTBEATS_AT_ONCE, due.length) }, probe),
    );
  }

  #expirePeers(now: number): void {
    const { peers } = this.#ctx.deps;
    const stale = peers.list()
      .filter((p) => now - p.lastSeen >= this.#ctx.options.peerExpiry)
      .sort((a, b) => a.lastSeen - b.lastSeen);
    for (const p of stale) {
      if (peers.size <= this.#ctx.options.minPeers) break;
      peers.remove(p.nodeId);
      this.#ctx.log.info(
        `Peer expired: ${p.nodeId.slice(0, 16)} at ${p.host}:${p.port}`,
      );
    }
  }

  async #rejoin(now: number): Promise<void> {
    const { rejoinMin, rejoinMax } = this.#ctx.options;
    this.#rejoinDelay = this.#rejoinDelay === 0
      ? rejoinMin
      : Math.min(this.#rejoinDelay * 2, rejoinMax);
    this.#nextRejoin = now + this.#rejoinDelay;
    const outcome = await join(this.#ctx, this.#bootstrap, {});
    if (outcome.via) {
      this.#rejoinDelay = 0;
      this.#ctx.log.info(
        `Re-joined the network through ${addrKey(outcome.via)}`,
      );
    }
  }

  #scheduleReannounce(): void {
    const { reannounce, reannounceJitter } = this.#ctx.options;
    const jitter = (Math.random() * 2 - 1) * reannounceJitter;
    this.#nextReannounce = this.#ctx.deps.clock.now() + reannounce + jitter;
  }
}
