/** Test doubles: virtual time and an in-memory network of `Kademlia` instances. */
import type { HostPort } from "../../config/mod.ts";
import { Identity } from "../../crypto/mod.ts";
import type { Timers } from "./_pending.ts";
import { Kademlia } from "./kademlia.ts";
import type { KademliaOptions } from "./types.ts";

/** A clock and timers that move only when told to. */
export class FakeTime implements Timers {
  /** Unix seconds. */
  t = 1_700_000_000;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #next = 1;
  /** Unix seconds now. */
  now = (): number => this.t;
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.t + ms / 1000, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }
  /** Timers waiting. */
  get pending(): number {
    return this.#timers.size;
  }
  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const end = this.t + ms / 1000;
    for (;;) {
      let best: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.#timers) {
        if (e[1].at <= end && (!best || e[1].at < best[1].at)) best = e;
      }
      if (!best) break;
      this.#timers.delete(best[0]);
      this.t = Math.max(this.t, best[1].at);
      best[1].fn();
    }
    this.t = end;
  }
  /** Jumps to the next timer and fires it; false when none waits. */
  fireNext(): boolean {
    let best: [number, { at: number; fn: () => void }] | undefined;
    for (const e of this.#timers) if (!best || e[1].at < best[1].at) best = e;
    if (!best) return false;
    this.#timers.delete(best[0]);
    this.t = Math.max(this.t, best[1].at);
    best[1].fn();
    return true;
  }
}

/** One node of a {@linkcode FakeNet}. */
export interface FakeNode {
  identity: Identity;
  address: HostPort;
  dht: Kademlia;
}

/** Kademlia instances wired by direct calls; counts messages, can drop or kill nodes. */
export class FakeNet {
  /** Messages delivered or sent into the void. */
  messages = 0;
  /** Nodes by `host:port`. */
  nodes = new Map<string, FakeNode>();
  /** Addresses whose nodes receive nothing (down or silent). */
  silent = new Set<string>();
  time: FakeTime;
  constructor(time = new FakeTime()) {
    this.time = time;
  }

  /** Adds a node at `host` (a fresh port). */
  async add(
    host = "10.0.0.1",
    options: KademliaOptions = {},
  ): Promise<FakeNode> {
    const identity = await Identity.generate();
    const address = { host, port: 1000 + this.nodes.size };
    const dht = new Kademlia({
      self: { nodeId: identity.nodeId, ...address, sidecarPort: 0 },
      signer: identity,
      clock: this.time,
      timers: this.time,
      send: (to, action, payload) =>
        this.deliver(identity.nodeId, address, to, action, payload),
      addressOf: (id) => {
        for (const n of this.nodes.values()) {
          if (n.identity.nodeId === id) return n.address;
        }
        return undefined;
      },
    }, options);
    const node = { identity, address, dht };
    this.nodes.set(`${address.host}:${address.port}`, node);
    return node;
  }

  /** Delivers asynchronously (a microtask later), as a socket would. */
  deliver(
    fromId: string,
    from: HostPort,
    to: HostPort,
    action: string,
    payload: string,
  ): Promise<void> {
    this.messages++;
    const key = `${to.host}:${to.port}`;
    const node = this.nodes.get(key);
    if (!node) return Promise.reject(new Error(`Cannot connect to "${key}"`));
    if (this.silent.has(key)) return Promise.resolve();
    queueMicrotask(() => {
      node.dht.handle({ node_id: fromId, action, payload }, fromId, from.host);
    });
    return Promise.resolve();
  }

  /** Lets queued deliveries and their async work run. */
  async settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
  }

  /** Runs `work` to the end, jumping virtual time whenever everything waits on a timer. */
  async run<T>(work: Promise<T>): Promise<T> {
    let done = false;
    const p = work.finally(() => done = true);
    while (!done) {
      await this.settle();
      if (!done && !this.time.fireNext()) break;
    }
    return await p;
  }

  /** Closes every node. */
  async close(): Promise<void> {
    for (const n of this.nodes.values()) await n.dht.close();
  }
}
