/**
 * The hostile-peers benchmark's floods of valid, signed messages that grow the node's tables
 * and its gossip: JOIN_REQUESTs from many addresses under a new key each, and ANNOUNCEs from
 * fresh keys (and from a few keys with ever new skills) whose forwards a fake peer counts.
 * After each flood the node's SQLite file is read (read-only) for the size of its tables.
 */
import { DatabaseSync } from "node:sqlite";
import { Identity } from "../src/crypto/mod.ts";
import { decodeMessage } from "../src/wire/mod.ts";
import {
  framed,
  Pacer,
  probe,
  sheet,
  signed,
  Tally,
} from "./_hostile_node_attacks.ts";
import type { AttackContext } from "./_hostile_node_attacks.ts";
import { loops, sources } from "./_hostile_raw.ts";
import type { AttackCounts } from "./_hostile_raw.ts";

/** Peers and remote skills in the node's database (null when it cannot be read). */
function tableSizes(db?: string): { peers: number; skills: number } | null {
  if (!db) return null;
  try {
    const conn = new DatabaseSync(db, { readOnly: true });
    try {
      const count = (sql: string) =>
        Number((conn.prepare(sql).get() as { n: number }).n);
      return {
        peers: count("SELECT count(*) AS n FROM peers"),
        skills: count("SELECT count(*) AS n FROM skills WHERE is_own = 0"),
      };
    } finally {
      conn.close();
    }
  } catch {
    return null;
  }
}

function sizes(t: { peers: number; skills: number } | null): string {
  return t ? `${t.peers} peers, ${t.skills} remote skills` : "unknown";
}

/** A fake peer that counts the ANNOUNCE frames the node sends it (its gossip forwards). */
function forwardCounter(host: string) {
  const listener = Deno.listen({ hostname: host, port: 0 });
  let announces = 0;
  let connections = 0;
  const serving = (async () => {
    for await (const conn of listener) {
      connections++;
      (async () => {
        let buffer = new Uint8Array(0);
        const chunk = new Uint8Array(16_384);
        try {
          for (;;) {
            const n = await conn.read(chunk);
            if (n === null) break;
            const next = new Uint8Array(buffer.length + n);
            next.set(buffer);
            next.set(chunk.subarray(0, n), buffer.length);
            buffer = next;
            if (buffer.length < 4) continue;
            const length = new DataView(buffer.buffer).getUint32(0);
            if (buffer.length < 4 + length) continue;
            const m = decodeMessage(buffer.subarray(4, 4 + length)) as {
              type?: string;
            };
            if (m.type === "ANNOUNCE") announces++;
            break;
          }
        } catch { /* the node hung up */ }
        try {
          conn.close();
        } catch { /* closed */ }
      })();
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    get announces() {
      return announces;
    },
    get connections() {
      return connections;
    },
    async close() {
      listener.close();
      await serving.catch(() => {});
    },
  };
}

/** JOIN_REQUESTs from 40 addresses, a new key and a made-up listening address each. */
async function joinFloodMany(ctx: AttackContext): Promise<AttackCounts> {
  const before = tableSizes(ctx.db);
  const tally = new Tally();
  const pacer = new Pacer(ctx.rate);
  const addresses = sources(6, 40);
  let i = 0;
  await loops(32, performance.now() + ctx.seconds * 1000, async () => {
    await pacer.take();
    const fresh = await Identity.generate();
    const join = await signed("JOIN_REQUEST", {
      node_id: fresh.nodeId,
      host: `10.254.${Math.floor(Math.random() * 255)}.${
        Math.floor(Math.random() * 255)
      }`,
      port: 1 + Math.floor(Math.random() * 65_000),
      ephemeral: false,
    }, fresh);
    tally.see(
      await probe(ctx, addresses[i++ % addresses.length]!, framed(join)),
    );
  });
  await new Promise((r) => setTimeout(r, 500));
  const after = tableSizes(ctx.db);
  const grew = before && after ? after.peers - before.peers : NaN;
  // A JOIN that added no peer entry was refused, whatever the node answered.
  const stored = Number.isFinite(grew) ? Math.max(0, grew) : 0;
  return {
    sent: tally.sent,
    rejected: tally.sent - stored,
    note: tally.note(
      `JOIN_REQUESTs from 40 addresses, a new key and fake address each (rejected = no peer ` +
        `entry added); node tables before: ${sizes(before)}, after: ${
          sizes(after)
        }`,
    ),
  };
}

/**
 * Valid ANNOUNCEs from 40 addresses: three in four from a fresh key each, one in four from one
 * of 8 keys announcing ever new skills. Each names a fake peer of ours as its provider address,
 * so every gossip forward of the node (to any peer these add) lands on that fake peer.
 */
async function announceFlood(ctx: AttackContext): Promise<AttackCounts> {
  const counter = forwardCounter("127.0.0.67");
  try {
    const before = tableSizes(ctx.db);
    const tally = new Tally();
    const pacer = new Pacer(ctx.rate);
    const addresses = sources(4, 40);
    const hoarders = await Promise.all(
      Array.from({ length: 8 }, () => Identity.generate()),
    );
    let i = 0;
    await loops(32, performance.now() + ctx.seconds * 1000, async () => {
      await pacer.take();
      const n = i++;
      const key = n % 4 === 0
        ? hoarders[(n >> 2) % hoarders.length]!
        : await Identity.generate();
      const name = `flood-${n}`;
      const announce = await signed("ANNOUNCE", {
        node_id: key.nodeId,
        skill_key: name,
        skill_sheet: sheet(name),
        provider_host: "127.0.0.67",
        provider_port: counter.port,
      }, key);
      tally.see(
        await probe(ctx, addresses[n % addresses.length]!, framed(announce)),
      );
    });
    // Forwards go out in the background: give them a moment.
    await new Promise((r) => setTimeout(r, 1_500));
    const after = tableSizes(ctx.db);
    const grew = before && after ? after.skills - before.skills : NaN;
    const stored = Number.isFinite(grew) ? Math.max(0, grew) : 0;
    return {
      sent: tally.sent,
      rejected: tally.sent - stored,
      note: tally.note(
        `ANNOUNCEs from 40 addresses, 3 in 4 from a fresh key, 1 in 4 from 8 keys with ever ` +
          `new skills (rejected = not stored); gossip forwards the node sent ${counter.announces} ` +
          `(${
            (counter.announces / Math.max(1, tally.sent)).toFixed(2)
          } per ANNOUNCE sent); ` +
          `node tables before: ${sizes(before)}, after: ${sizes(after)}`,
      ),
    };
  } finally {
    await counter.close();
  }
}

/** The table-growing floods by name. */
export const FLOOD_ATTACKS: Record<
  string,
  (ctx: AttackContext) => Promise<AttackCounts>
> = {
  "join-flood-many": joinFloodMany,
  "announce-flood": announceFlood,
};
