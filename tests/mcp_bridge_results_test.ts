/** McpBridge.call() against a server that answers with whatever bytes it is given. */
import { assert, assertEquals } from "./assert.ts";
import { McpBridge } from "../src/mcp/mod.ts";
import { encodeBase64 } from "./fuzz/base64.ts";

const REFLECT =
  new URL("./fuzz/mcp_reflect_server.ts", import.meta.url).pathname;

function reply(text: string, cuts: number[] = []) {
  return { reply: encodeBase64(new TextEncoder().encode(text)), cuts };
}

Deno.test("McpBridge.call() turns a result it cannot use into an error outcome instead of throwing", async () => {
  await using bridge = await McpBridge.start(
    `'${Deno.execPath()}' run --quiet '${REFLECT}'`,
    { storeAsset: () => Promise.resolve("0".repeat(64)) },
  );
  // Found by the fuzzer (mcp.call-result): an attachment nested past JSON.stringify's depth
  // made call() throw RangeError, though bridge faults are outcomes.
  const depth = 120_000;
  const deep = '{"a": ['.repeat(depth) + "1" + "]}".repeat(depth);
  const outcome = await bridge.call(
    "reflect",
    reply(
      `{"content": [{"type": "resource_link", "uri": "a:b", "name": "n", "_meta": ${deep}}]}`,
    ),
  );
  assertEquals(outcome.status, "error");
  // The bridge serves on, even with the answer split over many writes.
  const text = '{"content": [{"type": "text", "text": "still here"}]}';
  assertEquals(
    await bridge.call("reflect", reply(text, [1, 2, 3, 10, 30, 40])),
    { status: "ok", output: { content: "still here" } },
  );
});

Deno.test("McpBridge.call() fails a call at once when its reply is not valid JSON-RPC, and keeps the server", async () => {
  await using bridge = await McpBridge.start(
    `'${Deno.execPath()}' run --quiet '${REFLECT}'`,
    { timeoutMs: 20_000 },
  );
  const pid = bridge.pid;
  // Found by the fuzzer (mcp.call-result): a reply whose `_meta` is not an object failed the
  // SDK's JSON-RPC schema, was dropped as junk, and the call waited for its timeout, which
  // then killed and restarted the server.
  const started = performance.now();
  const outcome = await bridge.call(
    "reflect",
    reply('{"content": [], "_meta": "not an object"}'),
  );
  assertEquals(outcome.status, "error");
  assert(
    performance.now() - started < 5_000,
    "the call waited for its timeout",
  );
  assertEquals(bridge.pid, pid);
});
