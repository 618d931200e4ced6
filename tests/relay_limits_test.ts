/** The relay's resource limits and fairness, over real sockets. */
import { Identity } from "../src/crypto/mod.ts";
import { decodePacket, FrameReader, verifyPacket } from "../src/relay/mod.ts";
import { assert, assertEquals, assertStrictEquals } from "./assert.ts";
import {
  delay,
  RawPeer,
  signedFrame,
  startRelay,
  waitFor,
} from "./relay_helpers.ts";

const key = await Identity.generate();
const otherKey = await Identity.generate();

async function register(
  peer: RawPeer,
  src: string,
  identity = key,
): Promise<void> {
  await peer.send(identity, { id: `register ${src}`, src, dst: "server" });
  const reply = await peer.readNonHeartbeat();
  assertStrictEquals(reply.body, "done");
}

async function roundTrip(peer: RawPeer, id: string): Promise<void> {
  await peer.send(key, { id, dst: "server" });
  assertStrictEquals((await peer.readNonHeartbeat()).id, id);
}

const CONNECTION_LIMITS = [
  {
    limit: "maxConnections",
    options: { maxConnections: 2, maxConnectionsPerIp: 100 },
  },
  {
    limit: "maxConnectionsPerIp",
    options: { maxConnections: 100, maxConnectionsPerIp: 2 },
  },
];

for (const { limit, options } of CONNECTION_LIMITS) {
  Deno.test(`RelayServer refuses connections beyond ${limit}`, async () => {
    await using relay = await startRelay(options);
    using a = await RawPeer.connect(relay.port);
    using b = await RawPeer.connect(relay.port);
    await roundTrip(a, "a");
    await roundTrip(b, "b");
    using c = await RawPeer.connect(relay.port);
    await c.expectClosed();
    assertStrictEquals(relay.metrics.connectionsRejected, 1);
    a.close();
    await waitFor(() => relay.connections === 1, "a's slot to free up");
    using d = await RawPeer.connect(relay.port);
    await roundTrip(d, "d");
  });
}

Deno.test("RelayServer meters each connection with a token bucket", async () => {
  await using relay = await startRelay({ rateLimit: 10, rateBurst: 5 });
  using fast = await RawPeer.connect(relay.port);
  using other = await RawPeer.connect(relay.port);
  const frames = await Promise.all(
    Array.from(
      { length: 15 },
      (_, i) => signedFrame(key, { id: `p${i}`, dst: "server" }),
    ),
  );
  const start = performance.now();
  await fast.write(new Uint8Array(frames.flatMap((f) => [...f])));
  const arrivals: number[] = [];
  const reading = (async () => {
    for (let i = 0; i < 15; i++) {
      assertStrictEquals((await fast.readPacket()).id, `p${i}`);
      arrivals.push(performance.now() - start);
    }
  })();
  // While `fast` is throttled, another connection is not: it has a bucket of its own.
  await delay(100);
  const t0 = performance.now();
  for (let i = 0; i < 5; i++) await roundTrip(other, `other ${i}`);
  const otherMs = performance.now() - t0;
  await reading;
  // 5 at once, then 10 more at 10/s: the last one no earlier than ~1 s.
  assert(arrivals[4]! < 300, `the burst took ${arrivals[4]} ms`);
  assert(arrivals[14]! >= 900, `15 packets took only ${arrivals[14]} ms`);
  assert(
    otherMs < 400,
    `5 round trips of the other connection took ${otherMs} ms`,
  );
  assert(relay.metrics.throttled >= 9);
});

Deno.test("RelayServer closes connections that register no identity within idleTimeoutMs", async () => {
  await using relay = await startRelay({ idleTimeoutMs: 150 });
  using silent = await RawPeer.connect(relay.port);
  using anonymous = await RawPeer.connect(relay.port);
  using registered = await RawPeer.connect(relay.port);
  await register(registered, "bot:r");
  await roundTrip(anonymous, "empty src registers nothing");
  const start = performance.now();
  await silent.expectClosed();
  await anonymous.expectClosed();
  assert(performance.now() - start < 2_000);
  await delay(300);
  await roundTrip(registered, "still open");
  assertStrictEquals(relay.metrics.closedIdle, 2);
});

/** A receiver that registers, then never reads; a sender that floods it with large packets. */
async function stallReceiver(
  port: number,
  packets: number,
): Promise<{ stuck: RawPeer; sender: RawPeer }> {
  const stuck = await RawPeer.connect(port);
  await register(stuck, "bot:stuck", otherKey);
  const sender = await RawPeer.connect(port);
  const frame = await signedFrame(key, {
    id: "flood",
    dst: "bot:stuck",
    body: "x".repeat(60_000),
  });
  const flood = new Uint8Array(frame.length * 16);
  for (let i = 0; i < 16; i++) flood.set(frame, i * frame.length);
  for (let sent = 0; sent < packets; sent += 16) await sender.write(flood);
  return { stuck, sender };
}

Deno.test("RelayServer flushes what it queued for a peer that stops sending before closing", async () => {
  await using relay = await startRelay({
    maxQueue: 100_000,
    maxQueueBytes: 1 << 30,
  });
  const { stuck, sender } = await stallReceiver(relay.port, 160);
  try {
    await waitFor(
      () => relay.metrics.forwarded === 160,
      "the flood to be queued",
    );
    await stuck.send(otherKey, { id: "last words", dst: "server" });
    await stuck.conn.closeWrite();
    let reply = null;
    for (let i = 0; reply === null; i++) {
      const packet = await stuck.readPacket();
      if (packet.id === "last words") reply = packet;
      else assertStrictEquals(packet.id, "flood", `frame ${i}`);
      if (reply) assertStrictEquals(i, 160);
    }
    await stuck.expectClosed();
    assertStrictEquals(relay.agentsOnline, 0);
  } finally {
    stuck.close();
    sender.close();
  }
});

Deno.test("RelayServer closes a connection whose write exceeds writeTimeoutMs", async () => {
  await using relay = await startRelay({
    writeTimeoutMs: 200,
    maxQueue: 100_000,
    maxQueueBytes: 1 << 30,
  });
  const { stuck, sender } = await stallReceiver(relay.port, 400);
  try {
    await waitFor(
      () => relay.metrics.closedWriteTimeout === 1,
      "the write deadline to close the receiver",
    );
    assertStrictEquals(relay.agentsOnline, 0);
    assertStrictEquals(relay.metrics.closedSlow, 0);
  } finally {
    stuck.close();
    sender.close();
  }
});

Deno.test("RelayServer does not let a slow receiver delay other traffic", async () => {
  await using relay = await startRelay({
    heartbeatIntervalMs: 20,
    writeTimeoutMs: 30_000,
    maxQueue: 100_000,
    maxQueueBytes: 1 << 30,
  });
  using fast = await RawPeer.connect(relay.port);
  await register(fast, "bot:fast", otherKey);
  const { stuck, sender } = await stallReceiver(relay.port, 400);
  try {
    // Give the relay time to fill the stuck socket: its writer is now blocked.
    await waitFor(
      () => relay.metrics.forwarded >= 400,
      "the flood to be queued",
    );
    await delay(100);
    // The same sender, whose earlier packets all went to the stalled receiver, reaches bot:fast.
    const start = performance.now();
    for (let i = 0; i < 20; i++) {
      await sender.send(key, { id: `ping ${i}`, dst: "bot:fast" });
    }
    for (let i = 0; i < 20; i++) {
      assertStrictEquals((await fast.readNonHeartbeat()).id, `ping ${i}`);
    }
    const elapsed = performance.now() - start;
    assert(elapsed < 3_000, `20 pings took ${elapsed} ms`);
    // Heartbeats kept flowing to the fast receiver while the other one was stuck.
    const before = relay.metrics.heartbeats;
    await waitFor(
      () => relay.metrics.heartbeats > before + 2,
      "heartbeats during the stall",
    );
    assertStrictEquals(
      relay.agentsOnline,
      2,
      "the stalled receiver is still connected",
    );
  } finally {
    stuck.close();
    sender.close();
  }
});

Deno.test("RelayServer disconnects a receiver whose queue overflows and reports it to the sender", async () => {
  await using relay = await startRelay({ maxQueue: 8, writeTimeoutMs: 30_000 });
  const { stuck, sender } = await stallReceiver(relay.port, 400);
  try {
    await waitFor(
      () => relay.metrics.closedSlow === 1,
      "the slow receiver to be dropped",
    );
    const first = await sender.readNonHeartbeat();
    assertStrictEquals(first.body, "error:delivery_failed");
    const next = await sender.readNonHeartbeat();
    assertStrictEquals(next.body, "error:offline");
  } finally {
    stuck.close();
    sender.close();
  }
});

Deno.test("RelayServer with bindIdentities drops packets claiming an identity with another key", async () => {
  await using relay = await startRelay({ bindIdentities: true });
  using owner = await RawPeer.connect(relay.port);
  await register(owner, "bot:owner", key);
  using thief = await RawPeer.connect(relay.port);
  await thief.send(otherKey, { id: "steal", src: "bot:owner", dst: "server" });
  await thief.send(otherKey, {
    id: "own name",
    src: "bot:thief",
    dst: "server",
  });
  assertStrictEquals((await thief.readPacket()).id, "own name");
  await roundTrip(owner, "owner kept the identity and the connection");
  assertStrictEquals(relay.metrics.droppedBinding, 1);
  owner.close();
  await waitFor(() => relay.agentsOnline === 1, "the owner to go offline");
  // Still pinned while the owner is away.
  await thief.send(otherKey, {
    id: "steal again",
    src: "bot:owner",
    dst: "discover:agents",
  });
  await thief.send(otherKey, { id: "check", dst: "discover:agents" });
  const reply = await thief.readPacket();
  assertEquals([reply.id, reply.body], ["check", '{"agents":["bot:thief"]}']);
});

Deno.test("RelayServer lets only an identity's own key take it over while it is online", async () => {
  await using relay = await startRelay();
  using owner = await RawPeer.connect(relay.port);
  await register(owner, "bot:owner", key);
  using thief = await RawPeer.connect(relay.port);
  // Before: the thief's packet registered bot:owner and closed the owner's connection.
  await thief.send(otherKey, { id: "steal", src: "bot:owner", dst: "server" });
  await thief.send(otherKey, { id: "own", src: "bot:thief", dst: "server" });
  assertStrictEquals((await thief.readPacket()).id, "own");
  await roundTrip(owner, "owner kept the identity and the connection");
  assertStrictEquals(relay.metrics.droppedTakeover, 1);
  assertStrictEquals(relay.metrics.closedTakeover, 0);
  // The owner reconnecting with its key takes the identity over, as before.
  using again = await RawPeer.connect(relay.port);
  await register(again, "bot:owner", key);
  await owner.expectClosed();
  assertStrictEquals(relay.metrics.closedTakeover, 1);
  // An identity nobody holds is free to any key (binding pins it for good).
  again.close();
  await waitFor(() => relay.agentsOnline === 1, "the owner to go offline");
  await register(thief, "bot:owner", otherKey);
});

Deno.test("RelayServer never interleaves frames from concurrent writers", async () => {
  await using relay = await startRelay({ heartbeatIntervalMs: 5 });
  using receiver = await RawPeer.connect(relay.port);
  await register(receiver, "bot:sink", otherKey);
  const senders = await Promise.all(
    Array.from({ length: 8 }, () => RawPeer.connect(relay.port)),
  );
  const perSender = 40;
  try {
    const sending = senders.map(async (peer, s) => {
      for (let i = 0; i < perSender; i++) {
        const body = String.fromCharCode(97 + s).repeat(
          1 + ((s * 7919 + i * 104729) % 30_000),
        );
        await peer.send(key, {
          id: `${s}/${i}`,
          src: `bot:s${s}`,
          dst: "bot:sink",
          body,
        });
      }
    });
    const reader = new FrameReader(receiver.conn);
    const seen = new Map<number, number>();
    let received = 0;
    while (received < senders.length * perSender) {
      const frame = await reader.next();
      assert(frame !== null);
      const packet = decodePacket(frame.subarray(4));
      if (packet.typ === 2) continue;
      assertStrictEquals(await verifyPacket(packet), "valid");
      const [s, i] = packet.id.split("/").map(Number) as [number, number];
      assertStrictEquals(packet.body[0], String.fromCharCode(97 + s));
      assertStrictEquals(
        i,
        seen.get(s) ?? 0,
        "packets of one sender arrive in order",
      );
      seen.set(s, i + 1);
      received++;
    }
    await Promise.all(sending);
    assert(relay.metrics.heartbeats > 0);
  } finally {
    for (const peer of senders) peer.close();
  }
});
