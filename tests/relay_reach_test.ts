/** A provider nobody can dial, reached through a keep relay on 127.0.0.1. */
import {
  checkReachable,
  KnarrNode,
  parseRelayedAddress,
  RelayReach,
  TcpTransport,
} from "../src/node/mod.ts";
import type { BodyHandler, Listening, Transport } from "../src/node/mod.ts";
import { KeepClient } from "../src/relay/mod.ts";
import type { RelayServer } from "../src/relay/mod.ts";
import { Logger } from "../src/util/mod.ts";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { ECHO_SHEET } from "./fixtures/sheets.ts";
import { startRelay, waitFor } from "./relay_helpers.ts";

/** A free port on 127.0.0.1 where nothing listens (bound, read back, closed). */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * TCP out, nothing in: `listen()` binds no socket and reports a closed port, as a node
 * behind a firewall or NAT sees it. Dials out still work, so the relay is reachable.
 */
class InboundClosedTransport implements Transport {
  #tcp = new TcpTransport();
  exchange: Transport["exchange"] = (to, body, options) =>
    this.#tcp.exchange(to, body, options);
  listen(host: string, _port: number, _handler: BodyHandler) {
    const listening: Listening = {
      host,
      port: closedPort(),
      close: () => Promise.resolve(),
    };
    return Promise.resolve(listening);
  }
}

function lines(): { logger: Logger; lines: string[] } {
  const out: string[] = [];
  return {
    logger: new Logger({ level: "debug", sink: (l) => out.push(l) }),
    lines: out,
  };
}

async function plainNode(): Promise<KnarrNode> {
  const node = await KnarrNode.create({ host: "127.0.0.1", port: 0 });
  await node.start({ maintenance: false });
  return node;
}

async function relayedProvider(relay: RelayServer) {
  const provider = await KnarrNode.create({
    host: "127.0.0.1",
    port: 0,
    transport: new InboundClosedTransport(),
  });
  await provider.start({ maintenance: false });
  const reach = RelayReach.start(provider, {
    relay: { host: relay.host, port: relay.port },
  });
  await reach.ready({ signal: AbortSignal.timeout(5_000) });
  await provider.announce(ECHO_SHEET);
  provider.registerHandler("echo", (input) => ({ text: String(input.text) }));
  return { provider, reach };
}

Deno.test("RelayReach: a consumer queries and runs a task of a provider it cannot dial", async () => {
  await using relay = await startRelay();
  await using hub = await plainNode();
  const hubAddress = hub.address;
  const { provider, reach } = await relayedProvider(relay);
  await using _provider = provider;
  await using _reach = reach;
  await using consumer = await plainNode();
  const consumerAddress = consumer.address;

  // The provider's own listener is closed to everyone.
  await assertRejects(
    consumer.sendMessage(provider.listening!, "QUERY", { query_type: "all" }, {
      timeoutMs: 1_000,
    }),
  );
  assertEquals(provider.address, reach.address);
  assertEquals(parseRelayedAddress(provider.address), {
    relay: { host: "127.0.0.1", port: relay.port },
    nodeId: provider.nodeId,
  });

  assert((await provider.join([hub.address])).via);
  assert((await consumer.join([hub.address])).via);
  const found = await consumer.query({ name: "echo" }, { timeoutMs: 3_000 });
  assertEquals(found.map((r) => [r.node_id, r.host, r.port]), [
    [provider.nodeId, reach.address.host, reach.address.port],
  ]);

  const outcome = await consumer.request("echo", { text: "over the relay" }, {
    timeoutMs: 10_000,
  });
  assertEquals(outcome.status, "completed");
  assertEquals(outcome.output_data, { text: "over the relay" });
  assertEquals(outcome.provider?.node_id, provider.nodeId);
  assertEquals(outcome.provider?.host, reach.address.host);
  const providerView = provider.ledger.get(consumer.identity.publicKey)!;
  const consumerView = consumer.ledger.get(provider.identity.publicKey)!;
  // Initial credit 3, price 1: each side booked the task.
  assertEquals(
    [providerView.balance, providerView.tasksProvided],
    [2, 1],
  );
  assertEquals(
    [consumerView.balance, consumerView.tasksConsumed],
    [4, 1],
  );

  // Plain nodes keep their own addresses.
  assertEquals(hub.address, hubAddress);
  assertEquals(consumer.address, consumerAddress);
  assertEquals(parseRelayedAddress(hub.address), null);
});

Deno.test("RelayReach: garbage from the relay gets empty answers and never stops the node", async () => {
  await using relay = await startRelay();
  const { provider, reach } = await relayedProvider(relay);
  await using _provider = provider;
  await using _reach = reach;
  await using stranger = await KeepClient.create({
    host: "127.0.0.1",
    port: relay.port,
    src: "bot:stranger",
    timeoutMs: 3_000,
  });
  await stranger.connect();
  const dst = `knarr:${provider.nodeId}`;
  const bodies = [
    "not json",
    "{}",
    '{"type": "QUERY", "query_type": "all"}', // unsigned
    '{"type": "TASK_REQUEST", "signature": "00", "public_key": "zz"}',
    "\u0000\uffff",
  ];
  for (const [i, body] of bodies.entries()) {
    await stranger.send({ typ: 0, id: `bad-${i}`, dst, body }, {
      waitReply: false,
    });
  }
  // Not a request: ignored without an answer.
  await stranger.send({ typ: 1, id: "reply-like", dst, body: "x" }, {
    waitReply: false,
  });
  const answers = new Map<string, string>();
  for await (const packet of stranger.listen()) {
    answers.set(packet.id, packet.body);
    if (answers.size === bodies.length) break;
  }
  assertEquals(
    [...answers.entries()].sort(),
    bodies.map((_, i) => [`bad-${i}`, ""]),
  );
  assert(!answers.has("reply-like"));
  assert(reach.connected);

  // Still serving real messages.
  await using consumer = await plainNode();
  const reply = await consumer.sendMessage(provider.address, "QUERY", {
    query_type: "all",
  }, { timeoutMs: 3_000 });
  assertEquals(reply?.type, "QUERY_RESPONSE");
});

Deno.test("RelayReach: with the relay down it warns once, retries, and connects when it is up", async () => {
  const port = closedPort();
  const log = lines();
  await using provider = await KnarrNode.create({ host: "127.0.0.1" });
  await provider.start({ maintenance: false });
  await using reach = RelayReach.start(provider, {
    relay: { host: "127.0.0.1", port },
    retryDelayMs: 10,
    maxRetryDelayMs: 40,
    logger: log.logger,
  });
  await waitFor(
    () => log.lines.filter((l) => l.includes("Cannot reach relay")).length >= 4,
    "four failed attempts",
  );
  const warnings = log.lines.filter((l) => l.includes(" WARN "));
  assertEquals(warnings.length, 1, warnings.join("\n"));
  assert(!reach.connected);

  await using _relay = await startRelay({ port });
  await reach.ready({ signal: AbortSignal.timeout(5_000) });
  assert(reach.connected);
  assertEquals(
    log.lines.filter((l) => l.includes(" WARN ")).length,
    1,
  );
});

Deno.test("RelayTransport: an exchange to a relayed node that is not registered fails", async () => {
  await using relay = await startRelay();
  await using consumer = await plainNode();
  const absent = {
    host: `relay.${"ab".repeat(32)}.127.0.0.1`,
    port: relay.port,
  };
  await assertRejects(
    consumer.sendMessage(absent, "QUERY", { query_type: "all" }, {
      timeoutMs: 2_000,
    }),
    /error:offline/,
  );
  const down = {
    host: `relay.${"ab".repeat(32)}.127.0.0.1`,
    port: closedPort(),
  };
  await assertRejects(
    consumer.sendMessage(down, "QUERY", { query_type: "all" }, {
      timeoutMs: 2_000,
    }),
    /Cannot connect to relay/,
  );
});

Deno.test("checkReachable() asks a peer to dial the node back", async (t) => {
  await using relay = await startRelay();
  await using hub = await plainNode();

  await t.step("true for a node that listens", async () => {
    await using open = await plainNode();
    assertEquals(await checkReachable(open, hub.address), true);
  });

  await t.step(
    "false for a node nobody can dial, true once relayed",
    async () => {
      await using closed = await KnarrNode.create({
        host: "127.0.0.1",
        transport: new InboundClosedTransport(),
      });
      await closed.start({ maintenance: false });
      assertEquals(await checkReachable(closed, hub.address), false);
      await using reach = RelayReach.start(closed, {
        relay: { host: relay.host, port: relay.port },
      });
      await reach.ready({ signal: AbortSignal.timeout(5_000) });
      assertEquals(await checkReachable(closed, hub.address), true);
    },
  );

  await t.step("null when the peer does not know the check", async () => {
    const silent = await new TcpTransport().listen(
      "127.0.0.1",
      0,
      () => Promise.resolve(null),
    );
    try {
      assertEquals(
        await checkReachable(hub, { host: silent.host, port: silent.port }, {
          timeoutMs: 300,
        }),
        null,
      );
    } finally {
      await silent.close();
    }
  });
});
