/** The node's messages: signed replies for what it receives, verified replies to what it sends. */
import type { HostPort } from "../config/mod.ts";
import type { Identity } from "../crypto/mod.ts";
import { KADEMLIA_PLUGIN } from "../discovery/mod.ts";
import type { Discovery, Reply, RequestOptions } from "../discovery/mod.ts";
import type { TaskConsumer, TaskProvider } from "../tasks/mod.ts";
import { LogThrottle, RateLimiter } from "../util/mod.ts";
import type { Logger, RateLimiterOptions } from "../util/mod.ts";
import {
  decodeMessage,
  encodeMessage,
  peekStringField,
  signMessage,
  verifyMessage,
} from "../wire/mod.ts";
import type { Message } from "../wire/mod.ts";
import type { NodeMetrics } from "./node_metrics.ts";
import type { NodeStats } from "./node_options.ts";
import type { Transport } from "./transport.ts";
import type { NodeDht } from "./_dht.ts";
import { REACH_PLUGIN } from "./reach_check.ts";
import {
  inboundLimit,
  type InboundSizeState,
  SMALL_MESSAGE_BYTES,
} from "./_inbound_size.ts";
import type { ReachCheck } from "./reach_check.ts";

/**
 * Messages that cost a node work, bytes or table space: rated per remote address. Honest
 * gossip stays far below the rate: a node re-announces its skills every 300 s to `fanout`
 * (3) peers, and each announcement makes at most 1 + 3 + 9 + 27 = 40 copies in the whole
 * network (3 hops at most), so a neighbour passes on well under one a second per skill it
 * relays; a provider announcing all its (at most 64) skills at once fits the burst.
 */
const RATED_TYPES = new Set([
  "JOIN_REQUEST",
  "SYNC_REQUEST",
  "QUERY",
  "ANNOUNCE",
  "DEREGISTER",
]);

/**
 * A SYNC_RESPONSE lists every skill the node holds, up to 900 KB: it is asked once per
 * join, so it has a far smaller rate of its own (per address, and in all), besides
 * {@linkcode RATED_TYPES}'.
 */
const SYNC_RATE = { ratePerSecond: 1, burst: 5 };
const SYNC_RATE_TOTAL = { ratePerSecond: 10, burst: 20 };

/** Collaborators of {@linkcode NodeMessages}. */
export interface NodeMessagesDeps {
  identity: Identity;
  transport: Transport;
  stats: NodeStats;
  /** Messages in and out by type, round trips. Default: not counted. */
  metrics?: NodeMetrics;
  /** What one remote address may send of JOIN_REQUEST, SYNC_REQUEST, QUERY, ANNOUNCE and DEREGISTER; null: no limit. */
  requestRate: RateLimiterOptions | null;
  /** What all addresses together may send of them (after their own rate); null: no limit. */
  requestRateTotal?: RateLimiterOptions | null;
  log: Logger;
  discovery: Discovery;
  provider: TaskProvider;
  consumer: TaskConsumer;
  dht: NodeDht;
  reach: ReachCheck;
  /** What decides how large a received message may be. */
  sizes: InboundSizeState;
}

/** Decodes, verifies and dispatches received bodies; sends and verifies exchanges. */
export class NodeMessages {
  #d: NodeMessagesDeps;
  #drops: LogThrottle | null = null;
  #requests: RateLimiter | null;
  #requestsTotal: RateLimiter | null;
  #syncs: RateLimiter | null;
  #syncsTotal: RateLimiter | null;

  constructor(deps: NodeMessagesDeps) {
    this.#d = deps;
    this.#requests = deps.requestRate
      ? new RateLimiter(deps.requestRate)
      : null;
    this.#requestsTotal = deps.requestRateTotal
      ? new RateLimiter(deps.requestRateTotal)
      : null;
    // Rated with the other requests: none on in-memory networks.
    this.#syncs = deps.requestRate ? new RateLimiter(SYNC_RATE) : null;
    this.#syncsTotal = deps.requestRate
      ? new RateLimiter(SYNC_RATE_TOTAL)
      : null;
  }

  /** Sends an already signed message as it is; resolves the verified reply (null if none). */
  async send(
    to: HostPort,
    message: Message,
    options: RequestOptions = {},
  ): Promise<Message | null> {
    const metrics = this.#d.metrics;
    metrics?.sent(message.type);
    const started = metrics ? performance.now() : 0;
    const reply = await this.#d.transport.exchange(to, encodeMessage(message), {
      timeoutMs: options.timeoutMs ?? 5000,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (reply === null) return null;
    metrics?.roundTrip(to, performance.now() - started);
    let decoded;
    try {
      decoded = decodeMessage(reply);
    } catch {
      this.reject("malformed reply", `from ${to.host}:${to.port}`);
      return null;
    }
    const verified = await verifyMessage(decoded);
    if (verified.status !== "ok") {
      this.reject(
        verified.status === "invalid" ? verified.reason : "unverifiable",
        `reply from ${to.host}:${to.port}`,
      );
      return null;
    }
    metrics?.received(verified.message.type);
    return verified.message;
  }

  /**
   * Handles one received frame body: decode, verify, dispatch. Invalid messages get no
   * reply and close the connection; nothing a peer sends can throw out of here.
   */
  async handle(
    body: Uint8Array,
    remoteHost: string,
  ): Promise<Uint8Array | null | "close"> {
    // Large frames are refused by their type's limit before a parse costs anything.
    if (body.length > SMALL_MESSAGE_BYTES) {
      const refusal = await this.#oversized(body, remoteHost);
      if (refusal !== null) return refusal;
    }
    let decoded;
    try {
      decoded = decodeMessage(body);
    } catch (error) {
      this.reject(
        "malformed",
        `from ${remoteHost}: ${(error as Error).message}`,
      );
      return "close";
    }
    // Floods of valid but useless requests are refused before they cost a verification.
    if (RATED_TYPES.has(decoded.type)) {
      const refused = this.#overRate(
        remoteHost,
        decoded.type === "SYNC_REQUEST",
      );
      if (refused !== null) {
        this.reject(refused, `${decoded.type} from ${remoteHost}`);
        return "close";
      }
    }
    const verified = await verifyMessage(decoded);
    if (verified.status === "unverifiable") {
      this.#d.log.debug(`Ignoring ${verified.type} from ${remoteHost}`);
      return null;
    }
    if (verified.status === "invalid") {
      this.reject(
        verified.reason,
        `${decoded.type} from ${remoteHost}: ${verified.detail}`,
      );
      return "close";
    }
    const message = verified.message;
    this.#d.stats.handled++;
    this.#d.metrics?.received(message.type);
    try {
      const senderId = await this.#d.discovery.noteContact(message);
      let reply: Reply | null;
      switch (message.type) {
        case "TASK_REQUEST":
          reply = await this.#d.provider.handleRequest(message, senderId);
          break;
        case "TASK_RESULT":
          reply = this.#d.consumer.onPushedResult(message, senderId);
          break;
        case "TASK_STATUS":
          reply = null;
          break;
        case "PLUGIN_MESSAGE":
          if (message.plugin_name === REACH_PLUGIN) {
            reply = await this.#d.reach.handle(message, senderId);
            break;
          }
          if (message.plugin_name !== KADEMLIA_PLUGIN) return null;
          // Answers go back as messages of their own: close now, handle meanwhile.
          this.#d.dht.handle(message, senderId, remoteHost);
          return "close";
        default:
          reply = this.#d.discovery.handle(message, remoteHost);
      }
      if (!reply) return null;
      this.#d.metrics?.sent(reply.type);
      const signed = await signMessage(
        reply.type,
        reply.fields as never,
        this.#d.identity,
        reply.msgId ? { msgId: reply.msgId } : {},
      );
      return encodeMessage(signed);
    } catch (error) {
      this.#d.log.warn(
        `Cannot handle ${message.type} from ${remoteHost}: ${
          (error as Error).message
        }`,
      );
      return "close";
    }
  }

  /**
   * Null when `body` is within its type's limit; otherwise the answer to a message too
   * large: INPUT_TOO_LARGE for a TASK_REQUEST that names its task, else a closed connection.
   */
  async #oversized(
    body: Uint8Array,
    remoteHost: string,
  ): Promise<Uint8Array | "close" | null> {
    const type = peekStringField(body, "type");
    const limit = inboundLimit(type, this.#d.sizes);
    if (body.length <= limit) return null;
    this.reject(
      "too large",
      `${
        type ?? "message"
      } of ${body.length} bytes from ${remoteHost} (at most ${limit})`,
    );
    const taskId = type === "TASK_REQUEST"
      ? peekStringField(body, "task_id")
      : null;
    if (taskId === null) return "close";
    // The caller learns why, as it would from a parsed request over its skill's limit.
    const largest = this.#d.sizes.largestInput();
    const signed = await signMessage("TASK_RESULT", {
      task_id: taskId,
      status: "failed",
      output_data: {},
      error: {
        code: "INPUT_TOO_LARGE",
        message:
          `Request is ${body.length} bytes; the largest input a skill here takes is ${largest} bytes`,
      },
    } as never, this.#d.identity);
    this.#d.metrics?.sent("TASK_RESULT");
    return encodeMessage(signed);
  }

  /** Null when `remoteHost` may send one more rated request; else the reason it may not. */
  #overRate(remoteHost: string, sync: boolean): string | null {
    if (this.#requests !== null && !this.#requests.take(remoteHost)) {
      return "rate limited";
    }
    if (sync && this.#syncs !== null && !this.#syncs.take(remoteHost)) {
      return "rate limited";
    }
    if (this.#requestsTotal !== null && !this.#requestsTotal.take("")) {
      return "rate limited (all addresses)";
    }
    if (sync && this.#syncsTotal !== null && !this.#syncsTotal.take("")) {
      return "rate limited (all addresses)";
    }
    return null;
  }

  /** Writes the pending summary of suppressed drop warnings; call once when the node closes. */
  close(): void {
    this.#drops?.flush();
  }

  /** Counts and logs a dropped message (a few lines a minute per reason: floods are counted). */
  reject(reason: string, detail: string): void {
    this.#d.stats.rejected[reason] = (this.#d.stats.rejected[reason] ?? 0) + 1;
    this.#drops ??= new LogThrottle(this.#d.log);
    this.#drops.warn(
      `Dropped messages (${reason})`,
      `Dropped message (${reason}): ${detail}`,
      { reason, detail },
    );
  }
}
