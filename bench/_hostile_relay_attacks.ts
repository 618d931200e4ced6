/** The hostile-peers benchmark's attacks on `knarr relay`. */
import { Identity } from "../src/crypto/mod.ts";
import {
  createPacket,
  decodePacket,
  encodeFrame,
  encodePacket,
  signPacket,
} from "../src/relay/mod.ts";
import type { PacketInit } from "../src/relay/mod.ts";
import { loops, RawConn } from "./_hostile_raw.ts";
import type { AttackCounts } from "./_hostile_raw.ts";
import { Pacer } from "./_hostile_node_attacks.ts";
import type { AttackContext } from "./_hostile_node_attacks.ts";

/** The honest agents' identities (see `_hostile_honest.ts`). */
const HONEST: readonly [string, string] = ["bench:honest-a", "bench:honest-b"];

async function signedFrame(
  init: PacketInit,
  identity: Identity,
): Promise<Uint8Array> {
  return encodeFrame(encodePacket(await signPacket(init, identity)));
}

/** The relay's `discover:metrics` counters, asked from an address of its own. */
async function metrics(ctx: AttackContext): Promise<Record<string, number>> {
  const conn = await RawConn.open(ctx.host, ctx.port, "127.0.0.81");
  try {
    conn.write(
      await signedFrame(
        { id: "m", dst: "discover:metrics" },
        await Identity.generate(),
      ),
    );
    const frame = await conn.nextFrame(3_000);
    if (typeof frame === "string") throw new Error(`metrics: ${frame}`);
    return JSON.parse(decodePacket(frame).body);
  } finally {
    conn.destroy();
  }
}

function delta(
  before: Record<string, number>,
  after: Record<string, number>,
  keys: string[],
): number {
  return keys.reduce((sum, k) => sum + (after[k] ?? 0) - (before[k] ?? 0), 0);
}

/**
 * Unsigned and badly signed packets at the honest agent, from 16 connections, each just under
 * the relay's per-connection rate (so every packet is read, and dropped, within the window).
 */
async function unsignedFlood(ctx: AttackContext): Promise<AttackCounts> {
  const before = await metrics(ctx);
  const attacker = await Identity.generate();
  const forged = decodePacket(
    (await signedFrame({
      id: "x",
      src: "hostile:x",
      dst: HONEST[1],
      body: "forged",
    }, attacker))
      .subarray(4),
  );
  const CONNS = 16;
  const pacer = new Pacer(ctx.rate / 100);
  let sent = 0;
  let closed = 0;
  const conns = await Promise.all(
    Array.from(
      { length: CONNS },
      () => RawConn.open(ctx.host, ctx.port, "127.0.0.80"),
    ),
  );
  let n = 0;
  await loops(CONNS, performance.now() + ctx.seconds * 1000, async (k) => {
    await pacer.take();
    const conn = conns[k]!;
    if (conn.closed) {
      closed++;
      conns[k] = await RawConn.open(ctx.host, ctx.port, "127.0.0.80");
      return;
    }
    // 100 packets per write: half unsigned, half with a signature that does not verify.
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 100; i++) {
      const id = `f${n++}`;
      const packet = i % 2 === 0
        ? createPacket({
          id,
          src: "hostile:unsigned",
          dst: HONEST[1],
          body: "flood",
        })
        : { ...forged, id, sig: crypto.getRandomValues(new Uint8Array(64)) };
      frames.push(encodeFrame(encodePacket(packet)));
    }
    const bytes = new Uint8Array(frames.reduce((s, f) => s + f.length, 0));
    let off = 0;
    for (const f of frames) {
      bytes.set(f, off);
      off += f.length;
    }
    conn.write(bytes);
    sent += frames.length;
    await conn.drained();
  });
  // Let the relay read what is still in flight before counting.
  let after = await metrics(ctx);
  for (let i = 0; i < 30; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const now = await metrics(ctx);
    const settled = now.dropped_unsigned === after.dropped_unsigned &&
      now.dropped_bad_signature === after.dropped_bad_signature;
    after = now;
    if (settled) break;
  }
  for (const conn of conns) conn.destroy();
  const dropped = delta(before, after, [
    "dropped_unsigned",
    "dropped_bad_signature",
  ]);
  return {
    sent,
    rejected: dropped,
    note:
      `packets to the honest agent, half unsigned, half badly signed (rejected = the relay's ` +
      `dropped counters); throttled ${
        delta(before, after, ["throttled"])
      } times; ` +
      `attacker connections closed ${closed}; forwarded during the attack ` +
      `${delta(before, after, ["forwarded"])} (honest traffic included)`,
  };
}

/** Packets signed by the attacker's key claiming the honest agents' identities. */
async function identitySquatting(ctx: AttackContext): Promise<AttackCounts> {
  const before = await metrics(ctx);
  const pacer = new Pacer(ctx.rate);
  let sent = 0;
  let registered = 0;
  let dropped = 0;
  await loops(4, performance.now() + ctx.seconds * 1000, async () => {
    await pacer.take();
    const squatter = await Identity.generate();
    let conn: RawConn;
    try {
      conn = await RawConn.open(ctx.host, ctx.port, "127.0.0.82");
    } catch {
      return;
    }
    try {
      conn.write(
        await signedFrame({
          id: `s${sent}`,
          src: HONEST[sent % 2]!,
          dst: "server",
          body: "mine now",
        }, squatter),
      );
      sent++;
      const answer = await conn.nextFrame(1_000);
      if (typeof answer !== "string" && decodePacket(answer).body === "done") {
        registered++;
      } else dropped++;
    } finally {
      conn.destroy();
    }
  });
  const after = await metrics(ctx);
  return {
    sent,
    rejected: dropped,
    note:
      `registrations of the honest agents' identities with other keys (rejected = dropped, ` +
      `no reply); answered "done" ${registered}; relay counted ${
        delta(before, after, ["dropped_binding"])
      } binding drops, ${delta(before, after, ["closed_takeover"])} takeovers`,
  };
}

/**
 * Consumers that register and never read, fed large packets by the attacker's own senders: the
 * relay must cut them off at their queue caps without growing without bound.
 */
async function slowConsumers(ctx: AttackContext): Promise<AttackCounts> {
  const before = await metrics(ctx);
  const SINKS = 16;
  const sinks: RawConn[] = [];
  const names: string[] = [];
  const sinkKey = await Identity.generate();
  for (let i = 0; i < SINKS; i++) {
    const conn = await RawConn.open(
      ctx.host,
      ctx.port,
      i % 2 === 0 ? "127.0.0.83" : "127.0.0.85",
    );
    const name = `hostile:sink-${i}-${crypto.randomUUID().slice(0, 6)}`;
    conn.write(
      await signedFrame({ id: "r", src: name, dst: "server" }, sinkKey),
    );
    await conn.nextFrame(2_000);
    conn.stopReading();
    sinks.push(conn);
    names.push(name);
  }
  const FEEDERS = 8;
  const body = "x".repeat(60 * 1024);
  // Per feeder (an identity each: one identity is one connection) a signed frame per sink,
  // sent again and again (the relay verifies every packet).
  const frames = await Promise.all(
    Array.from({ length: FEEDERS }, async (_, k) => {
      const sender = await Identity.generate();
      return await Promise.all(
        names.map((dst) =>
          signedFrame(
            { id: "p", src: `hostile:feeder-${k}`, dst, body },
            sender,
          )
        ),
      );
    }),
  );
  const pacer = new Pacer(ctx.rate);
  let sent = 0;
  let refused = 0;
  const feeders = await Promise.all(
    Array.from(
      { length: FEEDERS },
      () => RawConn.open(ctx.host, ctx.port, "127.0.0.84"),
    ),
  );
  const readers = feeders.map(async (conn) => {
    for (;;) {
      const frame = await conn.nextFrame(60_000);
      if (typeof frame === "string") return;
      const answer = decodePacket(frame).body;
      if (answer.startsWith("error:")) refused++;
    }
  });
  let n = 0;
  await loops(FEEDERS, performance.now() + ctx.seconds * 1000, async (k) => {
    await pacer.take();
    const conn = feeders[k]!;
    if (conn.closed) return;
    conn.write(frames[k]![n++ % SINKS]!);
    sent++;
    await conn.drained();
  });
  await new Promise((r) => setTimeout(r, 500));
  for (const conn of [...sinks, ...feeders]) conn.destroy();
  await Promise.all(readers);
  const after = await metrics(ctx);
  const cut = delta(before, after, ["closed_slow", "closed_write_timeout"]);
  return {
    sent: SINKS,
    rejected: Math.min(SINKS, cut),
    note:
      `${SINKS} registered consumers that never read, fed ${sent} packets of 60 KiB ` +
      `(${
        Math.round(sent * 60 / 1024)
      } MiB) by ${FEEDERS} senders (rejected = consumers cut off: ` +
      `closed_slow +${
        delta(before, after, ["closed_slow"])
      }, closed_write_timeout +${
        delta(before, after, ["closed_write_timeout"])
      }); ${refused} packets answered error:offline/delivery_failed once they were gone`,
  };
}

/** The relay attacks by name. */
export const RELAY_ATTACKS: Record<
  string,
  (ctx: AttackContext) => Promise<AttackCounts>
> = {
  "relay-unsigned-flood": unsignedFlood,
  "relay-identity-squat": identitySquatting,
  "relay-slow-consumer": slowConsumers,
};
