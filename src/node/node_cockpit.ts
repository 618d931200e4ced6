/** What the cockpit reads of a node and the actions it performs there. */
import type {
  AddressView,
  AssetsView,
  CockpitSource,
  DemandView,
  KnownSkillView,
  LedgerView,
  NodeView,
  OwnSkillView,
  PeerView,
  RelayView,
  ReputationView,
  SeriesPointView,
  TaskView,
} from "../cockpit/mod.ts";
import { sheetPrice } from "../discovery/mod.ts";
import { DemandRepo } from "../store/mod.ts";
import { reputation } from "../tasks/mod.ts";
import type { JsonObject } from "../wire/mod.ts";
import type { KnarrNode } from "./knarr_node.ts";

/** The figures of an embedded keep relay (a `RelayServer`). */
export interface RelayFigures {
  /** Bound interface. */
  readonly host: string;
  /** Bound port. */
  readonly port: number;
  /** Open connections. */
  readonly connections: number;
  /** Identities registered. */
  readonly agentsOnline: number;
  /** Its counters, snake_case names. */
  readonly metrics: { toJson(): Record<string, number> };
}

/** Assets listed at most on the page. */
const ASSET_ROWS = 50;
/** Relay counters shown as per-second rates. */
const RATE_KEYS = ["frames_in", "frames_out", "bytes_in", "forwarded"];
/** Relay counters that are gauges, not totals. */
const RELAY_GAUGES = new Set(["connections_open", "identities_bound"]);

function text(sheet: JsonObject, key: string): string {
  const v = sheet[key];
  return typeof v === "string" ? v : "";
}

/**
 * The cockpit's view of a node. `knarr serve` adds what only it knows: the addresses it
 * printed, reachability, UPnP, hot reloads and the embedded relay.
 */
export class NodeCockpit implements CockpitSource {
  #node: KnarrNode;
  #version: string;
  #addresses: AddressView[] = [];
  #reloads = new Map<string, string>();
  #relay: RelayFigures | null = null;
  #rates: {
    at: number;
    totals: Record<string, number>;
    rates: Record<string, number>;
  } | null = null;
  /** How peers reach the node (serve updates it). */
  reachability = "not checked";
  /** UPnP state (serve updates it). */
  upnp = "off";

  /** Takes the node and the version to show. */
  constructor(node: KnarrNode, options: { version: string }) {
    this.#node = node;
    this.#version = options.version;
  }

  /** Lists one more address of the node (a relayed address, the sidecar's URL…). */
  addAddress(label: string, value: string): void {
    this.#addresses = this.#addresses.filter((a) => a.label !== label);
    this.#addresses.push({ label, value });
  }

  /** Records how a skill's last (re)load went. */
  noteReload(name: string, state: string): void {
    this.#reloads.set(name, state);
  }

  /** Shows an embedded relay and adds its figures to `/metrics`. */
  setRelay(relay: RelayFigures): void {
    if (this.#relay) return;
    this.#relay = relay;
    const r = this.#node.metrics.registry;
    r.sampled(
      "knarr_relay_connections",
      "Open relay connections",
      "gauge",
      [],
      () => [
        [[], relay.connections],
      ],
    );
    r.sampled(
      "knarr_relay_identities",
      "Identities registered with the relay",
      "gauge",
      [],
      () => [[[], relay.agentsOnline]],
    );
    r.sampled(
      "knarr_relay_events_total",
      "Relay counters since start (frames, bytes, drops, closes), by event",
      "counter",
      ["event"],
      () =>
        Object.entries(relay.metrics.toJson())
          .filter(([k]) => !RELAY_GAUGES.has(k))
          .map(([k, v]) => [[k], v]),
    );
  }

  node(): NodeView {
    const n = this.#node;
    const listening = n.listening;
    const addresses: AddressView[] = [];
    if (listening) {
      addresses.push({
        label: "Listening",
        value: `${listening.host}:${listening.port}`,
      });
    }
    addresses.push({
      label: "Advertised",
      value: `${n.address.host}:${n.address.port}`,
    });
    if (n.sidecar) {
      addresses.push({
        label: "Sidecar",
        value: `https://${listening?.host}:${n.sidecar.port}`,
      });
    }
    return {
      nodeId: n.nodeId,
      publicKey: n.identity.publicKey,
      version: this.#version,
      startedAt: n.metrics.startedAt,
      addresses: [...addresses, ...this.#addresses],
      reachability: this.reachability,
      upnp: this.upnp,
      load: { running: n.provider.load, queued: n.provider.queued },
      rejected: { ...n.stats.rejected },
    };
  }

  peers(): PeerView[] {
    const offered = new Map<string, number>();
    for (const s of this.#node.discovery.skills.list()) {
      offered.set(s.providerNodeId, (offered.get(s.providerNodeId) ?? 0) + 1);
    }
    return this.#node.discovery.peers.list().map((p) => ({
      nodeId: p.nodeId,
      host: p.host,
      port: p.port,
      lastSeen: p.lastSeen,
      latencyMs: this.#node.metrics.latencyOf(p) ?? null,
      load: p.load,
      skills: offered.get(p.nodeId) ?? 0,
    }));
  }

  ownSkills(): OwnSkillView[] {
    const stats = this.#node.metrics.tasks.skills();
    return this.#node.discovery.skills.own().map((e) => {
      const s = stats.get(e.skillKey);
      return {
        name: e.skillKey,
        version: text(e.sheet, "version"),
        description: text(e.sheet, "description"),
        price: sheetPrice(e.sheet),
        visibility: e.visibility,
        enabled: !this.#node.skillSwitches.isDisabled(e.skillKey),
        completed: s?.completed ?? 0,
        failed: s?.failed ?? 0,
        errors: s?.errors ?? {},
        p50Ms: s?.p50Ms ?? NaN,
        p99Ms: s?.p99Ms ?? NaN,
        reload: this.#reloads.get(e.skillKey) ?? "",
      };
    }).sort((a, b) => a.name.localeCompare(b.name));
  }

  knownSkills(): KnownSkillView[] {
    const peers = this.#node.discovery.peers;
    return this.#node.discovery.skills.list().filter((e) => !e.isOwn).map(
      (e) => {
        const peer = peers.get(e.providerNodeId);
        return {
          name: e.skillKey,
          provider: e.providerNodeId,
          host: e.host || peer?.host || "",
          port: e.port || peer?.port || 0,
          version: text(e.sheet, "version"),
          description: text(e.sheet, "description"),
          price: sheetPrice(e.sheet),
          tags: e.tags,
        };
      },
    ).sort((a, b) =>
      a.name.localeCompare(b.name) || a.provider.localeCompare(b.provider)
    );
  }

  tasks(afterSeq: number): TaskView[] {
    return this.#node.metrics.tasks.recent(afterSeq);
  }

  ledger(): LedgerView[] {
    return this.#node.ledger.list().map((r) => ({
      peer: r.peerPublicKey,
      balance: r.balance,
      provided: r.tasksProvided,
      consumed: r.tasksConsumed,
      updatedAt: r.updatedAt,
    }));
  }

  reputation(): ReputationView[] {
    return reputation(this.#node.tasks, Date.now() / 1000).map((h) => ({
      provider: h.providerNodeId,
      total: h.total,
      successRate: h.successRate,
      avgWallMs: h.avgWallMs,
      lastInteraction: h.lastInteraction,
    }));
  }

  demand(): DemandView[] {
    return new DemandRepo(this.#node.db).list().map((d) => ({
      value: d.queryValue,
      type: d.queryType,
      count: d.count,
      lastSeen: d.lastSeen,
    }));
  }

  assets(): AssetsView | null {
    const store = this.#node.assets;
    if (!store) return null;
    const { assets, totalSize } = store.list(Number.MAX_SAFE_INTEGER);
    return {
      totalBytes: totalSize,
      quotaBytes: store.maxTotalBytes,
      count: assets.length,
      ttlSeconds: store.ttlSeconds,
      items: assets.slice(0, ASSET_ROWS).map((a) => ({
        hash: a.hash,
        size: a.size,
        uploadedAt: a.uploadedAt,
        downloads: a.accessCount,
      })),
    };
  }

  relay(): RelayView | null {
    const relay = this.#relay;
    if (!relay) return null;
    const now = Date.now();
    const totals = relay.metrics.toJson();
    const last = this.#rates;
    // Rates over at least a second; faster readers get the last figures again.
    if (!last || now - last.at >= 1000) {
      const rates: Record<string, number> = {};
      for (const k of RATE_KEYS) {
        rates[`${k}/s`] = last
          ? ((totals[k] ?? 0) - (last.totals[k] ?? 0)) * 1000 / (now - last.at)
          : 0;
      }
      this.#rates = { at: now, totals, rates };
    }
    return {
      address: `${relay.host}:${relay.port}`,
      connections: relay.connections,
      agents: relay.agentsOnline,
      totals: Object.fromEntries(
        Object.entries(totals).filter(([k]) => !RELAY_GAUGES.has(k)),
      ),
      rates: this.#rates!.rates,
    };
  }

  series(): SeriesPointView[] {
    return this.#node.metrics.tasks.series();
  }

  metrics(): string {
    return this.#node.metrics.registry.render();
  }

  setSkillEnabled(name: string, enabled: boolean): boolean {
    const own = this.#node.discovery.skills.get(name, this.#node.nodeId);
    if (!own?.isOwn) return false;
    this.#node.skillSwitches.set(name, enabled);
    return true;
  }

  dropPeer(nodeId: string): boolean {
    const { peers, skills } = this.#node.discovery;
    if (!peers.get(nodeId)) return false;
    peers.remove(nodeId);
    for (const e of skills.list()) {
      if (e.providerNodeId === nodeId) skills.remove(e.skillKey, nodeId);
    }
    return true;
  }

  async deleteAsset(hash: string): Promise<boolean> {
    return (await this.#node.assets?.delete(hash)) ?? false;
  }
}
