import {
  assert,
  assertEquals,
  assertStrictEquals,
} from "../../tests/assert.ts";
import { createPacket } from "./packet.ts";
import type { PacketInit } from "./packet.ts";
import { RelayMetrics } from "./relay_metrics.ts";
import { MAX_SCAR_SENDERS, Router } from "./router.ts";
import type { RouterOptions, RouterPeer } from "./router.ts";

class FakePeer implements RouterPeer {
  identities: string | Set<string> | null = null;
  readonly frames: Uint8Array[] = [];
  closedWith: string | null = null;
  accept = true;
  constructor(readonly name: string) {}
  sendFrame(frame: Uint8Array): boolean {
    if (!this.accept || this.closedWith !== null) return false;
    this.frames.push(frame);
    return true;
  }
  close(reason: string): void {
    this.closedWith ??= reason;
  }
}

/** The identities the router left on `peer`. */
function held(peer: FakePeer): string[] {
  const ids = peer.identities;
  return ids === null ? [] : typeof ids === "string" ? [ids] : [...ids];
}

const KEY_A = new Uint8Array(32).fill(1);
const KEY_B = new Uint8Array(32).fill(2);

function setup(options: RouterOptions = {}) {
  const clock = {
    t: 5_000,
    now() {
      return this.t;
    },
  };
  const metrics = new RelayMetrics();
  const router = new Router({ clock, metrics }, options);
  const route = (
    peer: RouterPeer,
    init: PacketInit,
    frame = new Uint8Array([0, 0, 0, 1, 9]),
  ) => router.route(peer, createPacket({ pk: KEY_A, ...init }), frame);
  return { clock, metrics, router, route };
}

Deno.test("Router.route() follows the dispatch table", async (t) => {
  const { route } = setup();
  const alice = new FakePeer("alice");
  const bob = new FakePeer("bob");
  route(bob, { src: "bot:bob" });

  await t.step("server and empty dst answer done", () => {
    assertEquals(route(alice, { dst: "server" }), {
      type: "reply",
      body: "done",
    });
    assertEquals(route(alice, { dst: "" }), { type: "reply", body: "done" });
  });
  await t.step("dst is exact and case-sensitive", () => {
    assertEquals(route(alice, { dst: "Server" }), {
      type: "reply",
      body: "error:offline",
    });
    assertEquals(route(alice, { dst: "bot:Bob" }), {
      type: "reply",
      body: "error:offline",
    });
  });
  await t.step("unknown discovery", () => {
    assertEquals(route(alice, { dst: "discover:nope" }), {
      type: "reply",
      body: "error:unknown_discovery",
    });
    assertEquals(route(alice, { dst: "discover:" }), {
      type: "reply",
      body: "error:unknown_discovery",
    });
    assertEquals(route(alice, { dst: "discover:INFO" }), {
      type: "reply",
      body: "error:unknown_discovery",
    });
  });
  await t.step(
    "a registered identity gets the frame as received, not a copy",
    () => {
      const frame = new Uint8Array([0, 0, 0, 2, 7, 7]);
      assertEquals(route(alice, { dst: "bot:bob" }, frame), {
        type: "forwarded",
        receivers: 1,
      });
      assertStrictEquals(bob.frames.at(-1), frame);
    },
  );
  await t.step(
    "a receiver that cannot take the frame means delivery_failed",
    () => {
      bob.accept = false;
      assertEquals(route(alice, { dst: "bot:bob" }), {
        type: "reply",
        body: "error:delivery_failed",
      });
      bob.accept = true;
    },
  );
});

Deno.test("Router.route() registers the sender before dispatch, so discover counts it", () => {
  const { route } = setup();
  const alice = new FakePeer("alice");
  assertEquals(route(alice, { src: "bot:alice", dst: "discover:agents" }), {
    type: "reply",
    body: '{"agents":["bot:alice"]}',
  });
  assertEquals(route(alice, { dst: "discover:stats" }), {
    type: "reply",
    body: '{"scar_exchanges":{},"total_packets":2}',
  });
});

Deno.test("Router.route() answers discover:info with whole seconds and the configured version", () => {
  const { route, clock } = setup({ version: "9.8.7" });
  const peer = new FakePeer("p");
  clock.t += 42_999;
  assertEquals(route(peer, { src: "bot:p", dst: "discover:info" }), {
    type: "reply",
    body: '{"agents_online":1,"uptime_sec":42,"version":"9.8.7"}',
  });
  assertEquals(setup().route(peer, { dst: "discover:info" }), {
    type: "reply",
    body: '{"agents_online":0,"uptime_sec":0,"version":"0.5.0"}',
  });
});

Deno.test("Router.route() writes discovery JSON like Go: sorted keys, escaped HTML", () => {
  const { route } = setup();
  const peer = new FakePeer("p");
  for (const src of ["bot:z", "bot:<a>&", "bot:\u{1F600}", "bot:\uFFFD"]) {
    route(peer, { src, scar: new Uint8Array([1]) });
  }
  assertEquals(route(peer, { dst: "discover:agents" }), {
    type: "reply",
    body:
      '{"agents":["bot:\\u003ca\\u003e\\u0026","bot:z","bot:\uFFFD","bot:\u{1F600}"]}',
  });
  assertEquals(route(peer, { dst: "discover:stats" }), {
    type: "reply",
    body:
      '{"scar_exchanges":{"bot:\\u003ca\\u003e\\u0026":1,"bot:z":1,"bot:\uFFFD":1,"bot:\u{1F600}":1},' +
      '"total_packets":6}',
  });
});

Deno.test("Router.route() counts scars per sender, capped at 1,000 senders, never reset", () => {
  const { route, router } = setup();
  const peer = new FakePeer("p");
  const scar = new Uint8Array([1]);
  for (let i = 0; i < MAX_SCAR_SENDERS + 5; i++) {
    route(peer, { src: `bot:${i}`, scar });
  }
  route(peer, { src: "bot:0", scar });
  route(peer, { src: "bot:0" });
  router.removePeer(peer);
  const stats = route(peer, { dst: "discover:stats" });
  assert(stats.type === "reply");
  const parsed = JSON.parse(stats.body);
  assertStrictEquals(
    Object.keys(parsed.scar_exchanges).length,
    MAX_SCAR_SENDERS,
  );
  assertStrictEquals(parsed.scar_exchanges["bot:0"], 2);
  assertStrictEquals(parsed.scar_exchanges["bot:1004"], undefined);
  assertStrictEquals(parsed.total_packets, MAX_SCAR_SENDERS + 8);
});

Deno.test("Router.route() hands an identity to the newest connection and closes the old one", () => {
  const { route, metrics } = setup();
  const first = new FakePeer("first");
  const second = new FakePeer("second");
  route(first, { src: "bot:x" });
  route(first, { src: "bot:y" });
  route(second, { src: "bot:x" });
  assert(first.closedWith?.includes('"bot:x"'));
  assertEquals(held(second), ["bot:x"]);
  assertEquals(held(first), ["bot:y"]);
  assertStrictEquals(metrics.closedTakeover, 1);
  route(new FakePeer("c"), { dst: "bot:x" });
  assertStrictEquals(second.frames.length, 1);
});

Deno.test("Router.removePeer() removes every identity of the peer and no other", () => {
  const { route, router } = setup();
  const multi = new FakePeer("multi");
  const other = new FakePeer("other");
  for (const src of ["bot:a1", "bot:a2", "bot:a3"]) route(multi, { src });
  route(other, { src: "bot:o" });
  assertStrictEquals(router.agentsOnline, 4);
  assertEquals([...router.registeredPeers()], [multi, other], "each peer once");
  router.removePeer(multi);
  assertStrictEquals(router.agentsOnline, 1);
  assertEquals([...router.registeredPeers()], [other]);
  assertEquals(route(other, { dst: "bot:a2" }), {
    type: "reply",
    body: "error:offline",
  });
});

Deno.test("Router.route() with bindIdentities drops packets claiming a pinned identity", () => {
  const { router, metrics } = setup({ bindIdentities: true });
  const owner = new FakePeer("owner");
  const thief = new FakePeer("thief");
  const packet = (pk: Uint8Array, src: string) =>
    createPacket({ pk, src, dst: "server" });
  assertEquals(router.route(owner, packet(KEY_A, "bot:x"), new Uint8Array(5)), {
    type: "reply",
    body: "done",
  });
  router.removePeer(owner);
  assertEquals(router.route(thief, packet(KEY_B, "bot:x"), new Uint8Array(5)), {
    type: "dropped",
  });
  assertStrictEquals(owner.closedWith, null);
  assertStrictEquals(router.agentsOnline, 0);
  assertStrictEquals(metrics.droppedBinding, 1);
  // The owner's key still works after reconnecting; unbound names stay free.
  assertEquals(router.route(thief, packet(KEY_B, "bot:y"), new Uint8Array(5)), {
    type: "reply",
    body: "done",
  });
  assertEquals(router.route(owner, packet(KEY_A, "bot:x"), new Uint8Array(5)), {
    type: "reply",
    body: "done",
  });
  assertStrictEquals(metrics.identitiesBound, 2);
});

Deno.test("Router.route() delivers swarm:X once to every other connection with an identity starting with X", () => {
  const { route } = setup();
  const sender = new FakePeer("sender");
  const a = new FakePeer("a");
  const b = new FakePeer("b");
  const c = new FakePeer("c");
  route(sender, { src: "bot:trader-0" });
  route(a, { src: "bot:trader-1" });
  route(a, { src: "bot:trader-2" });
  route(b, { src: "bot:trader-3" });
  route(c, { src: "bot:planner" });
  assertEquals(route(sender, { dst: "swarm:bot:trader-" }), {
    type: "forwarded",
    receivers: 2,
  });
  assertEquals([
    sender.frames.length,
    a.frames.length,
    b.frames.length,
    c.frames.length,
  ], [0, 1, 1, 0]);
  assertEquals(route(sender, { dst: "swarm:bot:nobody" }), {
    type: "reply",
    body: "error:offline",
  });
  assertEquals(route(sender, { dst: "swarm:" }), {
    type: "reply",
    body: "error:offline",
  });
});

Deno.test("Router.route() picks nearest:X round-robin among the matching identities", () => {
  const { route } = setup();
  const sender = new FakePeer("sender");
  const peers = ["bot:w-1", "bot:w-2", "bot:w-3"].map((src) => {
    const peer = new FakePeer(src);
    route(peer, { src });
    return peer;
  });
  route(sender, { src: "bot:w-0" }); // matches the prefix but is the sender: never chosen
  for (let i = 0; i < 7; i++) {
    assertEquals(route(sender, { dst: "nearest:bot:w-" }).type, "forwarded");
  }
  assertEquals(peers.map((p) => p.frames.length), [3, 2, 2]);
  assertEquals(sender.frames.length, 0);
  assertEquals(route(sender, { dst: "nearest:bot:x" }), {
    type: "reply",
    body: "error:offline",
  });
});

Deno.test("Router.route() prefers an identity literally named swarm:X or nearest:X", () => {
  const { route } = setup();
  const literal = new FakePeer("literal");
  const member = new FakePeer("member");
  route(literal, { src: "swarm:bot:" });
  route(member, { src: "bot:m" });
  assertEquals(route(new FakePeer("s"), { dst: "swarm:bot:" }), {
    type: "forwarded",
    receivers: 1,
  });
  assertEquals([literal.frames.length, member.frames.length], [1, 0]);
});

Deno.test("Router.route() reports extra counters under discover:metrics only", () => {
  const { route } = setup();
  const peer = new FakePeer("p");
  route(peer, { src: "bot:p", dst: "bot:nobody" });
  const reply = route(peer, { dst: "discover:metrics" });
  assert(reply.type === "reply");
  const metrics = JSON.parse(reply.body);
  assertStrictEquals(metrics.offline, 1);
  assertStrictEquals(metrics.agents_online, 1);
  assertEquals(Object.keys(metrics), Object.keys(metrics).sort());
});
