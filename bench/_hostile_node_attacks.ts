/** The hostile-peers benchmark's attacks on the knarr protocol port (`knarr serve`). */
import { Identity } from "../src/crypto/mod.ts";
import { decodeMessage, encodeMessage, signMessage } from "../src/wire/mod.ts";
import type {
  JsonObject,
  Message,
  MessageFields,
  MessageType,
} from "../src/wire/mod.ts";
import { frameOf, loops, RawConn, sources } from "./_hostile_raw.ts";
import type { AttackCounts } from "./_hostile_raw.ts";

/** Where and how hard to attack. */
export interface AttackContext {
  /** The target's address (127.0.0.1). */
  host: string;
  /** The knarr protocol port, the relay port or the sidecar port, by attack. */
  port: number;
  /** The target node's id (sidecar certificate pin; not checked by attackers). */
  nodeId: string;
  /** How long the attack runs. */
  seconds: number;
  /** Attack messages per second (floods: the most). */
  rate: number;
  /** The target node's SQLite file, read (read-only) to count its tables after a flood. */
  db?: string;
}

/** How long a connection attack waits, once over, for the server to close what is left. */
export const LINGER_MS = 12_000;

/** Paces many loops to `rate` operations per second in all. */
export class Pacer {
  #next = performance.now();
  #gapMs: number;
  constructor(rate: number) {
    this.#gapMs = 1000 / rate;
  }
  async take(): Promise<void> {
    const at = this.#next;
    this.#next = Math.max(this.#next + this.#gapMs, performance.now() - 50);
    const wait = at - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}

/** What one probe saw: a reply body, the connection closed, nothing, or no connection. */
export type Seen =
  | { kind: "reply"; message: Record<string, unknown> }
  | { kind: "closed" | "timeout" | "refused" };

/** Dials from `source`, writes `bytes`, waits for one reply frame or the close. */
export async function probe(
  ctx: AttackContext,
  source: string,
  bytes: Uint8Array,
  waitMs = 2_000,
): Promise<Seen> {
  let conn: RawConn;
  try {
    conn = await RawConn.open(ctx.host, ctx.port, source);
  } catch {
    return { kind: "refused" };
  }
  try {
    conn.write(bytes);
    const got = await conn.nextFrame(waitMs);
    if (got === "closed" || got === "timeout") return { kind: got };
    return {
      kind: "reply",
      message: decodeMessage(got) as Record<string, unknown>,
    };
  } finally {
    conn.destroy();
  }
}

function randomHex(bytes: number): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(bytes)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

export function framed(message: object): Uint8Array {
  return frameOf(encodeMessage(message));
}

export async function signed<T extends MessageType>(
  type: T,
  fields: MessageFields<T>,
  identity: Identity,
): Promise<Message> {
  return await signMessage(type, fields, identity) as Message;
}

export function sheet(name: string): JsonObject {
  return {
    name,
    version: "1.0.0",
    description: "hostile",
    tags: ["hostile"],
    input_schema: {},
    output_schema: {},
  };
}

/** Counts probes whose connection was closed (or left unanswered) as rejected. */
export class Tally {
  sent = 0;
  rejected = 0;
  closed = 0;
  unanswered = 0;
  refused = 0;
  replies = new Map<string, number>();
  see(seen: Seen, rejectedReply?: (m: Record<string, unknown>) => boolean) {
    this.sent++;
    if (seen.kind === "reply") {
      const m = seen.message;
      const code = (m.error as { code?: string } | undefined)?.code;
      const key = `${m.type}${
        code ? ` ${code}` : m.status ? ` ${m.status}` : ""
      }`;
      this.replies.set(key, (this.replies.get(key) ?? 0) + 1);
      if (rejectedReply?.(m)) this.rejected++;
      return;
    }
    this.rejected++;
    if (seen.kind === "closed") this.closed++;
    else if (seen.kind === "timeout") this.unanswered++;
    else this.refused++;
  }
  note(what: string): string {
    const replies = [...this.replies].map(([k, v]) => `${v} ${k}`).join(", ");
    return `${what}; closed ${this.closed}, no reply ${this.unanswered}, ` +
      `refused at connect ${this.refused}${
        replies ? `, replies: ${replies}` : ""
      }`;
  }
  counts(what: string): AttackCounts {
    return { sent: this.sent, rejected: this.rejected, note: this.note(what) };
  }
}

/** A fake peer that records the ANNOUNCEs the node gossips to it. */
async function observer(ctx: AttackContext, host: string) {
  const identity = await Identity.generate();
  const listener = Deno.listen({ hostname: host, port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const seen = new Map<string, number>();
  const serving = (async () => {
    for await (const conn of listener) {
      (async () => {
        const buffer: number[] = [];
        const chunk = new Uint8Array(65_536);
        try {
          for (;;) {
            const n = await conn.read(chunk);
            if (n === null) break;
            buffer.push(...chunk.subarray(0, n));
            if (buffer.length < 4) continue;
            const length = new DataView(new Uint8Array(buffer).buffer)
              .getUint32(0);
            if (buffer.length < 4 + length) continue;
            const m = decodeMessage(
              new Uint8Array(buffer.slice(4, 4 + length)),
            ) as Record<string, unknown>;
            if (m.type === "ANNOUNCE") {
              const key = String(m.msg_id);
              seen.set(key, (seen.get(key) ?? 0) + 1);
            }
            break;
          }
        } catch { /* the node hung up */ }
        try {
          conn.close();
        } catch { /* closed */ }
      })();
    }
  })();
  const join = await signed("JOIN_REQUEST", {
    node_id: identity.nodeId,
    host,
    port,
    ephemeral: false,
  }, identity);
  const answer = await probe(ctx, host, framed(join));
  if (answer.kind !== "reply") throw new Error("The observer could not join");
  return {
    seen,
    async close() {
      listener.close();
      await serving.catch(() => {});
    },
  };
}

async function forgedSignatures(ctx: AttackContext): Promise<AttackCounts> {
  const attacker = await Identity.generate();
  const tally = new Tally();
  const pacer = new Pacer(ctx.rate);
  const makers = [
    () =>
      signed("TASK_REQUEST", {
        task_id: crypto.randomUUID(),
        requester_node_id: attacker.nodeId,
        requester_host: "127.0.0.66",
        requester_port: 9,
        skill_name: "echo",
        input_data: { text: "forged" },
      }, attacker),
    () =>
      signed("ANNOUNCE", {
        node_id: attacker.nodeId,
        skill_key: "forged",
        skill_sheet: sheet("forged"),
      }, attacker),
    () => signed("QUERY", { query_type: "name", value: "echo" }, attacker),
    () =>
      signed("JOIN_REQUEST", {
        node_id: attacker.nodeId,
        host: "127.0.0.66",
        port: 9,
        ephemeral: false,
      }, attacker),
  ];
  let i = 0;
  await loops(16, performance.now() + ctx.seconds * 1000, async () => {
    await pacer.take();
    const message = await makers[i++ % makers.length]!() as unknown as Record<
      string,
      unknown
    >;
    message.signature = randomHex(64);
    tally.see(await probe(ctx, "127.0.0.66", framed(message)));
  });
  return tally.counts(
    "random signatures on TASK_REQUEST, ANNOUNCE, QUERY, JOIN_REQUEST",
  );
}

async function replays(ctx: AttackContext): Promise<AttackCounts> {
  const victim = await Identity.generate();
  const watch = await observer(ctx, "127.0.0.67");
  try {
    const task = framed(
      await signed("TASK_REQUEST", {
        task_id: crypto.randomUUID(),
        requester_node_id: victim.nodeId,
        requester_host: "127.0.0.1",
        requester_port: 9,
        skill_name: "echo",
        input_data: { text: "once" },
      }, victim),
    );
    const announce = await signed("ANNOUNCE", {
      node_id: victim.nodeId,
      skill_key: "replayed",
      skill_sheet: sheet("replayed"),
      provider_host: "127.0.0.1",
      provider_port: 9,
    }, victim);
    const announceBytes = framed(announce);
    const first = await probe(ctx, "127.0.0.66", task);
    if (first.kind !== "reply" || first.message.status !== "completed") {
      throw new Error("The original task did not complete");
    }
    await probe(ctx, "127.0.0.66", announceBytes);
    const tasks = new Tally();
    let announces = 0;
    const pacer = new Pacer(ctx.rate);
    let i = 0;
    await loops(16, performance.now() + ctx.seconds * 1000, async () => {
      await pacer.take();
      if (i++ % 2 === 0) {
        tasks.see(
          await probe(ctx, "127.0.0.66", task),
          (m) =>
            (m.error as { code?: string } | undefined)?.code ===
              "DUPLICATE_REQUEST",
        );
      } else {
        await probe(ctx, "127.0.0.66", announceBytes);
        announces++;
      }
    });
    await new Promise((r) => setTimeout(r, 1_000));
    const forwarded = watch.seen.get(announce.msg_id) ?? 0;
    const regossiped = Math.max(0, forwarded - 1);
    return {
      sent: tasks.sent + announces,
      rejected: tasks.rejected + announces - regossiped,
      note: tasks.note(
        `${tasks.sent} replayed TASK_REQUESTs (rejected = DUPLICATE_REQUEST), ` +
          `${announces} replayed ANNOUNCEs (rejected = not gossiped again: ` +
          `observer peer got the original ${forwarded} time(s))`,
      ),
    };
  } finally {
    await watch.close();
  }
}

async function idMismatch(ctx: AttackContext): Promise<AttackCounts> {
  const attacker = await Identity.generate();
  const tally = new Tally();
  const pacer = new Pacer(ctx.rate);
  const makers = [
    () =>
      signed("JOIN_REQUEST", {
        node_id: randomHex(32),
        host: "127.0.0.66",
        port: 9,
        ephemeral: false,
      }, attacker),
    () =>
      signed("HEARTBEAT", { node_id: randomHex(32), timestamp: 1 }, attacker),
    () =>
      signed("ANNOUNCE", {
        node_id: randomHex(32),
        skill_key: "mismatch",
        skill_sheet: sheet("mismatch"),
      }, attacker),
    () =>
      signed("PLUGIN_MESSAGE", {
        node_id: randomHex(32),
        plugin_name: "knarr-kademlia",
        action: "ping",
        payload: "{}",
      }, attacker),
  ];
  let i = 0;
  await loops(16, performance.now() + ctx.seconds * 1000, async () => {
    await pacer.take();
    const message = await makers[i++ % makers.length]!();
    tally.see(await probe(ctx, "127.0.0.66", framed(message)));
  });
  return tally.counts(
    "validly signed, node_id not the key's: JOIN_REQUEST, HEARTBEAT, ANNOUNCE, PLUGIN_MESSAGE",
  );
}

async function spoofedGossip(ctx: AttackContext): Promise<AttackCounts> {
  const victim = await Identity.generate();
  const attacker = await Identity.generate();
  const watch = await observer(ctx, "127.0.0.67");
  try {
    const original = await signed("ANNOUNCE", {
      node_id: victim.nodeId,
      skill_key: "victim-skill",
      skill_sheet: sheet("victim-skill"),
      provider_host: "127.0.0.1",
      provider_port: 7,
    }, victim);
    await probe(ctx, "127.0.0.68", framed(original));
    const tally = new Tally();
    const pacer = new Pacer(ctx.rate);
    const spoofed = new Set<string>();
    const makers = [
      // The victim's node_id with the attacker's key: node_id mismatch.
      () =>
        signed("ANNOUNCE", {
          node_id: victim.nodeId,
          skill_key: "victim-skill",
          skill_sheet: sheet("victim-skill"),
          provider_host: "127.0.0.66",
          provider_port: 6666,
        }, attacker),
      // The victim's key and node_id, signed by the attacker: bad signature.
      async () => {
        const m = await signed("ANNOUNCE", {
          node_id: attacker.nodeId,
          skill_key: "victim-skill",
          skill_sheet: sheet("victim-skill"),
          provider_host: "127.0.0.66",
          provider_port: 6666,
        }, attacker) as unknown as Record<string, unknown>;
        m.node_id = victim.nodeId;
        m.public_key = victim.publicKey;
        return m as unknown as Message;
      },
      // Withdrawing the victim's skill in its name.
      () =>
        signed("DEREGISTER", {
          node_id: victim.nodeId,
          skill_key: "victim-skill",
        }, attacker),
    ];
    let i = 0;
    await loops(16, performance.now() + ctx.seconds * 1000, async () => {
      await pacer.take();
      const message = await makers[i++ % makers.length]!();
      spoofed.add(message.msg_id);
      tally.see(await probe(ctx, "127.0.0.66", framed(message)));
    });
    await new Promise((r) => setTimeout(r, 500));
    const query = await signed("QUERY", {
      query_type: "name",
      value: "victim-skill",
    }, attacker);
    const answer = await probe(ctx, "127.0.0.68", framed(query));
    const results = answer.kind === "reply"
      ? answer.message.results as Record<string, unknown>[]
      : [];
    const hosts = results.map((r) =>
      `${r.node_id === victim.nodeId ? "victim" : "other"}@${r.host}:${r.port}`
    );
    const leaked = [...watch.seen.keys()].filter((id) =>
      spoofed.has(id)
    ).length;
    return tally.counts(
      `ANNOUNCE/DEREGISTER in the victim's name; later QUERY finds [${
        hosts.join(", ")
      }]; ` +
        `spoofed messages gossiped to the observer peer: ${leaked}`,
    );
  } finally {
    await watch.close();
  }
}

async function oversizedFrames(ctx: AttackContext): Promise<AttackCounts> {
  const tally = new Tally();
  const pacer = new Pacer(ctx.rate);
  const junk = new Uint8Array(4_096).fill(0x41);
  const lengths = [1_048_577, 0x7fff_ffff, 0xffff_ffff, 16 * 1_048_576];
  let i = 0;
  await loops(16, performance.now() + ctx.seconds * 1000, async () => {
    await pacer.take();
    const bytes = new Uint8Array(4 + junk.length);
    new DataView(bytes.buffer).setUint32(0, lengths[i++ % lengths.length]!);
    bytes.set(junk, 4);
    tally.see(await probe(ctx, "127.0.0.66", bytes));
  });
  return tally.counts(
    "length prefixes of 1 MiB + 1 to 4 GiB followed by 4 KiB",
  );
}

async function truncatedFrames(ctx: AttackContext): Promise<AttackCounts> {
  const attacker = await Identity.generate();
  const tally = new Tally();
  const pacer = new Pacer(ctx.rate);
  const valid = encodeMessage(
    await signed("QUERY", { query_type: "name", value: "echo" }, attacker),
  );
  let i = 0;
  await loops(16, performance.now() + ctx.seconds * 1000, async () => {
    await pacer.take();
    const variant = i++ % 3;
    let conn: RawConn;
    try {
      conn = await RawConn.open(ctx.host, ctx.port, "127.0.0.66");
    } catch {
      return tally.see({ kind: "refused" });
    }
    try {
      if (variant === 0) {
        // A frame cut short, then our side closed.
        conn.write(frameOf(valid).subarray(0, 4 + (valid.length >> 1)));
        conn.endWrite();
      } else if (variant === 1) {
        // A whole frame holding half a message.
        conn.write(frameOf(valid.subarray(0, valid.length >> 1)));
      } else {
        // A whole frame of bytes that are not UTF-8.
        conn.write(frameOf(crypto.getRandomValues(new Uint8Array(200))));
      }
      const got = await conn.nextFrame(2_000);
      tally.see(
        typeof got === "string" ? { kind: got } : {
          kind: "reply",
          message: decodeMessage(got) as Record<string, unknown>,
        },
      );
    } finally {
      conn.destroy();
    }
  });
  return tally.counts(
    "half a frame then FIN, a frame of half a message, a frame of random bytes",
  );
}

/**
 * Holds `total` connections from `addresses` source addresses; each sends a frame header then
 * a byte every `dripMs` (none when 0), and is opened again when the server closes it.
 */
async function holdConnections(
  ctx: AttackContext,
  addresses: string[],
  total: number,
  dripMs: number,
): Promise<AttackCounts & { maxOpen: number }> {
  const until = performance.now() + ctx.seconds * 1000;
  let opened = 0;
  let closedByServer = 0;
  let refusedAtConnect = 0;
  let open = 0;
  let maxOpen = 0;
  let bytes = 0;
  const lifetimes: number[] = [];
  await Promise.all(Array.from({ length: total }, async (_, k) => {
    const source = addresses[k % addresses.length]!;
    // Spread the dials over the first second.
    await new Promise((r) => setTimeout(r, (k * 1000) / total));
    while (performance.now() < until) {
      let conn: RawConn;
      try {
        conn = await RawConn.open(ctx.host, ctx.port, source);
      } catch {
        refusedAtConnect++;
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      opened++;
      open++;
      maxOpen = Math.max(maxOpen, open);
      if (dripMs > 0) {
        conn.write(new Uint8Array([0, 0, 0, 200]));
        bytes += 4;
      }
      while (!conn.closed && performance.now() < until) {
        await conn.waitClosed(
          Math.min(dripMs || 1_000, until - performance.now()),
        );
        if (!conn.closed && dripMs > 0 && performance.now() < until) {
          conn.write(new Uint8Array([0x7b]));
          bytes++;
        }
      }
      // The attack is over: the server must still close what it holds (first-frame deadline).
      if (!conn.closed) await conn.waitClosed(LINGER_MS);
      open--;
      if (conn.closed && conn.closedByPeer) {
        closedByServer++;
        lifetimes.push(conn.closedAt - conn.openedAt);
      }
      conn.destroy();
      if (performance.now() < until) {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }));
  lifetimes.sort((a, b) => a - b);
  const median = lifetimes[lifetimes.length >> 1] ?? NaN;
  return {
    sent: opened,
    rejected: closedByServer,
    maxOpen,
    note:
      `connections opened (rejected = closed by the server); from ${addresses.length} addresses; ` +
      `${bytes} bytes dripped; at most ${maxOpen} open at once; median life of a closed one ` +
      `${
        (median / 1000).toFixed(1)
      } s; connect failures ${refusedAtConnect}; ` +
      `${opened - closedByServer} still open 12 s after the end`,
  };
}

async function slowloris(ctx: AttackContext): Promise<AttackCounts> {
  return await holdConnections(ctx, sources(1, 20), 1_000, 3_000);
}

async function connectionFlood(ctx: AttackContext): Promise<AttackCounts> {
  // One address far past its cap, and many addresses past the total cap.
  const [one, many] = await Promise.all([
    holdConnections(ctx, ["127.0.0.71"], 500, 0),
    holdConnections(ctx, sources(3, 40), 1_500, 0),
  ]);
  return {
    sent: one.sent + many.sent,
    rejected: one.rejected + many.rejected,
    note: `one address: ${one.note} | 40 addresses: ${many.note}`,
  };
}

async function joinFlood(ctx: AttackContext): Promise<AttackCounts> {
  const tally = new Tally();
  const pacer = new Pacer(ctx.rate);
  let largest = 0;
  await loops(16, performance.now() + ctx.seconds * 1000, async () => {
    await pacer.take();
    const fresh = await Identity.generate();
    const join = await signed("JOIN_REQUEST", {
      node_id: fresh.nodeId,
      host: `10.255.${Math.floor(Math.random() * 255)}.${
        Math.floor(Math.random() * 255)
      }`,
      port: 1 + Math.floor(Math.random() * 65_000),
      ephemeral: false,
    }, fresh);
    const seen = await probe(ctx, "127.0.0.72", framed(join));
    if (seen.kind === "reply") {
      largest = Math.max(
        largest,
        (seen.message.peers as unknown[] | undefined)?.length ?? 0,
      );
    }
    tally.see(seen);
  });
  return tally.counts(
    `JOIN_REQUESTs from one address, a new key and fake address each; largest JOIN_RESPONSE ${largest} peers`,
  );
}

async function queryFlood(ctx: AttackContext): Promise<AttackCounts> {
  const attacker = await Identity.generate();
  const tally = new Tally();
  const pacer = new Pacer(ctx.rate);
  let i = 0;
  await loops(16, performance.now() + ctx.seconds * 1000, async () => {
    await pacer.take();
    const query = await signed("QUERY", {
      query_type: i % 2 === 0 ? "name" : "all",
      value: `nothing-${i++}`,
    }, attacker);
    tally.see(await probe(ctx, "127.0.0.73", framed(query)));
  });
  return tally.counts(
    "QUERYs from one address (names nobody offers, and 'all')",
  );
}

/** The node attacks by name. */
export const NODE_ATTACKS: Record<
  string,
  (ctx: AttackContext) => Promise<AttackCounts>
> = {
  "forged-signature": forgedSignatures,
  "replay": replays,
  "id-mismatch": idMismatch,
  "spoofed-gossip": spoofedGossip,
  "oversized-frame": oversizedFrames,
  "truncated-frame": truncatedFrames,
  "slowloris": slowloris,
  "connection-flood": connectionFlood,
  "join-flood": joinFlood,
  "query-flood": queryFlood,
};
