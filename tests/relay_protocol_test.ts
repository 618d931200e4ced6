/** The keep protocol over real sockets: dispatch table, framing, signatures, registration. */
import { Identity } from "../src/crypto/mod.ts";
import {
  createPacket,
  decodePacket,
  encodeFrame,
  encodePacket,
  MAX_FRAME_BYTES,
  signPacket,
  verifyPacket,
} from "../src/relay/mod.ts";
import { bytesToHex, hexToBytes } from "../src/util/mod.ts";
import { assert, assertEquals, assertStrictEquals } from "./assert.ts";
import {
  delay,
  RawPeer,
  signedFrame,
  startRelay,
  waitFor,
} from "./relay_helpers.ts";
import {
  HEARTBEAT_FRAME_HEX,
  V1,
  V2,
  VECTOR_SEED,
  vectorFrame,
} from "./relay_vectors.ts";

const vectorKey = await Identity.fromSeed(VECTOR_SEED);
const otherKey = await Identity.generate();

Deno.test("RelayServer answers the spec vectors byte-exact", async (t) => {
  await using relay = await startRelay();
  await t.step("V1 to server: done", async () => {
    using peer = await RawPeer.connect(relay.port);
    await peer.write(vectorFrame(V1));
    assertStrictEquals(bytesToHex(await peer.readFrame()), V1.replyFrameHex);
  });
  await t.step("V2 to a disconnected identity: error:offline", async () => {
    using peer = await RawPeer.connect(relay.port);
    await peer.write(vectorFrame(V2));
    assertStrictEquals(bytesToHex(await peer.readFrame()), V2.replyFrameHex);
  });
});

Deno.test("RelayServer signs replies with its own key in front of the unsigned reply bytes", async () => {
  await using relay = await startRelay({ signReplies: true });
  using peer = await RawPeer.connect(relay.port);
  await peer.write(vectorFrame(V1));
  const frame = await peer.readFrame();
  const unsigned = hexToBytes(V1.replyFrameHex).subarray(4);
  assertStrictEquals(
    bytesToHex(frame.subarray(0, 4)),
    (unsigned.length + 100).toString(16).padStart(8, "0"),
  );
  assertStrictEquals(bytesToHex(frame.subarray(4, 6)), "0a40");
  assertStrictEquals(
    bytesToHex(frame.subarray(70, 104)),
    "1220" + relay.publicKey,
  );
  assertStrictEquals(bytesToHex(frame.subarray(104)), bytesToHex(unsigned));
  assertStrictEquals(
    await verifyPacket(decodePacket(frame.subarray(4))),
    "valid",
  );
});

Deno.test("RelayServer answers discovery queries with the exact JSON", async () => {
  const clock = {
    t: 1_000_000,
    now() {
      return this.t;
    },
  };
  await using relay = await startRelay({ version: "1.2.3" }, { clock });
  using alice = await RawPeer.connect(relay.port);
  await alice.write(vectorFrame(V2)); // registers bot:alice, counts one scar
  assertStrictEquals(bytesToHex(await alice.readFrame()), V2.replyFrameHex);
  using observer = await RawPeer.connect(relay.port);
  const ask = async (dst: string) => {
    await observer.send(otherKey, { id: dst, dst }); // empty src: the observer registers nothing
    const reply = await observer.readPacket();
    assertEquals([reply.typ, reply.id, reply.src, reply.dst], [
      1,
      dst,
      "server",
      "",
    ]);
    return reply.body;
  };
  clock.t += 61_999;
  assertStrictEquals(
    await ask("discover:info"),
    '{"agents_online":1,"uptime_sec":61,"version":"1.2.3"}',
  );
  assertStrictEquals(await ask("discover:agents"), '{"agents":["bot:alice"]}');
  assertStrictEquals(
    await ask("discover:stats"),
    '{"scar_exchanges":{"bot:alice":1},"total_packets":4}',
  );
  assertStrictEquals(await ask("discover:nope"), "error:unknown_discovery");
  alice.close();
  await waitFor(() => relay.agentsOnline === 0, "bot:alice to go offline");
  assertStrictEquals(await ask("discover:agents"), '{"agents":[]}');
  assertStrictEquals(await ask(""), "done");
});

Deno.test("RelayServer forwards the packet as received and sends nothing back", async () => {
  await using relay = await startRelay();
  using bob = await RawPeer.connect(relay.port);
  await bob.send(otherKey, { id: "reg", src: "bot:bob", dst: "server" });
  assertStrictEquals((await bob.readPacket()).body, "done");

  using alice = await RawPeer.connect(relay.port);
  // An unknown field (126) after the signed ones: not covered by the signature, still forwarded.
  const packet = await signPacket({
    id: "m1",
    src: "bot:alice",
    dst: "bot:bob",
    body: "trade?",
    fee: 7n,
  }, vectorKey);
  const wire = new Uint8Array([
    ...encodePacket(packet),
    ...hexToBytes("f2070378797a"),
  ]);
  const frame = encodeFrame(wire);
  await alice.write(frame);
  assertStrictEquals(bytesToHex(await bob.readFrame()), bytesToHex(frame));

  // No ack: the next frame alice sees answers her next request.
  await alice.send(vectorKey, { id: "after", src: "bot:alice", dst: "server" });
  const next = await alice.readPacket();
  assertEquals([next.id, next.body], ["after", "done"]);
});

Deno.test("RelayServer answers error:delivery_failed when the receiver cannot take the packet", async () => {
  // One frame of queue: the receiver never reads, so its socket fills and the queue overflows.
  await using relay = await startRelay({ maxQueue: 1 });
  using stuck = await RawPeer.connect(relay.port);
  await stuck.send(otherKey, { src: "bot:stuck", dst: "bot:nobody" });
  assertStrictEquals((await stuck.readPacket()).body, "error:offline"); // registered now
  using sender = await RawPeer.connect(relay.port);
  const body = "x".repeat(60_000);
  let reply = null;
  for (let i = 0; i < 1_000 && reply === null; i++) {
    await sender.send(vectorKey, { id: `p${i}`, dst: "bot:stuck", body });
    if (relay.metrics.deliveryFailed > 0) {
      reply = await sender.readNonHeartbeat();
    }
  }
  assert(reply !== null, "the receiver's queue never overflowed");
  assertStrictEquals(reply.body, "error:delivery_failed");
  assertStrictEquals(relay.metrics.closedSlow, 1);
  await waitFor(
    () => relay.agentsOnline === 0,
    "the slow receiver to be dropped",
  );
});

Deno.test("RelayServer enforces the frame length limits", async (t) => {
  await using relay = await startRelay();
  await t.step("65,536 bytes is accepted", async () => {
    using peer = await RawPeer.connect(relay.port);
    const base = encodePacket(
      await signPacket({ id: "big", dst: "server", body: "" }, vectorKey),
    ).length;
    // body length L adds 1 tag byte + a 3-byte length varint (L ≥ 16,384) + L bytes
    const body = "b".repeat(MAX_FRAME_BYTES - base - 4);
    const frame = await signedFrame(vectorKey, {
      id: "big",
      dst: "server",
      body,
    });
    assertStrictEquals(frame.length, 4 + MAX_FRAME_BYTES);
    await peer.write(frame);
    assertStrictEquals((await peer.readPacket()).body, "done");
  });
  for (
    const [name, prefix] of [["0", "00000000"], ["65,537", "00010001"]] as const
  ) {
    await t.step(
      `${name} bytes closes the connection without a reply`,
      async () => {
        using peer = await RawPeer.connect(relay.port);
        await peer.write(hexToBytes(prefix));
        await peer.expectClosed();
      },
    );
  }
  assertStrictEquals(relay.metrics.closedMalformed, 2);
});

Deno.test("RelayServer still answers a packet whose sender then stops sending", async (t) => {
  await using relay = await startRelay();
  await t.step("half-closed socket", async () => {
    using peer = await RawPeer.connect(relay.port);
    await peer.write(vectorFrame(V1));
    await peer.conn.closeWrite();
    assertStrictEquals(bytesToHex(await peer.readFrame()), V1.replyFrameHex);
    await peer.expectClosed();
  });
  await t.step("bad frame right after a good one", async () => {
    using peer = await RawPeer.connect(relay.port);
    await peer.write(new Uint8Array([...vectorFrame(V1), 0, 0, 0, 0]));
    assertStrictEquals(bytesToHex(await peer.readFrame()), V1.replyFrameHex);
    await peer.expectClosed();
  });
});

Deno.test("RelayServer closes the connection on an undecodable packet", async (t) => {
  await using relay = await startRelay();
  const cases: [string, Uint8Array][] = [
    ["invalid UTF-8 in body", hexToBytes("3a02c328")],
    ["invalid UTF-8 in src", hexToBytes("2a03626fff")],
    ["truncated field", hexToBytes("3a05414243")],
  ];
  for (const [name, packet] of cases) {
    await t.step(name, async () => {
      using peer = await RawPeer.connect(relay.port);
      await peer.write(encodeFrame(packet));
      await peer.expectClosed();
    });
  }
  await t.step(
    "a signed packet with invalid UTF-8 is refused too",
    async () => {
      using peer = await RawPeer.connect(relay.port);
      const good = encodePacket(
        await signPacket({ id: "u", dst: "server", body: "é" }, vectorKey),
      );
      const bad = good.slice();
      bad[bad.length - 1] = 0xff; // second byte of "é" (c3 a9) becomes c3 ff
      await peer.write(encodeFrame(bad));
      await peer.expectClosed();
    },
  );
});

Deno.test("RelayServer drops unsigned and badly signed packets silently and keeps the connection", async (t) => {
  await using relay = await startRelay();
  using peer = await RawPeer.connect(relay.port);
  const valid = await signPacket(
    { id: "v", src: "bot:legit", dst: "server" },
    vectorKey,
  );
  const cases: [string, Uint8Array][] = [
    [
      "unsigned",
      encodePacket(
        createPacket({
          ...valid,
          sig: new Uint8Array(0),
          pk: new Uint8Array(0),
        }),
      ),
    ],
    [
      "sig only",
      encodePacket(createPacket({ ...valid, pk: new Uint8Array(0) })),
    ],
    [
      "pk only",
      encodePacket(createPacket({ ...valid, sig: new Uint8Array(0) })),
    ],
    [
      "31-byte pk",
      encodePacket(createPacket({ ...valid, pk: valid.pk.subarray(1) })),
    ],
    [
      "65-byte sig",
      encodePacket(
        createPacket({ ...valid, sig: new Uint8Array([...valid.sig, 0]) }),
      ),
    ],
    [
      "tampered body",
      encodePacket(createPacket({ ...valid, body: "changed" })),
    ],
    [
      "someone else's key",
      encodePacket(
        createPacket({ ...valid, pk: hexToBytes(otherKey.publicKey) }),
      ),
    ],
  ];
  for (const [name, wire] of cases) {
    await t.step(name, async () => {
      await peer.write(encodeFrame(wire));
      // The dropped packet gets no reply: the next frame answers the following valid packet.
      await peer.send(otherKey, { id: `after ${name}`, dst: "server" });
      assertStrictEquals((await peer.readPacket()).id, `after ${name}`);
    });
  }
  // None of them registered their src.
  assertStrictEquals(relay.agentsOnline, 0);
  assertStrictEquals(relay.metrics.droppedUnsigned, 1);
  assertStrictEquals(relay.metrics.droppedBadSignature, cases.length - 1);
});

Deno.test("RelayServer with takeover any lets a new connection take over an identity under any key, as the original", async () => {
  await using relay = await startRelay({ takeover: "any" });
  using first = await RawPeer.connect(relay.port);
  await first.write(vectorFrame(V1));
  await first.readFrame();
  using second = await RawPeer.connect(relay.port);
  await second.send(otherKey, { id: "take", src: "bot:alice", dst: "server" });
  assertStrictEquals((await second.readPacket()).body, "done");
  await first.expectClosed();
  using third = await RawPeer.connect(relay.port);
  await third.send(otherKey, { id: "to-alice", dst: "bot:alice", body: "hi" });
  assertStrictEquals((await second.readPacket()).id, "to-alice");
  assertStrictEquals(relay.metrics.closedTakeover, 1);
});

Deno.test("RelayServer removes every identity of a closed connection", async () => {
  await using relay = await startRelay();
  using multi = await RawPeer.connect(relay.port);
  for (const src of ["bot:a1", "bot:a2", "bot:a3"]) {
    await multi.send(otherKey, { src, dst: "server" });
    await multi.readFrame();
  }
  using observer = await RawPeer.connect(relay.port);
  await observer.send(otherKey, { dst: "discover:agents" });
  assertStrictEquals(
    (await observer.readPacket()).body,
    '{"agents":["bot:a1","bot:a2","bot:a3"]}',
  );
  multi.close();
  await waitFor(() => relay.connections === 1, "the relay to notice the close");
  await observer.send(otherKey, { dst: "discover:agents" });
  assertStrictEquals((await observer.readPacket()).body, '{"agents":[]}');
  for (const dst of ["bot:a1", "bot:a2", "bot:a3"]) {
    await observer.send(otherKey, { dst });
    assertStrictEquals((await observer.readPacket()).body, "error:offline");
  }
});

Deno.test("RelayServer sends heartbeats, byte-exact, to registered connections only", async () => {
  await using relay = await startRelay({ heartbeatIntervalMs: 30 });
  using registered = await RawPeer.connect(relay.port);
  using anonymous = await RawPeer.connect(relay.port);
  await registered.send(otherKey, { id: "r", src: "bot:r", dst: "server" });
  await anonymous.send(otherKey, { id: "a", dst: "server" });
  assertStrictEquals((await registered.readPacket()).id, "r");
  assertStrictEquals((await anonymous.readPacket()).id, "a");
  assertStrictEquals(
    bytesToHex(await registered.readFrame()),
    HEARTBEAT_FRAME_HEX,
  );
  assertStrictEquals(
    bytesToHex(await registered.readFrame()),
    HEARTBEAT_FRAME_HEX,
  );
  await delay(100);
  await anonymous.send(otherKey, { id: "a2", dst: "server" });
  assertStrictEquals((await anonymous.readPacket()).id, "a2");
});

Deno.test("RelayServer signs heartbeats when it signs replies", async () => {
  await using relay = await startRelay({
    heartbeatIntervalMs: 20,
    signReplies: true,
  });
  using peer = await RawPeer.connect(relay.port);
  await peer.send(otherKey, { id: "r", src: "bot:r", dst: "server" });
  await peer.readFrame();
  const frame = await peer.readFrame();
  assertStrictEquals(
    bytesToHex(frame.subarray(104)),
    HEARTBEAT_FRAME_HEX.slice(8),
  );
  assertStrictEquals(bytesToHex(frame.subarray(72, 104)), relay.publicKey);
  assertStrictEquals(
    await verifyPacket(decodePacket(frame.subarray(4))),
    "valid",
  );
});

Deno.test("RelayServer routes swarm: and nearest: destinations", async () => {
  await using relay = await startRelay();
  const members = await Promise.all(
    [1, 2, 3].map(() => RawPeer.connect(relay.port)),
  );
  try {
    for (const [i, peer] of members.entries()) {
      await peer.send(otherKey, { src: `bot:w-${i}`, dst: "server" });
      await peer.readFrame();
    }
    using sender = await RawPeer.connect(relay.port);
    const frame = await signedFrame(vectorKey, {
      id: "all",
      src: "bot:boss",
      dst: "swarm:bot:w-",
      body: "go",
    });
    await sender.write(frame);
    for (const peer of members) {
      assertStrictEquals(bytesToHex(await peer.readFrame()), bytesToHex(frame));
    }
    for (let i = 0; i < 3; i++) {
      await sender.send(vectorKey, {
        id: `one-${i}`,
        src: "bot:boss",
        dst: "nearest:bot:w-",
      });
    }
    const got = await Promise.all(
      members.map(async (peer) => (await peer.readPacket()).id),
    );
    assertEquals(got.sort(), ["one-0", "one-1", "one-2"]);
    await sender.send(vectorKey, {
      id: "none",
      src: "bot:boss",
      dst: "nearest:bot:zz",
    });
    assertStrictEquals((await sender.readPacket()).body, "error:offline");
  } finally {
    for (const peer of members) peer.close();
  }
});

Deno.test("RelayServer survives random frames and keeps serving", async () => {
  await using relay = await startRelay();
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const valid = encodePacket(
    await signPacket(
      { id: "f", src: "bot:f", dst: "bot:f", body: "fuzz" },
      vectorKey,
    ),
  );
  for (let i = 0; i < 150; i++) {
    using peer = await RawPeer.connect(relay.port);
    // Half mutate a valid packet, half are pure noise.
    const bytes = random() < 0.5
      ? valid.map((b) => random() < 0.05 ? Math.floor(random() * 256) : b)
      : Uint8Array.from(
        { length: 1 + Math.floor(random() * 300) },
        () => Math.floor(random() * 256),
      );
    await peer.write(encodeFrame(bytes));
  }
  using peer = await RawPeer.connect(relay.port);
  await peer.write(vectorFrame(V1));
  assertStrictEquals(bytesToHex(await peer.readFrame()), V1.replyFrameHex);
});
