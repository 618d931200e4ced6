/**
 * The agents of the relay soak: one TCP connection each, all held by this process. Every agent
 * registers, sends its pre-signed messages when the schedule says, and, unless it is a slow
 * consumer, reads and accounts for everything it receives. Reading agents use `node:net` (to
 * connect from many 127.0.x.y source addresses, so the relay's per-IP cap stays at its
 * default); slow consumers use `Deno.connect` from 127.0.0.1 and never read after registering
 * (a paused `node:net` socket still reads into its stream buffer).
 */
import { connect } from "node:net";
import type { Socket } from "node:net";
import type { SoakPlan } from "./_soak_packets.ts";
import { SilentLink, socketLink } from "./_soak_links.ts";
import type { AgentLink } from "./_soak_links.ts";

/** Options for {@linkcode SoakAgents.connect}. */
export interface SoakAgentsOptions {
  /** Relay address. */
  host: string;
  /** Relay port. */
  port: number;
  /** Distinct source addresses the agents connect from (0: the system's choice). */
  addresses: number;
  /** Whether agent `i` is a slow consumer (never reads after registering). */
  slow: (i: number) => boolean;
  /** Agents connecting at once. Default 200. */
  batch?: number;
}

// Bits of a message's state.
/** Written to the sender's socket. */
export const SENT = 1;
/** Received by its destination. */
export const DELIVERED = 2;
/** The relay answered the sender `error:offline`. */
export const OFFLINE = 4;
/** The relay answered the sender `error:delivery_failed`. */
export const DELIVERY_FAILED = 8;

/** The `i`-th source address: 127.0.1.1, 127.0.1.2, … */
export function sourceAddress(i: number): string {
  return `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
}

/** Everything the agents saw; arrays are indexed by message number or agent. */
export class SoakAgents {
  readonly plan: SoakPlan;
  /** Slow consumer flags. */
  readonly slow: Uint8Array;
  /** When each agent's registration was answered (ms, `performance.now()`), 0 if not. */
  readonly registeredAt: Float64Array;
  /** When each agent's connection closed, 0 while open. */
  readonly closedAt: Float64Array;
  /** Why each closed agent closed. */
  readonly closeReason: (string | null)[];
  /** When each message was written (0: not sent). */
  readonly sentAt: Float64Array;
  /** State bits of each message. */
  readonly state: Uint8Array;
  /** Send-to-receive times of deliveries, ms; the first `delivered` entries are set. */
  readonly latencies: Float64Array;
  /** Messages written. */
  sent = 0;
  /** Messages received by their destination (first copies). */
  delivered = 0;
  duplicates = 0;
  misrouted = 0;
  heartbeats = 0;
  offlineReplies = 0;
  deliveryFailedReplies = 0;
  otherFrames = 0;
  /** Messages not written because their sender's connection had closed. */
  unsentClosed = 0;
  #links: AgentLink[] = [];
  #leftover: (Uint8Array | null)[];
  #registered: ((ok: boolean) => void)[] = [];
  #control: Socket | null = null;
  #controlLeftover: Uint8Array | null = null;
  #metricsWaiters: ((json: string) => void)[] = [];

  private constructor(plan: SoakPlan, slow: (i: number) => boolean) {
    this.plan = plan;
    const n = plan.agents;
    this.slow = Uint8Array.from({ length: n }, (_, i) => slow(i) ? 1 : 0);
    this.registeredAt = new Float64Array(n);
    this.closedAt = new Float64Array(n);
    this.closeReason = new Array(n).fill(null);
    this.#leftover = new Array(n).fill(null);
    this.sentAt = new Float64Array(plan.total);
    this.state = new Uint8Array(plan.total);
    this.latencies = new Float64Array(plan.total);
  }

  /** Connects and registers every agent (and a control connection); throws if one cannot. */
  static async connect(
    plan: SoakPlan,
    options: SoakAgentsOptions,
  ): Promise<SoakAgents> {
    const agents = new SoakAgents(plan, options.slow);
    agents.#control = await agents.#open(-1, options, null);
    const batch = options.batch ?? 200;
    for (let i = 0; i < plan.agents; i += batch) {
      const end = Math.min(plan.agents, i + batch);
      await Promise.all(
        Array.from(
          { length: end - i },
          (_, j) => agents.#register(i + j, options),
        ),
      );
    }
    return agents;
  }

  /** Writes message `k` to its sender's connection; false when that connection has closed. */
  send(k: number): boolean {
    const agent = k % this.plan.agents;
    if (this.closedAt[agent] !== 0) {
      this.unsentClosed++;
      return false;
    }
    const bytes = this.plan.frameBytes;
    this.#links[agent]!.write(
      this.plan.frames.subarray(k * bytes, (k + 1) * bytes),
    );
    this.sentAt[k] = performance.now();
    this.state[k]! |= SENT;
    this.sent++;
    return true;
  }

  /** The relay's `discover:metrics` counters. */
  metrics(): Promise<Record<string, number>> {
    const reply = new Promise<string>((resolve) =>
      this.#metricsWaiters.push(resolve)
    );
    this.#control!.write(this.plan.metricsRequest);
    return reply.then((json) => JSON.parse(json));
  }

  /** Open agent connections. */
  get open(): number {
    let open = 0;
    for (let i = 0; i < this.plan.agents; i++) {
      if (this.closedAt[i] === 0) open++;
    }
    return open;
  }

  /** Bytes the agents wrote that this process still holds (its sockets' backlog). */
  queuedBytes(): number {
    let bytes = 0;
    for (const link of this.#links) bytes += link.queuedBytes();
    return bytes;
  }

  /** Closes every connection and waits until they are closed. */
  async close(): Promise<void> {
    await Promise.all(
      [...this.#links, socketLink(this.#control!)].map((link) => link.close()),
    );
  }

  async #register(i: number, options: SoakAgentsOptions): Promise<void> {
    const ok = new Promise<boolean>((resolve) => this.#registered[i] = resolve);
    let link: AgentLink;
    if (this.slow[i]) {
      link = await SilentLink.open(
        options,
        (chunk) => this.#onData(i, chunk),
        (reason) => {
          this.#closed(i, reason);
        },
      );
    } else {
      const local = options.addresses > 0
        ? sourceAddress(i % options.addresses)
        : null;
      link = socketLink(await this.#open(i, options, local));
    }
    this.#links[i] = link;
    link.write(this.plan.registrations[i]!);
    if (!await ok) {
      throw new Error(
        `Cannot register soak agent ${i}: ${this.closeReason[i] ?? "no reply"}`,
      );
    }
    this.registeredAt[i] = performance.now();
    link.registered();
  }

  #closed(i: number, reason: string): void {
    if (this.closedAt[i] === 0) this.closedAt[i] = performance.now();
    this.closeReason[i] ??= reason;
    this.#registered[i]?.(false);
  }

  #open(
    i: number,
    options: SoakAgentsOptions,
    local: string | null,
  ): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect({
        host: options.host,
        port: options.port,
        ...(local === null ? {} : { localAddress: local }),
      });
      socket.setNoDelay(true);
      socket.once("connect", () => resolve(socket));
      socket.on("data", (chunk: Uint8Array) => this.#onData(i, chunk));
      socket.on("error", (error: Error) => {
        if (i >= 0) this.closeReason[i] ??= error.message;
        reject(new Error(`Cannot connect soak agent ${i}: ${error.message}`));
      });
      socket.on("close", () => {
        if (i >= 0) this.#closed(i, "closed by the relay");
      });
    });
  }

  #onData(i: number, chunk: Uint8Array): void {
    let bytes = chunk;
    const leftover = i < 0 ? this.#controlLeftover : this.#leftover[i]!;
    if (leftover !== null) {
      bytes = new Uint8Array(leftover.length + chunk.length);
      bytes.set(leftover);
      bytes.set(chunk, leftover.length);
    }
    let p = 0;
    while (bytes.length - p >= 4) {
      const length = ((bytes[p]! << 24) | (bytes[p + 1]! << 16) |
        (bytes[p + 2]! << 8) | bytes[p + 3]!) >>> 0;
      if (bytes.length - p - 4 < length) break;
      this.#onFrame(i, bytes, p + 4, p + 4 + length);
      p += 4 + length;
    }
    const rest = p < bytes.length ? bytes.slice(p) : null;
    if (i < 0) this.#controlLeftover = rest;
    else this.#leftover[i] = rest;
  }

  #onFrame(agent: number, b: Uint8Array, start: number, end: number): void {
    let typ = 0;
    let idAt = -1;
    let idEnd = -1;
    let fromServer = false;
    let bodyAt = -1;
    let bodyEnd = -1;
    let p = start;
    while (p < end) {
      const tag = b[p++]!;
      let value = 0;
      let shift = 0;
      let byte: number;
      do {
        byte = b[p++]!;
        value += (byte & 0x7f) * 2 ** shift;
        shift += 7;
      } while (byte >= 0x80);
      if ((tag & 7) === 0) {
        if (tag >>> 3 === 3) typ = value;
        continue;
      }
      const field = tag >>> 3;
      if (field === 4) [idAt, idEnd] = [p, p + value];
      else if (field === 5) {
        fromServer = value === 6 && b[p] === 0x73 && b[p + 1] === 0x65;
      } else if (field === 7) [bodyAt, bodyEnd] = [p, p + value];
      p += value;
    }
    if (typ === 2) {
      this.heartbeats++;
      return;
    }
    if (agent < 0) {
      const json = new TextDecoder().decode(b.subarray(bodyAt, bodyEnd));
      this.#metricsWaiters.shift()?.(json);
      return;
    }
    if (fromServer && b[idAt] === 0x72) {
      // "r…": the registration's "done".
      this.#registered[agent]?.(true);
      this.#registered[agent] = () => {};
      return;
    }
    const k = idAt < 0 ? -1 : this.#messageOf(b, idAt, idEnd);
    if (k < 0) {
      this.otherFrames++;
      return;
    }
    if (fromServer) {
      const bodyLength = bodyEnd - bodyAt;
      if (bodyLength === "error:offline".length) {
        this.offlineReplies++;
        this.state[k]! |= OFFLINE;
      } else if (bodyLength === "error:delivery_failed".length) {
        this.deliveryFailedReplies++;
        this.state[k]! |= DELIVERY_FAILED;
      } else this.otherFrames++;
      return;
    }
    if (this.plan.dst[k] !== agent) {
      this.misrouted++;
      return;
    }
    if (this.state[k]! & DELIVERED) {
      this.duplicates++;
      return;
    }
    this.state[k]! |= DELIVERED;
    this.latencies[this.delivered++] = performance.now() - this.sentAt[k]!;
  }

  /** The message number of an id `<agent>.<seq>`, or -1. */
  #messageOf(b: Uint8Array, at: number, end: number): number {
    const { agentDigits, seqDigits, agents, total } = this.plan;
    if (end - at !== agentDigits + 1 + seqDigits) return -1;
    let agent = 0;
    for (let i = 0; i < agentDigits; i++) {
      agent = agent * 10 + b[at + i]! - 0x30;
    }
    let seq = 0;
    for (let i = agentDigits + 1; i < end - at; i++) {
      seq = seq * 10 + b[at + i]! - 0x30;
    }
    const k = seq * agents + agent;
    return k >= 0 && k < total ? k : -1;
  }
}
