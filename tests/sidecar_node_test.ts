/** KnarrNode with assets and sidecars: the programmatic API and the provider fetching from its caller. */
import { createHash } from "node:crypto";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { AssetStore } from "../src/assets/mod.ts";
import { KnarrNode } from "../src/node/mod.ts";
import type { JsonObject } from "../src/wire/mod.ts";

const SHEET = {
  version: "1.0.0",
  description: "Hashes a file",
  tags: ["binary"],
  inputSchema: { file: "string" },
  outputSchema: { sha256: "string", copy: "string" },
  price: 1,
  maxInputSize: 65536,
};

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

async function assetNode(dir: string, name: string): Promise<KnarrNode> {
  const node = await KnarrNode.create({
    host: "127.0.0.1",
    assets: new AssetStore(`${dir}/${name}`),
    sidecar: { port: 0 },
  });
  await node.start({ maintenance: false });
  return node;
}

Deno.test("KnarrNode fetches a caller's asset from its sidecar, and the caller downloads the output", async () => {
  const dir = await Deno.makeTempDir({ prefix: "knarr-sidecar-node-" });
  try {
    await using provider = await assetNode(dir, "provider");
    await using caller = await assetNode(dir, "caller");
    assert(provider.sidecar!.port > 0);
    // In-process handlers see local paths; the output names a new asset.
    await provider.announce({ name: "digest", ...SHEET });
    provider.registerHandler("digest", async (input) => {
      const bytes = await Deno.readFile(String(input.file));
      const copy = await provider.assets!.put(bytes.toReversed());
      return { sha256: sha256(bytes), copy: `knarr-asset://${copy}` };
    });
    // The caller announces a skill too, which tells the provider its sidecar port.
    await caller.announce({ name: "noop", ...SHEET });
    await caller.join([provider.address]);
    await caller.announce({ name: "noop", ...SHEET });
    // SYNC_RESPONSE carried the provider's port, ANNOUNCE the caller's.
    assertEquals(
      caller.discovery.skills.get("digest", provider.nodeId)?.sidecarPort,
      provider.sidecar!.port,
    );
    assertEquals(
      provider.discovery.skills.get("noop", caller.nodeId)?.sidecarPort,
      caller.sidecar!.port,
    );
    const [found] = await caller.query({ name: "digest" });
    assertEquals(found?.sidecar_port, provider.sidecar!.port);

    const bytes = new Uint8Array(200_000).map((_, i) => i % 253);
    const hash = await caller.assets!.put(bytes);
    const outcome = await caller.request("digest", {
      file: `knarr-asset://${hash}`,
    });
    assertEquals(outcome.status, "completed", JSON.stringify(outcome.error));
    assertEquals(outcome.output_data.sha256, hash);
    assert(await provider.assets!.has(hash), "the provider fetched the input");

    const copyHash = String(outcome.output_data.copy).slice(
      "knarr-asset://".length,
    );
    const local = await caller.downloadAsset(outcome.provider!, copyHash);
    assertEquals(await Deno.readFile(local.path), bytes.toReversed());
    assertEquals(local.path, caller.assets!.pathOf(copyHash));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("KnarrNode.uploadAsset() and downloadAsset() to a path; a node without a sidecar is refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "knarr-sidecar-node-" });
  try {
    await using provider = await assetNode(dir, "provider");
    await using caller = await KnarrNode.create({ host: "127.0.0.1" });
    const peer = {
      node_id: provider.nodeId,
      host: "127.0.0.1",
      sidecar_port: provider.sidecar!.port,
    };
    const bytes = new TextEncoder().encode("programmatic asset");
    const up = await caller.uploadAsset(peer, bytes);
    assertEquals(up, {
      hash: sha256(bytes),
      size: bytes.length,
      uploaded: true,
    });
    const down = await caller.downloadAsset(peer, up.hash, `${dir}/copy`);
    assertEquals(down, { path: `${dir}/copy`, size: bytes.length });
    assertEquals(await Deno.readFile(`${dir}/copy`), bytes);
    await assertRejects(
      () => caller.uploadAsset({ ...peer, sidecar_port: 0 }, bytes),
      /announces no asset sidecar/,
    );
    await assertRejects(
      () => caller.downloadAsset(peer, up.hash),
      /has no asset directory/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("KnarrNode retains assets named in a task result past their TTL until downloaded", async () => {
  const dir = await Deno.makeTempDir({ prefix: "knarr-sidecar-node-" });
  let now = 1_000_000;
  const clock = { now: () => now };
  try {
    const assets = new AssetStore(`${dir}/a`, { ttlSeconds: 100, clock });
    await using node = await KnarrNode.create({ host: "127.0.0.1", assets });
    await node.start({ maintenance: false });
    const old = await assets.put(new TextEncoder().encode("made long ago"));
    await node.announce({ name: "name-old", ...SHEET });
    node.registerHandler("name-old", (): JsonObject => ({
      copy: `knarr-asset://${old}`,
    }));
    now += 150;
    await node.callLocal("name-old", {});
    assertEquals(await assets.sweep(), [], "named in a result: kept");
    (await assets.openRead(old))!.file.close();
    assertEquals(
      await assets.sweep(),
      [old],
      "downloaded: the TTL applies again",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
