/** `knarr serve` with `[network] relay`: announced through the relay, and `knarr request` reaches it. */
import { join } from "node:path";
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { knarr, knarrRequest, serve } from "./cli_helpers.ts";
import { startRelay } from "./relay_helpers.ts";

Deno.test("knarr serve with [network] relay prints and announces its relayed address, and serves tasks through it", async () => {
  await using relay = await startRelay();
  const cwd = Deno.makeTempDirSync({ prefix: "knarr-relayed-" });
  try {
    assertEquals((await knarr(["init", "p"], { cwd })).code, 0);
    const dir = join(cwd, "p");
    const file = join(dir, "knarr.toml");
    const text = await Deno.readTextFile(file);
    assert(text.includes("[network]\n"));
    await Deno.writeTextFile(
      file,
      text.replace(
        "[network]\n",
        `[network]\nrelay = "127.0.0.1:${relay.port}"\n`,
      ),
    );
    const node = await serve(dir);
    let stopped = false;
    try {
      const nodeId = node.lines[0]!.slice("Node ID: ".length);
      const relayed = `relay.${nodeId}.127.0.0.1:${relay.port}`;
      assert(
        node.lines.includes(`Relayed address: ${relayed}`),
        node.lines.join("\n"),
      );
      const q = await knarr([
        "query",
        "--bootstrap",
        `127.0.0.1:${node.port}`,
        "--name",
        "echo",
        "--json",
      ]);
      assertEquals(q.code, 0, q.stderr);
      assertMatch(q.stdout, new RegExp(`relay\\.${nodeId}\\.127\\.0\\.0\\.1`));
      const forwardedBefore = relay.metrics.forwarded;
      const r = await knarrRequest(node.port, "echo", '{"text":"relayed"}');
      assertEquals(r.code, 0, r.stderr);
      assertMatch(r.stdout, /relayed/);
      // The task request and its result went through the relay.
      assert(relay.metrics.forwarded >= forwardedBefore + 2);
      const { code } = await node.stop();
      stopped = true;
      assertEquals(code, 0);
    } finally {
      if (!stopped) await node.stop();
    }
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});
