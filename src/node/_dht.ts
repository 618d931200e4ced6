/**
 * The node's use of its Kademlia DHT: inbound `knarr-kademlia` messages, provider records
 * for its own public skills (and their tags), and name/tag queries that try the DHT first
 * and fall back to the gossip / query path when it finds nothing.
 */
import type { HostPort } from "../config/mod.ts";
import { isJsonObject, toNumber } from "../wire/mod.ts";
import type {
  Message,
  MessageFields,
  MessageType,
  PluginMessage,
} from "../wire/mod.ts";
import {
  rank,
  sheetName,
  sheetTags,
  stripInternal,
  tagSkillKey,
  validateSheet,
} from "../discovery/mod.ts";
import type {
  Clock,
  Discovery,
  Kademlia,
  LookupStep,
  QueryOptions,
  QueryResult,
  QuerySpec,
  RequestOptions,
} from "../discovery/mod.ts";
import type { Logger } from "../util/mod.ts";

/** Seconds between re-puts of our records: well inside their 1 800 s TTL. */
export const REPUBLISH_S = 1_200;
/** Seconds between tries of records that found nobody to be put at (before a join). */
export const RETRY_S = 30;
/**
 * The first of those tries comes this soon, each next one twice as late, up to RETRY_S:
 * `knarr serve` announces its skills just before it joins.
 */
export const FIRST_RETRY_MS = 500;
/** Seconds between bucket refreshes (the original's 60 minutes). */
export const REFRESH_S = 3_600;
/** Providers asked directly for their sheets after a DHT lookup. */
const MAX_PROVIDERS_ASKED = 8;

/** Options of `KnarrNode.query()`: the discovery ones, and the DHT's. */
export interface NodeQueryOptions extends QueryOptions {
  /** Try the DHT first (default true). */
  dht?: boolean;
  /** Called with each DHT lookup request as it completes (`knarr query --trace`). */
  onStep?: (step: LookupStep) => void;
}

/** DHT counters of a node. */
export interface DhtStats {
  /** Queries the DHT answered. */
  dhtAnswered: number;
  /** Queries that fell back to the gossip / query path. */
  fallbacks: number;
  /** Provider records put (one per node it was sent to). */
  recordsPut: number;
}

/** Collaborators of {@linkcode NodeDht}. */
export interface NodeDhtDeps {
  kademlia: Kademlia;
  discovery: Discovery;
  clock: Clock;
  log: Logger;
  sendMessage<T extends MessageType>(
    to: HostPort,
    type: T,
    fields: MessageFields<T>,
    options?: RequestOptions,
  ): Promise<Message | null>;
}

/** Puts our records, refreshes them, and answers queries from the DHT first. */
export class NodeDht {
  /** Counters since start. */
  readonly stats: DhtStats = { dhtAnswered: 0, fallbacks: 0, recordsPut: 0 };
  #d: NodeDhtDeps;
  #timer: ReturnType<typeof setInterval> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #retryMs = FIRST_RETRY_MS;
  #owed = new Set<string>();
  #lastFull = 0;
  #lastRefresh = 0;
  #background = new Set<Promise<unknown>>();
  #closed = false;

  constructor(deps: NodeDhtDeps) {
    this.#d = deps;
  }

  /** Handles a verified PLUGIN_MESSAGE for `knarr-kademlia` in the background. */
  handle(message: PluginMessage, senderId: string, remoteHost: string): void {
    this.#startTimer();
    this.#spawn(this.#d.kademlia.handle(message, senderId, remoteHost));
  }

  /** Puts records for one own public skill (by name) and for each of its tags. */
  async provide(skillName: string): Promise<number> {
    const entry = this.#d.discovery.skills.own().find((e) =>
      sheetName(e.sheet) === skillName && e.visibility === "public"
    );
    if (!entry || this.#closed) {
      this.#owed.delete(skillName);
      return 0;
    }
    // Republishing runs from the first use on; close() stops it.
    this.#startTimer();
    const keys = [skillName, ...sheetTags(entry.sheet).map(tagSkillKey)];
    let sent = 0;
    for (const key of keys) sent += await this.#d.kademlia.provide(key);
    this.stats.recordsPut += sent;
    if (sent === 0) {
      this.#owed.add(skillName);
      this.#retrySoon();
    } else {
      this.#owed.delete(skillName);
      if (this.#owed.size === 0) this.#retryMs = FIRST_RETRY_MS;
    }
    return sent;
  }

  /** Puts `provide()` in the background (after an announce). */
  provideSoon(skillName: string): void {
    this.#spawn(this.provide(skillName));
  }

  /**
   * Re-puts every own public skill. A withdrawn skill is no longer among them, so its
   * records are simply not refreshed and expire within the TTL.
   */
  async provideAll(): Promise<void> {
    this.#lastFull = this.#d.clock.now();
    for (const e of this.#d.discovery.skills.own()) {
      if (e.visibility === "public") await this.provide(sheetName(e.sheet));
    }
  }

  /**
   * Name and tag queries: a DHT lookup, then the providers it found are asked for their
   * sheets directly (each answers for itself only). Nothing found: the discovery path.
   */
  async query(
    spec: QuerySpec,
    options: NodeQueryOptions = {},
  ): Promise<QueryResult[]> {
    const { dht, onStep, ...rest } = options;
    if (dht === false || options.network === false || "all" in spec) {
      return await this.#d.discovery.query(spec, rest);
    }
    const [queryType, value] = "name" in spec
      ? ["name", spec.name.trim().toLowerCase()]
      : ["tag", spec.tag.trim().toLowerCase()];
    const key = queryType === "name" ? value : tagSkillKey(value);
    const signal = AbortSignal.any([
      AbortSignal.timeout(options.timeoutMs ?? 5_000),
      ...(options.signal ? [options.signal] : []),
    ]);
    try {
      const found = await this.#d.kademlia.findProviders(key, {
        signal,
        ...(onStep ? { onStep } : {}),
      });
      const results = await this.#askProviders(
        found.providers,
        queryType,
        value,
        signal,
      );
      if (results.length > 0) {
        this.stats.dhtAnswered++;
        const local = this.#d.discovery.localResults(queryType, value);
        const seen = new Set(results.map((r) => r.node_id));
        return [...results, ...local.filter((r) => !seen.has(r.node_id))];
      }
    } catch (error) {
      this.#d.log.debug(`DHT query failed: ${(error as Error).message}`);
    }
    this.stats.fallbacks++;
    return await this.#d.discovery.query(spec, rest);
  }

  /** Stops republishing and waits for background work; idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    clearTimeout(this.#retryTimer);
    while (this.#background.size > 0) {
      await Promise.allSettled([...this.#background]);
    }
    await this.#d.kademlia.close();
  }

  async #askProviders(
    providers: readonly { nodeId: string; host: string; port: number }[],
    queryType: string,
    value: string,
    signal: AbortSignal,
  ): Promise<QueryResult[]> {
    const items: { result: QueryResult; load: number | null }[] = [];
    await Promise.all(
      providers.slice(0, MAX_PROVIDERS_ASKED).map(async (p) => {
        const reply = await this.#d.sendMessage(p, "QUERY", {
          query_type: queryType,
          value,
        }, { timeoutMs: 3_000, signal }).catch(() => null);
        if (reply?.type !== "QUERY_RESPONSE") return;
        if (
          (await this.#d.discovery.nodeIdOf(reply.public_key)) !== p.nodeId
        ) return;
        for (const raw of reply.results.slice(0, 50)) {
          if (!isJsonObject(raw) || raw.node_id !== p.nodeId) continue;
          if (!isJsonObject(raw.skill_sheet)) continue;
          const sheet = stripInternal(raw.skill_sheet);
          if (validateSheet(sheet)) continue;
          const ok = queryType === "name"
            ? sheetName(sheet) === value
            : sheetTags(sheet).includes(value);
          if (!ok) continue;
          const sidecar = toNumber(raw.sidecar_port);
          items.push({
            result: {
              node_id: p.nodeId,
              host: p.host,
              port: p.port,
              skill_sheet: sheet,
              sidecar_port: Number.isInteger(sidecar) ? sidecar! : 0,
            },
            load: toNumber(raw._load) ?? null,
          });
        }
      }),
    );
    const now = Date.now() / 1000;
    return rank(items, (x) => ({
      nodeId: x.result.node_id,
      lastSeen: now,
      announcedAt: 0,
      balance: 0,
      load: x.load,
    })).map((x) => x.result);
  }

  /** Maintenance (republish, retries, bucket refresh) starts with the DHT's first use. */
  #startTimer(): void {
    if (this.#closed) return;
    this.#timer ??= setInterval(
      () => this.#spawn(this.#tick()),
      RETRY_S * 1000,
    );
  }

  /** Retries the owed records with a backoff, until the 30 s timer takes over. */
  #retrySoon(): void {
    if (
      this.#closed || this.#retryTimer !== undefined ||
      this.#retryMs > RETRY_S * 1000
    ) return;
    const ms = this.#retryMs;
    this.#retryMs *= 2;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#spawn((async () => {
        for (const name of [...this.#owed]) await this.provide(name);
      })());
    }, ms);
  }

  async #tick(): Promise<void> {
    if (this.#d.clock.now() - this.#lastRefresh >= REFRESH_S) {
      this.#lastRefresh = this.#d.clock.now();
      await this.#d.kademlia.refresh(REFRESH_S);
    }
    if (this.#d.clock.now() - this.#lastFull >= REPUBLISH_S) {
      return await this.provideAll();
    }
    for (const name of [...this.#owed]) await this.provide(name);
  }

  #spawn(promise: Promise<unknown>): void {
    const p = promise.catch((error) =>
      this.#d.log.warn(`DHT task failed: ${(error as Error).message}`)
    );
    this.#background.add(p);
    p.finally(() => this.#background.delete(p));
  }
}
