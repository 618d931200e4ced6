/** KeepClient against a real relay on 127.0.0.1. */
import { Identity } from "../src/crypto/mod.ts";
import {
  ConnectionClosedError,
  EndpointCache,
  KeepClient,
} from "../src/relay/mod.ts";
import type { Packet } from "../src/relay/mod.ts";
import {
  assert,
  assertEquals,
  assertRejects,
  assertStrictEquals,
} from "./assert.ts";
import { RawPeer, startRelay, waitFor } from "./relay_helpers.ts";

function client(
  port: number,
  src: string,
  extra: Parameters<typeof KeepClient.create>[0] = {},
) {
  return KeepClient.create({
    host: "127.0.0.1",
    port,
    src,
    timeoutMs: 3_000,
    ...extra,
  });
}

async function next(iterator: AsyncIterator<Packet>): Promise<Packet> {
  const result = await iterator.next();
  assert(!result.done, "listen() ended");
  return result.value;
}

Deno.test("KeepClient.send() one-shot returns the relay's reply and closes", async () => {
  await using relay = await startRelay();
  await using alice = await client(relay.port, "bot:alice");
  const reply = await alice.send({ body: "ping", id: "one" });
  assert(reply !== null);
  assertEquals([reply.typ, reply.id, reply.src, reply.dst, reply.body], [
    1,
    "one",
    "server",
    "",
    "done",
  ]);
  await waitFor(
    () => relay.connections === 0,
    "the one-shot connection to close",
  );
});

Deno.test("KeepClient.discover() parses the JSON and discoverAgents() lists identities", async () => {
  await using relay = await startRelay({ version: "4.5.6" });
  await using alice = await client(relay.port, "bot:alice");
  await alice.connect();
  await using probe = await client(relay.port, "");
  const info = await probe.discover("info");
  assertEquals([info.agents_online, info.version], [1, "4.5.6"]);
  assertEquals(await probe.discoverAgents(), ["bot:alice"]);
  assertEquals(await alice.discover("stats"), {
    scar_exchanges: {},
    total_packets: 4,
  });
  await assertRejects(() => probe.discover("nope"), /error:unknown_discovery/);
});

Deno.test("KeepClient.listen() yields routed packets and filters heartbeats", async () => {
  await using relay = await startRelay({ heartbeatIntervalMs: 10 });
  await using alice = await client(relay.port, "bot:alice");
  await alice.connect();
  assertStrictEquals(relay.agentsOnline, 1);
  const inbox = alice.listen();
  await waitFor(() => relay.metrics.heartbeats >= 3, "a few heartbeats");
  await using bob = await client(relay.port, "bot:bob");
  assertStrictEquals(
    await bob.send({
      dst: "bot:alice",
      body: "trade?",
      scar: new Uint8Array([1]),
    }),
    null,
  );
  const packet = await next(inbox);
  assertEquals([packet.src, packet.dst, packet.body, packet.ttl], [
    "bot:bob",
    "bot:alice",
    "trade?",
    60,
  ]);
  assertStrictEquals(packet.pk.length, 32);
  await inbox.return();
});

Deno.test("KeepClient in persistent mode matches concurrent replies by id", async () => {
  await using relay = await startRelay();
  await using alice = await client(relay.port, "bot:alice");
  await alice.connect();
  const replies = await Promise.all(
    Array.from(
      { length: 50 },
      (_, i) =>
        alice.send({ id: `r${i}`, dst: i % 2 ? "server" : "discover:info" }),
    ),
  );
  replies.forEach((reply, i) => assertStrictEquals(reply?.id, `r${i}`));
  assertStrictEquals(relay.connections, 1);
});

Deno.test("KeepClient.listen() surfaces error replies to routed sends", async () => {
  await using relay = await startRelay();
  await using alice = await client(relay.port, "bot:alice");
  await alice.connect();
  const inbox = alice.listen();
  assertStrictEquals(await alice.send({ id: "lost", dst: "bot:nobody" }), null);
  const packet = await next(inbox);
  assertEquals([packet.id, packet.src, packet.body], [
    "lost",
    "server",
    "error:offline",
  ]);
  await inbox.return();
});

Deno.test("KeepClient reconnects with backoff and registers again", async () => {
  const first = await startRelay();
  const port = first.port;
  await using alice = await client(port, "bot:alice", {
    reconnectDelayMs: 10,
    maxReconnectDelayMs: 50,
  });
  await alice.connect();
  const inbox = alice.listen();
  await first[Symbol.asyncDispose]();
  await using second = await startRelay({ port });
  // The relay registers alice before alice has read its "done" reply.
  await waitFor(
    () => second.agentsOnline === 1 && alice.connected,
    "alice to register with the new relay",
  );
  await using bob = await client(port, "bot:bob");
  await bob.send({ dst: "bot:alice", body: "welcome back" });
  assertStrictEquals((await next(inbox)).body, "welcome back");
  await inbox.return();
});

Deno.test("KeepClient without reconnect ends listen() when the relay goes away", async () => {
  const relay = await startRelay();
  await using alice = await client(relay.port, "bot:alice", {
    reconnect: false,
  });
  await alice.connect();
  const inbox = alice.listen();
  const ended = inbox.next();
  await relay[Symbol.asyncDispose]();
  assertEquals(await ended, { done: true, value: undefined });
  assert(!alice.connected);
  await assertRejects(() => alice.send({ dst: "server" }), Error);
});

Deno.test("KeepClient operations honour AbortSignal and timeouts", async (t) => {
  // A server that accepts and never answers.
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of silent) accepted.push(conn);
  })();
  try {
    await using alice = await client(silent.addr.port, "bot:alice");
    await t.step("already aborted", async () => {
      const reason = new Error("stop");
      await assertRejects(
        () => alice.send({}, { signal: AbortSignal.abort(reason) }),
        (e) => e === reason,
      );
    });
    await t.step("aborted while waiting for the reply", async () => {
      const controller = new AbortController();
      const sending = alice.send({}, { signal: controller.signal });
      setTimeout(() => controller.abort(new Error("changed my mind")), 50);
      await assertRejects(() => sending, /changed my mind/);
    });
    await t.step("timeout", async () => {
      await assertRejects(
        () => alice.send({}, { timeoutMs: 50 }),
        (e: unknown) => {
          return e instanceof DOMException && e.name === "TimeoutError";
        },
      );
    });
    await t.step(
      "connect times out when registration gets no answer",
      async () => {
        await using bob = await client(silent.addr.port, "bot:bob", {
          timeoutMs: 80,
        });
        await assertRejects(
          () => bob.connect(),
          (e: unknown) => e instanceof DOMException,
        );
        assert(!bob.connected);
      },
    );
  } finally {
    silent.close();
    await accepting.catch(() => {});
    for (const conn of accepted) conn.close();
  }
});

Deno.test("KeepClient.listen() ends when its signal aborts, and close() ends it too", async () => {
  await using relay = await startRelay();
  await using alice = await client(relay.port, "bot:alice");
  await alice.connect();
  const controller = new AbortController();
  const listening = alice.listen({ signal: controller.signal }).next();
  controller.abort();
  assertEquals(await listening, { done: true, value: undefined });
  const second = alice.listen().next();
  await alice.close();
  assertEquals(await second, { done: true, value: undefined });
  await assertRejects(() => alice.connect(), /closed/);
});

Deno.test("KeepClient.send() rejects with ConnectionClosedError when the relay hangs up", async () => {
  // Any key may take an identity over: the thief below closes alice's connection.
  await using relay = await startRelay({ takeover: "any" });
  await using alice = await client(relay.port, "bot:alice", {
    reconnect: false,
  });
  await alice.connect();
  // A delivered packet gets no reply, so this send is still waiting when...
  const pending = alice.send({ dst: "bot:alice" }, { waitReply: true });
  pending.catch(() => {});
  await waitFor(
    () => relay.metrics.forwarded === 1,
    "the packet to be delivered",
  );
  // ...another connection takes bot:alice over and the relay closes alice's connection.
  using thief = await RawPeer.connect(relay.port);
  await thief.send(await Identity.generate(), {
    src: "bot:alice",
    dst: "server",
  });
  await assertRejects(() => pending, ConnectionClosedError);
});

Deno.test("KeepClient records discover:info in the endpoint cache and fromCache() uses it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using relay = await startRelay({ version: "0.5.0" });
    const cache = new EndpointCache({
      path: `${dir}/.keep/endpoints.json`,
      now: () => new Date("2030-01-02T03:04:05.678Z"),
    });
    await Deno.mkdir(`${dir}/.keep`);
    await Deno.writeTextFile(
      cache.path,
      JSON.stringify({ endpoints: [{ host: "127.0.0.1", port: 1 }] }),
    );
    await using probe = await client(relay.port, "", { endpointCache: cache });
    await probe.discover("info");
    assertEquals(JSON.parse(await Deno.readTextFile(cache.path)), {
      endpoints: [
        { host: "127.0.0.1", port: 1 },
        {
          host: "127.0.0.1",
          port: relay.port,
          version: "0.5.0",
          agents_online: 0,
          last_seen: "2030-01-02T03:04:05.678000+00:00",
        },
      ],
    });
    // The dead endpoint (port 1) is skipped; the live one answers.
    await using fromCache = await KeepClient.fromCache(cache, {
      timeoutMs: 2_000,
    });
    assertStrictEquals(fromCache.port, relay.port);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("KeepClient.create() with keyFile keeps the same key across runs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const keyFile = `${dir}/keys/agent.key`;
    const first = await KeepClient.create({ keyFile });
    const second = await KeepClient.create({ keyFile });
    assertStrictEquals(first.publicKey, second.publicKey);
    if (Deno.build.os !== "windows") {
      assertStrictEquals((await Deno.stat(keyFile)).mode! & 0o777, 0o600);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
