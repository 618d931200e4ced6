import { assert, assertEquals, assertMatch } from "./assert.ts";
import { knarr } from "./cli_helpers.ts";
import { KnarrNode } from "../src/node/mod.ts";
import { ECHO_SHEET } from "./fixtures/sheets.ts";

Deno.test("knarr query --trace prints each DHT lookup request to stderr and the results to stdout", async () => {
  const nodes: KnarrNode[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const n = await KnarrNode.create({ host: "127.0.0.1", port: 0 });
      await n.start({ maintenance: false });
      nodes.push(n);
    }
    const [a, b, c] = nodes as [KnarrNode, KnarrNode, KnarrNode];
    await b.join([a.address]);
    await c.join([a.address]);
    await c.announce(ECHO_SHEET);
    const start = performance.now();
    while ((a.stats.kademlia?.recordsStored ?? 0) < 1) {
      assert(performance.now() - start < 3000, "the record reaches a");
      await new Promise((r) => setTimeout(r, 10));
    }
    const r = await knarr([
      "query",
      "--bootstrap",
      `127.0.0.1:${a.address.port}`,
      "--name",
      "echo",
      "--trace",
    ]);
    assertEquals(r.code, 0, r.stderr);
    assertMatch(r.stdout, /^SKILL +PROVIDER/);
    assert(r.stdout.includes(`${c.nodeId.slice(0, 16)}...`));
    assertMatch(
      r.stderr,
      /trace: round 1 path 0: [0-9a-f]{16}\.\.\. at 127\.0\.0\.1:\d+: \d+ providers, \d+ peers \(\d+ ms\)/,
    );
    assertMatch(r.stderr, /answered by the DHT/);
  } finally {
    for (const n of nodes) await n.close();
  }
});
