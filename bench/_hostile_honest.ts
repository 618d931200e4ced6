/**
 * The honest workloads of the hostile-peers benchmark, each 8 requests in flight from 127.0.0.1
 * with latencies kept by end time, so that any window (before, during an attack) has its own
 * p99: signed echo TASK_REQUESTs to `knarr serve` (on persistent connections, as the neutral
 * load tool does, plus a probe opening a fresh connection for one task 10 times a second),
 * request-reply packets between two agents through `knarr relay`, and signed downloads
 * from the sidecar.
 */
import { Identity } from "../src/crypto/mod.ts";
import {
  decodePacket,
  encodeFrame as encodeKeepFrame,
  encodePacket,
  signPacket,
} from "../src/relay/mod.ts";
import { SidecarClient } from "../src/sidecar/mod.ts";
import type { SidecarTarget } from "../src/sidecar/mod.ts";
import {
  decodeMessage,
  encodeMessageFrame,
  signMessage,
} from "../src/wire/mod.ts";
import { Pacer } from "./_hostile_node_attacks.ts";

/** Figures of one window of an honest workload. */
export interface WindowStats {
  /** Requests answered as they should be. */
  ok: number;
  /** Requests that failed (refused, closed, timed out, wrong answer). */
  errors: number;
  /** Latency percentiles of the answered requests, in ms. */
  p50Ms: number;
  p99Ms: number;
  /** Fresh-connection probes that succeeded / were tried (tasks only). */
  freshOk: number;
  freshTried: number;
}

const IN_FLIGHT = 8;
const RELAY_ROUND_TRIPS_PER_S = 400;
const REQUEST_TIMEOUT_MS = 5_000;

/** Latencies and failures by end time. */
class Latencies {
  #ends: number[] = [];
  #ms: number[] = [];
  #errors: number[] = [];
  #fresh: { at: number; ok: boolean }[] = [];
  /** Why requests failed, with counts. */
  reasons: Map<string, number> = new Map();

  done(startedAt: number): void {
    const now = performance.now();
    this.#ends.push(now);
    this.#ms.push(now - startedAt);
  }

  failed(reason: string): void {
    this.#errors.push(performance.now());
    this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
  }

  fresh(ok: boolean): void {
    this.#fresh.push({ at: performance.now(), ok });
  }

  window(from: number, to: number): WindowStats {
    const ms: number[] = [];
    for (let i = 0; i < this.#ends.length; i++) {
      const end = this.#ends[i]!;
      if (end >= from && end < to) ms.push(this.#ms[i]!);
    }
    ms.sort((a, b) => a - b);
    const at = (q: number) =>
      ms[Math.min(ms.length - 1, Math.floor(ms.length * q))] ?? NaN;
    const fresh = this.#fresh.filter((f) => f.at >= from && f.at < to);
    return {
      ok: ms.length,
      errors: this.#errors.filter((t) => t >= from && t < to).length,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      freshOk: fresh.filter((f) => f.ok).length,
      freshTried: fresh.length,
    };
  }
}

/** A running honest workload. */
export interface Honest {
  window(from: number, to: number): WindowStats;
  /** Failure reasons since start. */
  reasons(): Map<string, number>;
  stop(): Promise<void>;
}

/** Reads length-prefixed frames from a Deno connection. */
class Frames {
  #conn: Deno.Conn;
  #buffer = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;
  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }
  /** The next frame body, or null when the connection ended. */
  async next(): Promise<Uint8Array | null> {
    for (;;) {
      const have = this.#end - this.#start;
      if (have >= 4) {
        const length = new DataView(this.#buffer.buffer, this.#start).getUint32(
          0,
        );
        if (have >= 4 + length) {
          const body = this.#buffer.slice(
            this.#start + 4,
            this.#start + 4 + length,
          );
          this.#start += 4 + length;
          return body;
        }
        if (4 + length > this.#buffer.length) {
          const bigger = new Uint8Array(4 + length);
          bigger.set(this.#buffer.subarray(this.#start, this.#end));
          this.#buffer = bigger;
          this.#end -= this.#start;
          this.#start = 0;
        }
      }
      if (this.#end === this.#buffer.length) {
        this.#buffer.copyWithin(0, this.#start, this.#end);
        this.#end -= this.#start;
        this.#start = 0;
      }
      const n = await this.#conn.read(this.#buffer.subarray(this.#end));
      if (n === null) return null;
      this.#end += n;
    }
  }
}

function timeout<T>(
  promise: Promise<T>,
  ms: number,
  onTimeout: () => void,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => {
        onTimeout();
        reject(new Error("timeout"));
      }, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

/** Echo tasks to `knarr serve` on 127.0.0.1:`port`. */
export async function honestTasks(port: number): Promise<Honest> {
  const identity = await Identity.generate();
  const record = new Latencies();
  let running = true;
  const request = async (n: number) =>
    encodeMessageFrame(
      await signMessage("TASK_REQUEST", {
        task_id: crypto.randomUUID(),
        requester_node_id: identity.nodeId,
        requester_host: "127.0.0.1",
        requester_port: 1,
        skill_name: "echo",
        input_data: { text: `honest ${n}` },
        timeout_ms: 30_000,
      }, identity),
    );
  // One task over `conn`; throws a reason when it fails.
  const task = async (conn: Deno.Conn, frames: Frames, n: number) => {
    const bytes = await request(n);
    const started = performance.now();
    await writeAll(conn, bytes);
    const body = await timeout(
      frames.next(),
      REQUEST_TIMEOUT_MS,
      () => conn.close(),
    );
    if (body === null) throw new Error("closed");
    const reply = decodeMessage(body) as Record<string, unknown>;
    if (reply.type !== "TASK_RESULT" || reply.status !== "completed") {
      const error = reply.error as { code?: string } | undefined;
      throw new Error(String(error?.code ?? reply.status ?? reply.type));
    }
    return started;
  };
  let n = 0;
  const worker = async () => {
    let conn: Deno.Conn | null = null;
    let frames: Frames | null = null;
    while (running) {
      try {
        if (conn === null) {
          conn = await Deno.connect({ hostname: "127.0.0.1", port });
          frames = new Frames(conn);
        }
        record.done(await task(conn, frames!, n++));
      } catch (error) {
        record.failed((error as Error).message.slice(0, 40));
        try {
          conn?.close();
        } catch { /* closed */ }
        conn = null;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    try {
      conn?.close();
    } catch { /* closed */ }
  };
  const probe = async () => {
    while (running) {
      await new Promise((r) => setTimeout(r, 100));
      let conn: Deno.Conn | null = null;
      try {
        conn = await Deno.connect({ hostname: "127.0.0.1", port });
        await task(conn, new Frames(conn), n++);
        record.fresh(true);
      } catch {
        record.fresh(false);
      } finally {
        try {
          conn?.close();
        } catch { /* closed */ }
      }
    }
  };
  const all = Promise.all([
    ...Array.from({ length: IN_FLIGHT }, worker),
    probe(),
  ]);
  return {
    window: (from, to) => record.window(from, to),
    reasons: () => record.reasons,
    async stop() {
      running = false;
      await all;
    },
  };
}

/** One registered keep agent on its own connection. */
class Agent {
  readonly name: string;
  readonly identity: Identity;
  conn!: Deno.Conn;
  frames!: Frames;
  // Writes one after another: eight senders share the connection.
  #writes: Promise<void> = Promise.resolve();
  constructor(name: string, identity: Identity) {
    this.name = name;
    this.identity = identity;
  }
  async connect(port: number): Promise<void> {
    this.conn = await Deno.connect({ hostname: "127.0.0.1", port });
    this.frames = new Frames(this.conn);
    await this.send("server", "reg", "register", 0);
    const reply = await timeout(
      this.frames.next(),
      REQUEST_TIMEOUT_MS,
      () => this.conn.close(),
    );
    if (reply === null || decodePacket(reply).body !== "done") {
      throw new Error(`Cannot register "${this.name}"`);
    }
  }
  async send(
    dst: string,
    id: string,
    body: string,
    typ: number,
  ): Promise<void> {
    const packet = await signPacket(
      { typ, id, src: this.name, dst, body },
      this.identity,
    );
    const frame = encodeKeepFrame(encodePacket(packet));
    const conn = this.conn;
    const written = this.#writes.then(() => writeAll(conn, frame));
    this.#writes = written.catch(() => {});
    await written;
  }
  close(): void {
    try {
      this.conn.close();
    } catch { /* closed */ }
  }
}

/**
 * Request-reply through the relay: agent A sends to agent B, B answers each packet, A times
 * the round trip; 400 a second, at most 8 in flight (each agent then stays under the relay's
 * default 1,000 packets a second per connection, which would otherwise pace the workload and
 * hide what an attack costs). A lost connection (e.g. its identity taken over) is a failure,
 * then both reconnect.
 */
export async function honestRelay(port: number): Promise<Honest> {
  const record = new Latencies();
  const a = new Agent("bench:honest-a", await Identity.generate());
  const b = new Agent("bench:honest-b", await Identity.generate());
  let running = true;
  const pending = new Map<
    string,
    { started: number; resolve: (ok: string | null) => void }
  >();
  const fail = (reason: string) => {
    for (const p of pending.values()) p.resolve(reason);
    pending.clear();
  };
  const serveB = async () => {
    for (;;) {
      const frame = await b.frames.next().catch(() => null);
      if (frame === null) return;
      const packet = decodePacket(frame);
      if (packet.src === a.name && packet.typ === 0) {
        await b.send(a.name, packet.id, packet.body, 1).catch(() => {});
      }
    }
  };
  const serveA = async () => {
    for (;;) {
      const frame = await a.frames.next().catch(() => null);
      if (frame === null) return;
      const packet = decodePacket(frame);
      const waiting = pending.get(packet.id);
      if (waiting && packet.src === b.name) {
        pending.delete(packet.id);
        record.done(waiting.started);
        waiting.resolve(null);
      }
    }
  };
  // (Re)connects both agents and serves them until either connection ends.
  let ready: Promise<void> = Promise.resolve();
  const session = async () => {
    while (running) {
      try {
        await a.connect(port);
        await b.connect(port);
      } catch {
        record.failed("register");
        a.close();
        b.close();
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      let up!: () => void;
      ready = new Promise((r) => up = r);
      const ended = Promise.race([serveA(), serveB()]);
      up();
      await ended;
      if (running) record.failed("connection lost");
      fail("connection lost");
      a.close();
      b.close();
    }
  };
  const sessions = session();
  await new Promise((r) => setTimeout(r, 200));
  let n = 0;
  const pacer = new Pacer(RELAY_ROUND_TRIPS_PER_S);
  const worker = async () => {
    while (running) {
      await ready;
      await pacer.take();
      const id = `h${n++}`;
      const outcome = new Promise<string | null>((resolve) =>
        pending.set(id, { started: performance.now(), resolve })
      );
      const timer = setTimeout(
        () => pending.get(id)?.resolve("timeout"),
        REQUEST_TIMEOUT_MS,
      );
      try {
        await a.send(b.name, id, "ping", 0);
      } catch {
        pending.get(id)?.resolve("send failed");
      }
      const failure = await outcome;
      clearTimeout(timer);
      pending.delete(id);
      if (failure !== null && failure !== "connection lost") {
        record.failed(failure);
      }
      if (failure !== null) await new Promise((r) => setTimeout(r, 20));
    }
  };
  const workers = Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return {
    window: (from, to) => record.window(from, to),
    reasons: () => record.reasons,
    async stop() {
      running = false;
      fail("stopped");
      a.close();
      b.close();
      await workers;
      await sessions;
    },
  };
}

/**
 * Signed downloads of small assets from the sidecar, 8 at once, each with a fresh key (the
 * sidecar refuses a signature it has seen, and one key's requests for one path within the
 * same second carry the same signature).
 */
export function honestDownloads(
  target: SidecarTarget,
  hashes: string[],
  dir: string,
): Honest {
  const record = new Latencies();
  let running = true;
  let n = 0;
  const worker = async (w: number) => {
    while (running) {
      const client = new SidecarClient(
        { identity: await Identity.generate() },
        {
          timeoutMs: REQUEST_TIMEOUT_MS,
        },
      );
      const path = `${dir}/honest-${w}`;
      const started = performance.now();
      try {
        await client.download(target, hashes[n++ % hashes.length]!, path);
        record.done(started);
      } catch (error) {
        record.failed((error as Error).message.slice(0, 60));
        await new Promise((r) => setTimeout(r, 10));
      } finally {
        await Deno.remove(path).catch(() => {});
      }
    }
  };
  const all = Promise.all(
    Array.from({ length: IN_FLIGHT }, (_, w) => worker(w)),
  );
  return {
    window: (from, to) => record.window(from, to),
    reasons: () => record.reasons,
    async stop() {
      running = false;
      await all;
    },
  };
}
