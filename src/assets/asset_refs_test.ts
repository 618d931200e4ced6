import { assertEquals, assertStrictEquals } from "../../tests/assert.ts";
import { assetRefHash, resolveAssetRefs } from "./asset_refs.ts";
import { AssetStore } from "./asset_store.ts";

Deno.test("assetRefHash() accepts only knarr-asset:// and 64 lowercase hex", () => {
  const hash = "ab".repeat(32);
  assertStrictEquals(assetRefHash(`knarr-asset://${hash}`), hash);
  assertStrictEquals(assetRefHash(`knarr-asset://${hash.toUpperCase()}`), null);
  assertStrictEquals(assetRefHash(`knarr-asset://${hash}x`), null);
  assertStrictEquals(assetRefHash(` knarr-asset://${hash}`), null);
  assertStrictEquals(assetRefHash(42), null);
});

Deno.test("resolveAssetRefs() rewrites top-level references to stored assets only", async () => {
  const dir = await Deno.makeTempDir({ prefix: "knarr_refs_" });
  try {
    const store = new AssetStore(dir);
    const hash = await store.put(new TextEncoder().encode("data"));
    const missing = "0".repeat(64);
    const input = {
      file: `knarr-asset://${hash}`,
      gone: `knarr-asset://${missing}`,
      nested: { file: `knarr-asset://${hash}` },
      list: [`knarr-asset://${hash}`],
      text: "plain",
      n: 3,
    };
    const output = await resolveAssetRefs(input, store);
    assertEquals(output, {
      ...input,
      file: `${dir}/${hash}`,
    });
    assertStrictEquals(input.file, `knarr-asset://${hash}`); // not mutated
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
