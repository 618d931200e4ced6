/**
 * A node refuses a large frame by its message type's limit before it parses it (found by
 * bench/hostile_peers.ts heavy-messages: 1 MiB frames of junk nesting took the honest
 * p99 from 24 ms to over a second).
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { Identity } from "../src/crypto/mod.ts";
import { KnarrNode } from "../src/node/mod.ts";
import { encodeFrame, encodeMessage, signMessage } from "../src/wire/mod.ts";
import { ECHO_SHEET } from "./fixtures/sheets.ts";
import { exchangeFrame } from "./exchange_helpers.ts";
import {
  encodeRpc,
  MAX_PEERS_PER_REPLY,
  MAX_PROVIDERS_PER_REPLY,
} from "../src/discovery/kademlia/rpc_codec.ts";
import { buildSheet, validateSheet } from "../src/discovery/mod.ts";
import {
  PLUGIN_MESSAGE_BYTES,
  SMALL_MESSAGE_BYTES,
} from "../src/node/_inbound_size.ts";

/** Sends one message body on a new connection; the reply's message, or null when closed first. */
function exchange(port: number, body: Uint8Array) {
  return exchangeFrame(port, encodeFrame(body));
}

/** Junk that is slow to parse: `n` bytes of nested arrays, in an unknown key. */
function junk(n: number): unknown {
  return JSON.parse("[" + Array(Math.floor(n / 4)).fill("[1]").join(",") + "]");
}

async function startProvider(maxInputSize = 65_536) {
  const node = await KnarrNode.create({ host: "127.0.0.1", port: 0 });
  await node.start({ maintenance: false });
  await node.announce({ ...ECHO_SHEET, maxInputSize });
  node.registerHandler("echo", (i) => ({ length: String(i.text).length }));
  return node;
}

function taskRequest(me: Identity, text: string) {
  return signMessage("TASK_REQUEST", {
    task_id: crypto.randomUUID(),
    requester_node_id: me.nodeId,
    requester_host: "127.0.0.1",
    requester_port: 9,
    skill_name: "echo",
    input_data: { text },
    timeout_ms: 5000,
  }, me);
}

Deno.test("a node closes a large QUERY, or a large message of no type, unparsed, and counts it", async () => {
  await using node = await startProvider();
  const me = await Identity.generate();
  const query = await signMessage("QUERY", { query_type: "all" }, me);
  const big = encodeMessage({ ...query, junk: junk(200_000) });
  assert(big.length > 64 * 1024);
  assertEquals(await exchange(node.address.port, big), null);
  const noType = encodeMessage({ junk: junk(100_000), type: 7 });
  assertEquals(await exchange(node.address.port, noType), null);
  assertEquals(node.stats.rejected["too large"], 2);
  // Nothing was parsed: not counted as malformed or badly signed.
  assertEquals(node.stats.rejected["malformed"], undefined);
  assertEquals(node.stats.rejected["bad signature"], undefined);
  // The same query, small, is answered.
  const answer = await exchange(node.address.port, encodeMessage(query));
  assertEquals(answer?.type, "QUERY_RESPONSE");
});

Deno.test("a TASK_REQUEST larger than any skill's input gets INPUT_TOO_LARGE unparsed; a skill's own limit still holds", async () => {
  await using node = await startProvider(65_536);
  const me = await Identity.generate();
  const huge = await taskRequest(me, "x".repeat(100_000));
  const reply = await exchange(node.address.port, encodeMessage(huge));
  assertEquals(reply?.type, "TASK_RESULT");
  assertEquals(reply?.task_id, huge.task_id);
  assertEquals(reply?.status, "failed");
  const error = reply?.error as { code: string; message: string };
  assertEquals(error.code, "INPUT_TOO_LARGE");
  assertMatch(error.message, /largest input a skill here takes is 65536 bytes/);
  assertEquals(node.stats.rejected["too large"], 1);
  // Within the frame limit but over the skill's: the parsed path's answer.
  const over = await taskRequest(me, "x".repeat(70_000));
  const parsed = await exchange(node.address.port, encodeMessage(over));
  assertEquals((parsed?.error as { code: string }).code, "INPUT_TOO_LARGE");
  assertMatch(
    (parsed?.error as { message: string }).message,
    /larger than 65536/,
  );
  assertEquals(node.stats.rejected["too large"], 1);
  // Larger than any message may be now (128 KiB, a Kademlia answer's): refused unread.
  const unread = await taskRequest(me, "x".repeat(300_000));
  assertEquals(await exchange(node.address.port, encodeMessage(unread)), null);
  assertEquals(node.stats.rejected["too large"], 2);
});

Deno.test("a skill that takes large inputs gets them, up to the frame limit", async () => {
  await using node = await startProvider(900_000);
  const me = await Identity.generate();
  const request = await taskRequest(me, "y".repeat(800_000));
  const reply = await exchange(node.address.port, encodeMessage(request));
  assertEquals(reply?.status, "completed");
  assertEquals((reply?.output_data as { length: number }).length, 800_000);
  assertEquals(node.stats.rejected["too large"], undefined);
});

Deno.test("a large pushed TASK_RESULT is read only while the node awaits a result", async () => {
  await using consumer = await KnarrNode.create({ host: "127.0.0.1", port: 0 });
  await consumer.start({ maintenance: false });
  await using provider = await KnarrNode.create({ host: "127.0.0.1", port: 0 });
  await provider.start({ maintenance: false });
  await provider.announce(ECHO_SHEET, { slow: true });
  const big = "z".repeat(600_000);
  let release = () => {};
  const gate = new Promise<void>((r) => release = r);
  provider.registerHandler("echo", async () => {
    await gate;
    return { text: big };
  });
  // Unsolicited: refused by size before anything else.
  const me = await Identity.generate();
  const stray = await signMessage("TASK_RESULT", {
    task_id: "stray",
    status: "completed",
    output_data: { text: big },
  }, me);
  assertEquals(
    await exchange(consumer.address.port, encodeMessage(stray)),
    null,
  );
  assertEquals(consumer.stats.rejected["too large"], 1);
  // Awaited: the slow skill's 600 KB result is pushed and accepted.
  await consumer.join([provider.address]);
  const outcome = consumer.request("echo", { text: "hi" }, {
    timeoutMs: 10_000,
  });
  setTimeout(release, 200);
  const result = await outcome;
  assertEquals(result.status, "completed");
  assertEquals(String(result.output_data.text).length, 600_000);
  assertEquals(consumer.stats.rejected["too large"], 1);
});

Deno.test("the largest honest Kademlia answer fits the PLUGIN_MESSAGE limit twice over", async () => {
  const me = await Identity.generate();
  const hex = (n: number) => "ab".repeat(n / 2);
  const peer = (i: number) => ({
    nodeId: hex(64),
    host: `host-${i}.example.org`,
    port: 65_535,
  });
  const { action, payload } = encodeRpc({
    action: "GET_PROVIDERS_RESP",
    requestId: crypto.randomUUID(),
    providers: Array.from({ length: MAX_PROVIDERS_PER_REPLY }, (_, i) => ({
      ...peer(i),
      sidecarPort: 65_535,
      storedAt: 1_780_000_000.123456,
      ttl: 1800,
      skillKey: "a-skill-name-of-some-length-" + "x".repeat(36),
      proof: {
        publicKey: hex(64),
        issuedAt: 1_780_000_000,
        signature: hex(128),
      },
    })),
    closerPeers: Array.from({ length: MAX_PEERS_PER_REPLY }, (_, i) => peer(i)),
    token: hex(32),
  });
  const message = await signMessage("PLUGIN_MESSAGE", {
    node_id: me.nodeId,
    plugin_name: "knarr-kademlia",
    action,
    payload,
  }, me);
  const size = encodeMessage(message).length;
  assert(size * 2 <= PLUGIN_MESSAGE_BYTES, `${size} bytes`);
});

Deno.test("the largest valid ANNOUNCE fits the small-message limit", async () => {
  const me = await Identity.generate();
  // Many short schema keys: the wire format's ", " and ": " add the most to it.
  const inputSchema: Record<string, string> = {};
  let sheet = buildSheet({ ...ECHO_SHEET, inputSchema });
  for (let i = 0;; i++) {
    inputSchema[i.toString(36)] = "s";
    try {
      sheet = buildSheet({ ...ECHO_SHEET, inputSchema: { ...inputSchema } });
    } catch {
      break; // one key past 4,096 bytes: `sheet` is the largest that was valid
    }
  }
  assertEquals(validateSheet(sheet), null);
  const announce = await signMessage("ANNOUNCE", {
    node_id: me.nodeId,
    skill_key: "echo",
    skill_sheet: sheet,
    sidecar_port: 65_535,
    provider_host: "a-long-host-name.example.org",
    provider_port: 65_535,
  }, me);
  const size = encodeMessage(announce).length;
  assert(size <= SMALL_MESSAGE_BYTES / 2, `${size} bytes`);
});

Deno.test("a consumer does not send an input larger than a provider's max_input_size; it tries the next", async () => {
  await using small = await startProvider(65_536);
  await using consumer = await KnarrNode.create({ host: "127.0.0.1", port: 0 });
  await consumer.start({ maintenance: false });
  await consumer.join([small.address]);
  const text = "w".repeat(100_000);
  const refused = await consumer.request("echo", { text }, { timeoutMs: 5000 });
  assertEquals(refused.status, "failed");
  assertEquals(refused.error?.code, "INPUT_TOO_LARGE");
  assertMatch(
    String(refused.error?.message),
    /Input is 1000\d\d bytes, larger than 65536, the most this provider takes/,
  );
  // No TASK_REQUEST reached the provider.
  assertEquals(small.metrics.tasks.recent().length, 0);
  assert(!small.metrics.registry.render().includes('type="TASK_REQUEST"'));
  assertEquals(small.stats.rejected["too large"], undefined);

  await using large = await startProvider(900_000);
  await large.join([small.address]);
  await consumer.join([large.address]);
  const served = await consumer.request("echo", { text }, { timeoutMs: 5000 });
  assertEquals(served.status, "completed");
  assertEquals(served.provider?.port, large.address.port);
});
