/** The discovery protocol: join, sync, gossip announce/deregister, query, liveness. */
import type { HostPort } from "../config/mod.ts";
import { nodeIdOf } from "../crypto/mod.ts";
import type { DemandRepo } from "../store/mod.ts";
import { isHex64, type Logger, SILENT_LOGGER } from "../util/mod.ts";
import {
  float,
  isJsonObject,
  signMessage,
  syncEntryOf,
  toNumber,
  verifySyncEntry,
} from "../wire/mod.ts";
import type {
  Announce,
  JsonObject,
  JsonValue,
  Message,
  MessageFields,
  MessageType,
  Signer,
} from "../wire/mod.ts";
import { SeenSet } from "./_gossip_seen.ts";
import { maxHops, resolveDiscoveryOptions, skillTtl } from "./options.ts";
import type { DiscoveryOptions, ResolvedDiscoveryOptions } from "./options.ts";
import type { PeerTable } from "./peer_table.ts";
import type { PeerAddress } from "./peer_table.ts";
import { rank } from "./ranking.ts";
import { sheetName, stripInternal, validateSheet } from "./skill_sheet.ts";
import type { SkillTable } from "./skill_table.ts";
import type { SkillEntry } from "./skill_table.ts";
import type { Clock, Messenger, SelfAddress } from "./types.ts";

/** A reply for the node to sign and send (`msgId` reuses the request's, as ACKs do). */
export interface Reply<T extends MessageType = MessageType> {
  /** Message type of the reply. */
  type: T;
  /** Fields of the reply; the node adds the envelope and signs. */
  fields: MessageFields<T>;
  /** Request `msg_id` to reuse in the reply; a fresh one when absent. */
  msgId?: string;
}

/** One query result, as QUERY_RESPONSE and `knarr query --json` show it. */
export interface QueryResult {
  /** Provider's node id (64 lowercase hex). */
  node_id: string;
  /** Host where the provider takes tasks. */
  host: string;
  /** Port where the provider takes tasks. */
  port: number;
  /** The provider's skill sheet; `query()` drops `_`-prefixed keys. */
  skill_sheet: JsonObject;
  /** Provider's asset sidecar port; 0 when it has none. */
  sidecar_port: number;
}

/** A query: by exact skill name, by tag, or everything. */
export type QuerySpec = { name: string } | { tag: string } | { all: true };

/** Options for {@linkcode Discovery.query}. */
export interface QueryOptions {
  /** Overall deadline in ms. Default: the discovery's queryTimeoutMs. */
  timeoutMs?: number;
  /** Ask the network too (default true); false answers from local storage only. */
  network?: boolean;
  /** Cancels the query; results gathered so far are kept. */
  signal?: AbortSignal;
}

/** Collaborators of {@linkcode Discovery}. */
export interface DiscoveryDeps {
  /** This node's advertised address, put in the messages it signs. */
  self: SelfAddress;
  /** Signs outgoing messages with the node's identity. */
  signer: Signer;
  /** Sends a message to a peer and returns its reply. */
  messenger: Messenger;
  /** The time in unix seconds. */
  clock: Clock;
  /** Known peers, persisted. */
  peers: PeerTable;
  /** Own and remote skills, persisted. */
  skills: SkillTable;
  /** Where zero-result queries are recorded; null records nothing. */
  demand: DemandRepo | null;
  /** Default: silent. */
  logger?: Logger;
  /** Our ledger balance with a provider, for ranking. */
  balanceOf?: (nodeId: string) => number;
  /** Our current load (busy task slots), reported in heartbeats and results. */
  load?: () => number;
}

/** What a join achieved. */
export interface JoinOutcome {
  /** The bootstrap that answered, or null when none did. */
  via: HostPort | null;
  /** Peers from the JOIN_RESPONSE that were new to the peer table. */
  peersAdded: number;
  /** Skills learned from the follow-up sync with the bootstrap. */
  skillsSynced: number;
  /** One message per bootstrap that could not be joined. */
  errors: string[];
}

/** Counters for tests, benchmarks and `info`. */
export interface DiscoveryStats {
  /** ANNOUNCE messages received. */
  announcesReceived: number;
  /** ANNOUNCE and DEREGISTER messages passed on to peers. */
  announcesForwarded: number;
  /** QUERY messages answered from local storage. */
  queriesAnswered: number;
  /** QUERY messages sent to peers by `query()`. */
  queryMessagesSent: number;
}

function addrKey(a: HostPort): string {
  return `${a.host}:${a.port}`;
}

/** The discovery half of a node. */
export class Discovery {
  /** Message counters since the node started. */
  readonly stats: DiscoveryStats = {
    announcesReceived: 0,
    announcesForwarded: 0,
    queriesAnswered: 0,
    queryMessagesSent: 0,
  };
  #d: DiscoveryDeps;
  #o: ResolvedDiscoveryOptions;
  #log: Logger;
  #seen = new SeenSet();
  #nodeIds = new Map<string, string>();
  #background = new Set<Promise<unknown>>();
  #bootstrap: HostPort[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #lastPrune = 0;
  #lastExchange = 0;
  #nextReannounce = 0;
  #rejoinDelay = 0;
  #nextRejoin = 0;
  #ticking = false;
  #closed = false;

  /** Takes the collaborators and the timing options (protocol defaults for those left out). */
  constructor(deps: DiscoveryDeps, options: DiscoveryOptions = {}) {
    this.#d = deps;
    this.#o = resolveDiscoveryOptions(options);
    this.#log = deps.logger ?? SILENT_LOGGER;
  }

  /** The peer table. */
  get peers(): PeerTable {
    return this.#d.peers;
  }

  /** The skill table. */
  get skills(): SkillTable {
    return this.#d.skills;
  }

  /** Starts periodic maintenance (heartbeats, expiry, pruning, re-announce, re-join). */
  start(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#scheduleReannounce();
    this.#timer = setInterval(() => this.#spawn(this.tick()), this.#o.tickMs);
  }

  /** Stops timers and waits for background gossip; idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    while (this.#background.size > 0) {
      await Promise.allSettled([...this.#background]);
    }
  }

  // ---- inbound ----------------------------------------------------------------------

  /** Records contact with the signer of any verified message; returns its node id. */
  async noteContact(message: Message): Promise<string> {
    const nodeId = await this.nodeIdOf(message.public_key);
    this.#d.peers.touch(nodeId, this.#d.clock.now(), message.public_key);
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
    switch (message.type) {
      case "JOIN_REQUEST":
        return this.#onJoin(message, remoteHost);
      case "SYNC_REQUEST":
        return {
          type: "SYNC_RESPONSE",
          fields: { skills: this.#syncEntries(toNumber(message.since) ?? 0) },
        };
      case "ANNOUNCE":
        return this.#onAnnounce(message);
      case "DEREGISTER":
        return this.#onDeregister(message);
      case "QUERY":
        return this.#onQuery(message.query_type, message.value);
      case "HEARTBEAT":
        return {
          type: "HEARTBEAT",
          fields: {
            node_id: this.#d.self.nodeId,
            timestamp: float(this.#d.clock.now()),
            version: "knarr-deno/0.1.0",
          },
        };
      default:
        return null;
    }
  }

  #onJoin(
    message: Extract<Message, { type: "JOIN_REQUEST" }>,
    remoteHost: string,
  ): Reply {
    const now = this.#d.clock.now();
    if (!message.ephemeral) {
      const host = message.host && message.host !== "0.0.0.0"
        ? message.host
        : remoteHost;
      if (message.port >= 1 && message.port <= 65535 && host.length <= 256) {
        const added = this.#d.peers.upsert(
          { nodeId: message.node_id, host, port: message.port },
          now,
          {
            publicKey: message.public_key,
          },
        );
        if (added) {
          this.#log.info(
            `Peer joined: ${
              message.node_id.slice(0, 16)
            } at ${host}:${message.port}`,
          );
        }
      }
    }
    const peers: JsonValue[] = this.#d.peers.list().slice(0, 1000).map((p) => ({
      node_id: p.nodeId,
      host: p.host,
      port: p.port,
    }));
    peers.push({
      node_id: this.#d.self.nodeId,
      host: this.#d.self.host,
      port: this.#d.self.port,
    });
    return { type: "JOIN_RESPONSE", fields: { peers } };
  }

  #onAnnounce(message: Announce): Reply {
    this.stats.announcesReceived++;
    const ack = (detail: string | null): Reply => ({
      type: "ACK",
      fields: { status: detail ? "error" : "ok", error_detail: detail },
      msgId: message.msg_id,
    });
    const problem = validateSheet(message.skill_sheet);
    if (problem) return ack(problem);
    if (sheetName(message.skill_sheet) !== message.skill_key) {
      return ack("skill_key must equal the sheet's name");
    }
    if (message.node_id === this.#d.self.nodeId) return ack(null);
    const now = this.#d.clock.now();
    const fresh = this.#seen.add(
      `A/${message.skill_key}/${message.node_id}/${message.msg_id}`,
    );
    if (!fresh) return ack(null);
    const known = this.#d.peers.get(message.node_id);
    let host = known?.host ?? "";
    let port = known?.port ?? 0;
    if (
      message.provider_host && message.provider_port >= 1 &&
      message.provider_port <= 65535
    ) {
      host = message.provider_host;
      port = message.provider_port;
      if (!known) {
        this.#d.peers.upsert({ nodeId: message.node_id, host, port }, now, {
          publicKey: message.public_key,
        });
      }
    }
    this.#d.skills.put({
      skillKey: message.skill_key,
      providerNodeId: message.node_id,
      sheet: message.skill_sheet,
      isOwn: false,
      visibility: "public",
      announcedAt: now,
      ttl: skillTtl(this.#d.peers.size),
      publicKey: message.public_key,
      signature: message.signature,
      msgId: message.msg_id,
      sidecarPort: message.sidecar_port,
      host,
      port,
    });
    if (message.hops < maxHops(this.#d.peers.size)) {
      this.#gossip(
        { ...message, hops: message.hops + 1 } as Message,
        new Set([message.node_id]),
      );
    }
    return ack(null);
  }

  #onDeregister(message: Extract<Message, { type: "DEREGISTER" }>): Reply {
    const ack: Reply = {
      type: "ACK",
      fields: { status: "ok", error_detail: null },
      msgId: message.msg_id,
    };
    if (message.node_id === this.#d.self.nodeId) return ack;
    if (
      !this.#seen.add(
        `D/${message.skill_key}/${message.node_id}/${message.msg_id}`,
      )
    ) return ack;
    this.#d.skills.remove(message.skill_key, message.node_id);
    if (message.hops < maxHops(this.#d.peers.size)) {
      this.#gossip(
        { ...message, hops: message.hops + 1 } as Message,
        new Set([message.node_id]),
      );
    }
    return ack;
  }

  #onQuery(queryType: string, value: string): Reply {
    this.stats.queriesAnswered++;
    const results = this.localResults(queryType, value);
    if (results.length === 0 && queryType !== "all") {
      this.#recordDemand(queryType, value);
    }
    return {
      type: "QUERY_RESPONSE",
      fields: { results: results as unknown as JsonValue[] },
    };
  }

  #recordDemand(queryType: string, value: string): void {
    try {
      this.#d.demand?.record(
        queryType,
        value.trim().toLowerCase(),
        this.#d.clock.now(),
      );
    } catch (error) {
      this.#log.warn(
        `Cannot record demand for "${value}": ${(error as Error).message}`,
      );
    }
  }

  /** Results this node can answer from its own storage. */
  localResults(queryType: string, value: string): QueryResult[] {
    const now = this.#d.clock.now();
    const out: QueryResult[] = [];
    for (const e of this.#d.skills.match(queryType, value)) {
      if (e.isOwn) {
        if (e.visibility === "private") continue;
        out.push(
          this.#result(
            e,
            this.#d.self.host,
            this.#d.self.port,
            this.#d.self.sidecarPort,
          ),
        );
        continue;
      }
      if (e.announcedAt + e.ttl < now) continue;
      const peer = this.#d.peers.get(e.providerNodeId);
      const host = e.host || peer?.host || "";
      const port = e.port || peer?.port || 0;
      const live = peer !== undefined &&
        now - peer.lastSeen <= this.#o.liveWindow;
      if (!live && (host === "" || port === 0)) continue;
      out.push(this.#result(e, host, port, e.sidecarPort));
    }
    return out;
  }

  #result(
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

  #syncEntries(since: number): JsonValue[] {
    const now = this.#d.clock.now();
    const entries: JsonValue[] = [];
    let bytes = 0;
    for (const e of this.#d.skills.list()) {
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
      if (bytes > 900_000) break; // stay under the 1 MiB frame limit
      entries.push(entry as unknown as JsonValue);
    }
    return entries;
  }

  // ---- outbound ---------------------------------------------------------------------

  /**
   * Joins through the first bootstrap that answers: adds its peers, syncs its skills and
   * (unless ephemeral) announces our own. The list is remembered for re-joins.
   */
  async join(
    bootstrap: readonly HostPort[],
    options: { ephemeral?: boolean; signal?: AbortSignal } = {},
  ): Promise<
    JoinOutcome
  > {
    if (!options.ephemeral) this.#bootstrap = [...bootstrap];
    const outcome: JoinOutcome = {
      via: null,
      peersAdded: 0,
      skillsSynced: 0,
      errors: [],
    };
    const self = this.#d.self;
    for (const target of bootstrap) {
      if (options.signal?.aborted) break;
      if (target.port === self.port && target.host === self.host) continue; // ourselves
      let reply: Message | null;
      try {
        reply = await this.#d.messenger.request(target, "JOIN_REQUEST", {
          node_id: self.nodeId,
          host: self.host,
          port: self.port,
          ephemeral: options.ephemeral ?? false,
        }, {
          timeoutMs: this.#o.requestTimeoutMs,
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
      const now = this.#d.clock.now();
      const responderId = await this.noteContact(reply);
      for (const p of reply.peers) {
        const peer = parsePeer(p);
        if (!peer || peer.nodeId === self.nodeId) continue;
        const isResponder = peer.nodeId === responderId;
        if (
          this.#d.peers.upsert(
            peer,
            now,
            isResponder ? { publicKey: reply.public_key } : {},
          )
        ) outcome.peersAdded++;
      }
      outcome.via = target;
      outcome.skillsSynced = await this.sync(target, 0, options.signal);
      break;
    }
    if (outcome.via && !options.ephemeral) await this.announceAll();
    return outcome;
  }

  /**
   * Peer exchange: joins one random known peer to learn its peer table (and be recorded in
   * it). The protocol only spreads tables at join time; this keeps them growing afterwards
   * so queries and gossip reach further. Returns how many peers were new.
   */
  async exchangePeers(): Promise<number> {
    const [peer] = this.#d.peers.sample(1);
    if (!peer) return 0;
    const self = this.#d.self;
    let reply: Message | null;
    try {
      reply = await this.#d.messenger.request(peer, "JOIN_REQUEST", {
        node_id: self.nodeId,
        host: self.host,
        port: self.port,
        ephemeral: false,
      }, { timeoutMs: this.#o.requestTimeoutMs });
    } catch {
      return 0;
    }
    if (reply?.type !== "JOIN_RESPONSE") return 0;
    await this.noteContact(reply);
    const now = this.#d.clock.now();
    let added = 0;
    for (const p of reply.peers) {
      const parsed = parsePeer(p);
      if (
        parsed && parsed.nodeId !== self.nodeId &&
        !this.#d.peers.get(parsed.nodeId)
      ) {
        if (this.#d.peers.upsert(parsed, now)) added++;
      }
    }
    return added;
  }

  /** Pulls skills announced since `since` from one node; returns how many were stored. */
  async sync(
    target: HostPort,
    since = 0,
    signal?: AbortSignal,
  ): Promise<number> {
    let reply: Message | null;
    try {
      reply = await this.#d.messenger.request(target, "SYNC_REQUEST", {
        since: float(since),
      }, {
        timeoutMs: this.#o.requestTimeoutMs,
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      this.#log.warn(
        `Cannot sync from "${addrKey(target)}": ${(error as Error).message}`,
      );
      return 0;
    }
    if (reply?.type !== "SYNC_RESPONSE") return 0;
    let stored = 0;
    const now = this.#d.clock.now();
    for (const raw of reply.skills) {
      const verified = await verifySyncEntry(raw);
      if (verified.status !== "ok" || verified.message.type !== "ANNOUNCE") {
        continue;
      }
      const a = verified.message;
      if (a.node_id === this.#d.self.nodeId || validateSheet(a.skill_sheet)) {
        continue;
      }
      if (sheetName(a.skill_sheet) !== a.skill_key) continue;
      const entry = raw as JsonObject;
      const ttl = typeof entry.ttl === "number" && entry.ttl > 0
        ? Math.min(entry.ttl, 5400)
        : skillTtl(this.#d.peers.size);
      const announcedAt = Math.min(toNumber(entry.announced_at) ?? now, now);
      const peer = this.#d.peers.get(a.node_id);
      this.#d.skills.put({
        skillKey: a.skill_key,
        providerNodeId: a.node_id,
        sheet: a.skill_sheet,
        isOwn: false,
        visibility: "public",
        announcedAt,
        ttl,
        publicKey: a.public_key,
        signature: a.signature,
        msgId: a.msg_id,
        sidecarPort: a.sidecar_port,
        host: peer?.host ?? "",
        port: peer?.port ?? 0,
      });
      this.#seen.add(`A/${a.skill_key}/${a.node_id}/${a.msg_id}`);
      stored++;
    }
    return stored;
  }

  /**
   * Stores a sheet as our own skill and, unless private, signs an ANNOUNCE and sends it
   * to `fanout` random peers.
   */
  async announce(
    sheet: JsonObject,
    visibility: string = "public",
  ): Promise<void> {
    const problem = validateSheet(sheet);
    if (problem) throw new RangeError(`Cannot announce skill: ${problem}`);
    const self = this.#d.self;
    const skillKey = sheetName(sheet);
    const now = this.#d.clock.now();
    // Private skills are stored unsigned and never leave the node.
    const message = visibility === "private"
      ? null
      : await signMessage("ANNOUNCE", {
        node_id: self.nodeId,
        skill_key: skillKey,
        skill_sheet: sheet,
        hops: 0,
        sidecar_port: self.sidecarPort,
        provider_host: self.host,
        provider_port: self.port,
      }, this.#d.signer);
    this.#d.skills.put({
      skillKey,
      providerNodeId: self.nodeId,
      sheet,
      isOwn: true,
      visibility,
      announcedAt: now,
      ttl: 0,
      publicKey: self.publicKey,
      signature: message?.signature ?? "",
      msgId: message?.msg_id ?? "",
      sidecarPort: self.sidecarPort,
      host: self.host,
      port: self.port,
    });
    if (!message) return;
    this.#seen.add(`A/${skillKey}/${self.nodeId}/${message.msg_id}`);
    await this.#sendToPeers(message, new Set());
  }

  /** Re-signs and re-announces every own skill. */
  async announceAll(): Promise<void> {
    await Promise.all(
      this.#d.skills.own().map((e) => this.announce(e.sheet, e.visibility)),
    );
  }

  /** Removes an own skill and gossips a signed DEREGISTER (unless it was private). */
  async deregister(skillKey: string): Promise<boolean> {
    const self = this.#d.self;
    const entry = this.#d.skills.get(skillKey, self.nodeId);
    if (!entry) return false;
    this.#d.skills.remove(skillKey, self.nodeId);
    if (entry.visibility !== "private") {
      await this.#sendToPeers(await this.#signDeregister(skillKey), new Set());
    }
    return true;
  }

  /**
   * Shutdown: tells every known peer (not just `fanout` of them) that our non-private
   * skills are gone, keeping them in our own store for the next start.
   */
  async withdrawAll(): Promise<void> {
    const own = this.#d.skills.own().filter((e) => e.visibility !== "private");
    const messages = await Promise.all(
      own.map((e) => this.#signDeregister(e.skillKey)),
    );
    await Promise.all(
      messages.map((m) => this.#sendToPeers(m, new Set(), Infinity)),
    );
  }

  async #signDeregister(skillKey: string): Promise<Message> {
    const self = this.#d.self;
    const message = await signMessage("DEREGISTER", {
      node_id: self.nodeId,
      skill_key: skillKey,
      hops: 0,
    }, this.#d.signer);
    this.#seen.add(`D/${skillKey}/${self.nodeId}/${message.msg_id}`);
    return message as Message;
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
    const [queryType, value] = "name" in spec
      ? ["name", spec.name]
      : "tag" in spec
      ? ["tag", spec.tag]
      : ["all", ""];
    const collected = new Map<
      string,
      { result: QueryResult; load: number | null; announcedAt: number }
    >();
    const add = (r: QueryResult, load: number | null, announcedAt: number) => {
      const key = `${r.node_id}/${sheetName(r.skill_sheet)}`;
      if (!collected.has(key)) {
        collected.set(key, { result: r, load, announcedAt });
      }
    };
    for (const r of this.localResults(queryType, value)) {
      const e = this.#d.skills.get(sheetName(r.skill_sheet), r.node_id);
      add(
        r,
        r.node_id === this.#d.self.nodeId ? (this.#d.load?.() ?? 0) : null,
        e?.announcedAt ?? 0,
      );
    }
    if (options.network !== false) {
      const deadline = AbortSignal.timeout(
        options.timeoutMs ?? this.#o.queryTimeoutMs,
      );
      const signal = options.signal
        ? AbortSignal.any([options.signal, deadline])
        : deadline;
      const now = this.#d.clock.now();
      const order = this.#d.peers.list().sort((a, b) =>
        b.lastSeen - a.lastSeen
      );
      for (
        let i = 0;
        i < order.length && !signal.aborted;
        i += this.#o.queryWave
      ) {
        const before = collected.size;
        const wave = order.slice(i, i + this.#o.queryWave);
        this.stats.queryMessagesSent += wave.length;
        const replies = await Promise.all(
          wave.map((p) =>
            this.#d.messenger.request(p, "QUERY", {
              query_type: queryType,
              value,
            }, { timeoutMs: this.#o.queryTimeoutMs, signal })
              .catch(() => null)
          ),
        );
        for (const reply of replies) {
          if (reply?.type !== "QUERY_RESPONSE") continue;
          await this.noteContact(reply);
          for (const raw of reply.results) {
            const parsed = parseResult(raw);
            if (
              !parsed || !matches(parsed.result.skill_sheet, queryType, value)
            ) continue;
            add(parsed.result, parsed.load, parsed.announcedAt ?? now);
          }
        }
        if (collected.size > before) break;
      }
    }
    const items = [...collected.values()];
    if (items.length === 0 && queryType !== "all") {
      this.#recordDemand(queryType, value);
    }
    return rank(items, (x) => ({
      nodeId: x.result.node_id,
      lastSeen: x.result.node_id === this.#d.self.nodeId
        ? this.#d.clock.now()
        : (this.#d.peers.get(x.result.node_id)?.lastSeen ?? 0),
      announcedAt: x.announcedAt,
      balance: this.#d.balanceOf?.(x.result.node_id) ?? 0,
      load: x.load,
    })).map((x) => ({
      ...x.result,
      skill_sheet: stripInternal(x.result.skill_sheet),
    }));
  }

  // ---- maintenance ------------------------------------------------------------------

  /** One maintenance round; the timer calls it, tests may too. */
  async tick(): Promise<void> {
    if (this.#ticking || this.#closed) return;
    this.#ticking = true;
    try {
      const now = this.#d.clock.now();
      await this.#heartbeats(now);
      this.#expirePeers(now);
      if (now - this.#lastPrune >= this.#o.pruneInterval) {
        this.#lastPrune = now;
        const pruned = this.#d.skills.prune(now);
        if (pruned) this.#log.debug(`Pruned ${pruned} expired skills`);
      }
      if (
        this.#d.peers.size > 0 &&
        now - this.#lastExchange >= this.#o.peerExchangeInterval
      ) {
        this.#lastExchange = now;
        await this.exchangePeers();
      }
      if (this.#nextReannounce > 0 && now >= this.#nextReannounce) {
        this.#scheduleReannounce();
        await this.announceAll();
      }
      if (
        this.#d.peers.size === 0 && this.#bootstrap.length > 0 &&
        now >= this.#nextRejoin
      ) {
        this.#rejoinDelay = this.#rejoinDelay === 0
          ? this.#o.rejoinMin
          : Math.min(this.#rejoinDelay * 2, this.#o.rejoinMax);
        this.#nextRejoin = now + this.#rejoinDelay;
        const outcome = await this.join(this.#bootstrap);
        if (outcome.via) {
          this.#rejoinDelay = 0;
          this.#log.info(
            `Re-joined the network through ${addrKey(outcome.via)}`,
          );
        }
      }
    } catch (error) {
      this.#log.warn(`Maintenance failed: ${(error as Error).message}`);
    } finally {
      this.#ticking = false;
    }
  }

  async #heartbeats(now: number): Promise<void> {
    const silent = this.#d.peers.list().filter((p) =>
      now - p.lastSeen >= this.#o.heartbeatAfter
    );
    await Promise.all(silent.map(async (p) => {
      try {
        const reply = await this.#d.messenger.request(p, "HEARTBEAT", {
          node_id: this.#d.self.nodeId,
          timestamp: float(now),
          version: "knarr-deno/0.1.0",
        }, { timeoutMs: this.#o.requestTimeoutMs });
        if (reply) await this.noteContact(reply);
      } catch {
        // silence is handled by expiry
      }
    }));
  }

  #expirePeers(now: number): void {
    const stale = this.#d.peers.list()
      .filter((p) => now - p.lastSeen >= this.#o.peerExpiry)
      .sort((a, b) => a.lastSeen - b.lastSeen);
    for (const p of stale) {
      if (this.#d.peers.size <= this.#o.minPeers) break;
      this.#d.peers.remove(p.nodeId);
      this.#log.info(
        `Peer expired: ${p.nodeId.slice(0, 16)} at ${p.host}:${p.port}`,
      );
    }
  }

  #scheduleReannounce(): void {
    const jitter = (Math.random() * 2 - 1) * this.#o.reannounceJitter;
    this.#nextReannounce = this.#d.clock.now() + this.#o.reannounce + jitter;
  }

  #gossip(message: Message, exclude: Set<string>): void {
    this.stats.announcesForwarded++;
    this.#spawn(this.#sendToPeers(message, exclude));
  }

  async #sendToPeers(
    message: Message,
    exclude: Set<string>,
    count = this.#o.fanout,
  ): Promise<void> {
    const targets = this.#d.peers.sample(count, exclude);
    await Promise.all(targets.map(async (p) => {
      try {
        const reply = await this.#d.messenger.forward(p, message, {
          timeoutMs: this.#o.requestTimeoutMs,
        });
        if (reply) await this.noteContact(reply);
      } catch (error) {
        this.#log.debug(
          `Gossip to ${p.host}:${p.port} failed: ${(error as Error).message}`,
        );
      }
    }));
  }

  #spawn(promise: Promise<unknown>): void {
    const p = promise.catch((error) =>
      this.#log.warn(`Background task failed: ${(error as Error).message}`)
    );
    this.#background.add(p);
    p.finally(() => this.#background.delete(p));
  }
}

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

function parseResult(
  raw: JsonValue,
):
  | { result: QueryResult; load: number | null; announcedAt: number | null }
  | null {
  if (!isJsonObject(raw)) return null;
  const { node_id, host, port, skill_sheet, sidecar_port } = raw;
  if (
    !isHex64(node_id) || typeof host !== "string" || host.length === 0 ||
    host.length > 256
  ) return null;
  if (
    typeof port !== "number" || !Number.isInteger(port) || port < 1 ||
    port > 65535
  ) return null;
  if (!isJsonObject(skill_sheet)) return null;
  const sheet = stripInternal(skill_sheet);
  if (validateSheet(sheet)) return null;
  const load = toNumber(raw._load);
  const announcedAt = toNumber(raw._announced_at);
  return {
    result: {
      node_id,
      host,
      port,
      skill_sheet: sheet,
      sidecar_port:
        typeof sidecar_port === "number" && Number.isInteger(sidecar_port)
          ? sidecar_port
          : 0,
    },
    load: load ?? null,
    announcedAt: announcedAt ?? null,
  };
}

function matches(sheet: JsonObject, queryType: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (queryType === "name") return sheetName(sheet) === v;
  if (queryType === "tag") {
    return Array.isArray(sheet.tags) &&
      sheet.tags.some((t) => typeof t === "string" && t.toLowerCase() === v);
  }
  return true;
}
