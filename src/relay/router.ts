/** Identity table and dispatch of verified packets (no sockets: peers are an interface). */
import type { Clock } from "./clock.ts";
import type { Packet } from "./packet.ts";
import { compareCodePoints, goJson } from "./_json.ts";
import type { RelayMetrics } from "./relay_metrics.ts";

/** What the router needs from a connection. */
export interface RouterPeer {
  /**
   * The identities the peer holds, maintained by the router: null before it registers one, a
   * string for one (the common case, and cheaper than a set), a set for several.
   */
  identities: string | Set<string> | null;
  /** Queues a whole frame; false when the peer is closed or was just closed as too slow. */
  sendFrame(frame: Uint8Array): boolean;
  /** Closes the peer; the owner then calls {@linkcode Router.removePeer}. */
  close(reason: string): void;
}

/** The fields of a verified packet that routing reads. */
export type RoutedPacket = Pick<Packet, "src" | "dst" | "pk" | "scar">;

/** What the relay does after routing a verified packet. */
export type RouteResult =
  /** Answer the sender with `Packet{typ: 1, id, src: "server", body}`. */
  | { type: "reply"; body: string }
  /** Delivered to `receivers` connections; nothing goes back to the sender. */
  | { type: "forwarded"; receivers: number }
  /** The packet claims an identity pinned to (or held under) another key: drop it silently. */
  | { type: "dropped" };

/** Options for {@linkcode Router}. */
export interface RouterOptions {
  /** Version reported by `discover:info`. Default "0.5.0". */
  version?: string;
  /** Pin each identity to the first public key that registers it. Default false. */
  bindIdentities?: boolean;
  /** Most pinned identities kept; later identities go unpinned. Default 1,000,000. */
  maxBindings?: number;
  /**
   * Who may take over an identity an open connection holds: only the key that registered
   * it ("same_key": an agent reconnecting), or any key ("any", the original relay: anyone
   * could hijack an online agent). Default "same_key".
   */
  takeover?: "same_key" | "any";
}

/** A public key as a binary string (a map key; one call, no per-byte garbage). */
function keyString(pk: Uint8Array): string {
  return String.fromCharCode(...pk);
}

/** Distinct senders tracked in `scar_exchanges` (the protocol's cap). */
export const MAX_SCAR_SENDERS = 1_000;
const MAX_ROUND_ROBIN_PREFIXES = 10_000;
const DISCOVER = "discover:";
const NEAREST = "nearest:";
const SWARM = "swarm:";

/**
 * Routes verified packets by identity: registration (last connection wins), counters,
 * discovery, forwarding, `nearest:`/`swarm:` groups.
 *
 * @example
 * ```ts
 * const router = new Router({ clock: SYSTEM_CLOCK, metrics: new RelayMetrics() }, {});
 * const result = router.route(peer, packet, frame); // { type: "reply", body: "done" }
 * ```
 */
export class Router {
  #clock: Clock;
  #metrics: RelayMetrics;
  #startedAt: number;
  #version: string;
  #bind: boolean;
  #maxBindings: number;
  #identities = new Map<string, RouterPeer>();
  #bindings = new Map<string, string>();
  #sameKey: boolean;
  /** Registered identity → the key (as a binary string) of the packet that registered it. */
  #holderKeys = new Map<string, string>();
  #scars = new Map<string, number>();
  #totalPackets = 0;
  #lastChosen = new Map<string, string>();

  /** Takes the clock (uptime) and the metrics it counts into. */
  constructor(
    deps: { clock: Clock; metrics: RelayMetrics },
    options: RouterOptions = {},
  ) {
    this.#clock = deps.clock;
    this.#metrics = deps.metrics;
    this.#startedAt = deps.clock.now();
    this.#version = options.version ?? "0.5.0";
    this.#bind = options.bindIdentities ?? false;
    this.#maxBindings = options.maxBindings ?? 1_000_000;
    this.#sameKey = (options.takeover ?? "same_key") === "same_key";
  }

  /** Number of registered identities. */
  get agentsOnline(): number {
    return this.#identities.size;
  }

  /** Peers that hold at least one identity (heartbeat receivers), each once. */
  *registeredPeers(): IterableIterator<RouterPeer> {
    for (const [identity, peer] of this.#identities) {
      // A peer is listed under the first identity it holds.
      const held = peer.identities!;
      if (
        held === identity ||
        (typeof held === "object" && held.values().next().value === identity)
      ) yield peer;
    }
  }

  /**
   * Registers the sender, counts, and dispatches a packet whose signature verified. `frame` is
   * the packet as received, length prefix included; receivers queue it as it is (no copy), so
   * its bytes must not change afterwards.
   */
  route(
    peer: RouterPeer,
    packet: RoutedPacket,
    frame: Uint8Array,
  ): RouteResult {
    const { src, dst } = packet;
    if (src !== "" && !this.#checkBinding(src, packet.pk)) {
      this.#metrics.droppedBinding++;
      return { type: "dropped" };
    }
    if (src !== "" && !this.#mayHold(src, packet.pk, peer)) {
      this.#metrics.droppedTakeover++;
      return { type: "dropped" };
    }
    this.#totalPackets++;
    if (packet.scar.length > 0) this.#countScar(src);
    if (src !== "") this.#register(src, peer, packet.pk);

    if (dst.startsWith(DISCOVER)) {
      return {
        type: "reply",
        body: this.#discover(dst.slice(DISCOVER.length)),
      };
    }
    if (dst === "server" || dst === "") return { type: "reply", body: "done" };
    const target = this.#identities.get(dst);
    if (target !== undefined) return this.#deliver([target], frame);
    if (dst.startsWith(SWARM)) {
      return this.#deliver(this.#swarm(dst.slice(SWARM.length), peer), frame);
    }
    if (dst.startsWith(NEAREST)) {
      return this.#deliver(
        this.#nearest(dst, dst.slice(NEAREST.length), peer),
        frame,
      );
    }
    this.#metrics.offline++;
    return { type: "reply", body: "error:offline" };
  }

  /** Forgets every identity still pointing at `peer` (call when it closes). */
  removePeer(peer: RouterPeer): void {
    const held = peer.identities;
    if (held === null) return;
    peer.identities = null;
    for (const identity of typeof held === "string" ? [held] : held) {
      if (this.#identities.get(identity) === peer) {
        this.#identities.delete(identity);
        this.#holderKeys.delete(identity);
      }
    }
  }

  /** False when another open connection holds `src` under another key (`takeover: "same_key"`). */
  #mayHold(src: string, pk: Uint8Array, peer: RouterPeer): boolean {
    if (!this.#sameKey) return true;
    const holder = this.#identities.get(src);
    if (holder === undefined || holder === peer) return true;
    return this.#holderKeys.get(src) === keyString(pk);
  }

  #checkBinding(src: string, pk: Uint8Array): boolean {
    if (!this.#bind) return true;
    const key = keyString(pk);
    const bound = this.#bindings.get(src);
    if (bound !== undefined) return bound === key;
    if (this.#bindings.size < this.#maxBindings) {
      this.#bindings.set(src, key);
      this.#metrics.identitiesBound = this.#bindings.size;
    }
    return true;
  }

  #countScar(src: string): void {
    const count = this.#scars.get(src);
    if (count !== undefined) this.#scars.set(src, count + 1);
    else if (this.#scars.size < MAX_SCAR_SENDERS) this.#scars.set(src, 1);
  }

  #register(identity: string, peer: RouterPeer, pk: Uint8Array): void {
    const current = this.#identities.get(identity);
    if (current === peer) return;
    this.#identities.set(identity, peer);
    if (this.#sameKey) this.#holderKeys.set(identity, keyString(pk));
    const held = peer.identities;
    if (held === null) peer.identities = identity;
    else if (typeof held === "string") {
      peer.identities = new Set([held, identity]);
    } else held.add(identity);
    if (current !== undefined) {
      this.#release(current, identity);
      this.#metrics.closedTakeover++;
      current.close(
        `identity "${identity}" was registered by another connection`,
      );
    }
  }

  /** `peer` no longer holds `identity`; without identities it receives no heartbeats. */
  #release(peer: RouterPeer, identity: string): void {
    const held = peer.identities;
    if (held === identity) peer.identities = null;
    else if (held !== null && typeof held === "object") {
      held.delete(identity);
      if (held.size === 0) peer.identities = null;
    }
  }

  #discover(query: string): string {
    switch (query) {
      case "info":
        return goJson({
          agents_online: this.#identities.size,
          uptime_sec: Math.floor((this.#clock.now() - this.#startedAt) / 1000),
          version: this.#version,
        });
      case "agents":
        return goJson({
          agents: [...this.#identities.keys()].sort(compareCodePoints),
        });
      case "stats":
        return goJson({
          scar_exchanges: Object.fromEntries(this.#scars),
          total_packets: this.#totalPackets,
        });
      case "metrics":
        return goJson({
          ...this.#metrics.toJson(),
          agents_online: this.#identities.size,
        });
      default:
        return "error:unknown_discovery";
    }
  }

  /** One connection per distinct peer whose identity starts with `prefix`, sender excluded. */
  #swarm(prefix: string, sender: RouterPeer): RouterPeer[] {
    if (prefix === "") return [];
    const peers = new Set<RouterPeer>();
    for (const [identity, peer] of this.#identities) {
      if (peer !== sender && identity.startsWith(prefix)) peers.add(peer);
    }
    return [...peers];
  }

  /** The matching identity after the one chosen last time for this destination (round-robin). */
  #nearest(dst: string, prefix: string, sender: RouterPeer): RouterPeer[] {
    if (prefix === "") return [];
    const last = this.#lastChosen.get(dst);
    let first: string | undefined;
    let next: string | undefined;
    for (const [identity, peer] of this.#identities) {
      if (peer === sender || !identity.startsWith(prefix)) continue;
      if (first === undefined || compareCodePoints(identity, first) < 0) {
        first = identity;
      }
      if (
        last !== undefined && compareCodePoints(identity, last) > 0 &&
        (next === undefined || compareCodePoints(identity, next) < 0)
      ) next = identity;
    }
    const chosen = next ?? first;
    if (chosen === undefined) return [];
    this.#lastChosen.delete(dst);
    if (this.#lastChosen.size >= MAX_ROUND_ROBIN_PREFIXES) {
      this.#lastChosen.delete(this.#lastChosen.keys().next().value!);
    }
    this.#lastChosen.set(dst, chosen);
    return [this.#identities.get(chosen)!];
  }

  #deliver(receivers: RouterPeer[], frame: Uint8Array): RouteResult {
    if (receivers.length === 0) {
      this.#metrics.offline++;
      return { type: "reply", body: "error:offline" };
    }
    let delivered = 0;
    for (const receiver of receivers) {
      if (receiver.sendFrame(frame)) delivered++;
    }
    this.#metrics.forwarded += delivered;
    this.#metrics.framesOut += delivered;
    if (delivered > 0) return { type: "forwarded", receivers: delivered };
    this.#metrics.deliveryFailed++;
    return { type: "reply", body: "error:delivery_failed" };
  }
}
