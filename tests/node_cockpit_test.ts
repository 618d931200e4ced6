/** NodeCockpit: what the cockpit reads of a real node, and its actions there. */
import { join } from "node:path";
import { assert, assertEquals } from "./assert.ts";
import { AssetStore } from "../src/assets/mod.ts";
import { KnarrNode, NodeCockpit } from "../src/node/mod.ts";
import { ECHO_SHEET } from "./fixtures/sheets.ts";

Deno.test("NodeCockpit shows a node's skills, peers and assets, and disables, drops and deletes", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "knarr-node-cockpit-" });
  await using assets = new AssetStore(join(dir, "assets"), {
    maxTotalBytes: 1000,
  });
  await using node = await KnarrNode.create({
    host: "127.0.0.1",
    port: 0,
    assets,
  });
  await using peer = await KnarrNode.create({ host: "127.0.0.1", port: 0 });
  await node.start({ maintenance: false });
  await peer.start({ maintenance: false });
  await node.announce(ECHO_SHEET);
  node.registerHandler("echo", (i) => ({ text: String(i.text) }));
  await peer.join([node.address]);
  await peer.announce({ ...ECHO_SHEET, name: "upper", description: "Up" });
  const hash = await assets.put(new TextEncoder().encode("hello"));

  const view = new NodeCockpit(node, { version: "9.9.9" });
  view.noteReload("echo", "reloaded 12:00:00");
  view.addAddress("Relayed", "relay.x.example:9009");
  const info = view.node();
  assertEquals([info.nodeId, info.version], [node.nodeId, "9.9.9"]);
  assertEquals(info.addresses.map((a) => a.label), [
    "Listening",
    "Advertised",
    "Relayed",
  ]);
  assertEquals(
    view.ownSkills().map((s) => [s.name, s.enabled, s.reload]),
    [["echo", true, "reloaded 12:00:00"]],
  );
  assertEquals(
    view.knownSkills().map((s) => [s.name, s.provider, s.description]),
    [["upper", peer.nodeId, "Up"]],
  );
  assertEquals(view.peers().map((p) => [p.nodeId, p.skills]), [[
    peer.nodeId,
    1,
  ]]);
  assertEquals(view.assets(), {
    totalBytes: 5,
    quotaBytes: 1000,
    count: 1,
    ttlSeconds: 3600,
    items: [{
      hash,
      size: 5,
      uploadedAt: view.assets()!.items[0]!.uploadedAt,
      downloads: 0,
    }],
  });
  assertEquals(view.relay(), null);

  assertEquals(view.setSkillEnabled("upper", false), false, "not our skill");
  assertEquals(view.setSkillEnabled("echo", false), true);
  assertEquals(view.ownSkills()[0]!.enabled, false);
  assertEquals(node.skillSwitches.list(), ["echo"]);

  assertEquals(view.dropPeer("f".repeat(64)), false);
  assertEquals(view.dropPeer(peer.nodeId), true);
  assertEquals([view.peers(), view.knownSkills()], [[], []]);

  assertEquals(await view.deleteAsset(hash), true);
  assertEquals(await view.deleteAsset(hash), false);
  assertEquals(view.assets()!.count, 0);
  assert(view.metrics().includes("# TYPE knarr_tasks_total counter"));
});
