import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStrictEquals,
  assertThrows,
} from "../../tests/assert.ts";
import { sha256Hex } from "../util/mod.ts";
import { AssetStore } from "./asset_store.ts";

async function withStore(
  fn: (store: AssetStore, dir: string) => Promise<void>,
  options = {},
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "knarr_assets_" });
  try {
    await fn(new AssetStore(`${dir}/assets`, options), `${dir}/assets`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("AssetStore.put() stores bytes under their SHA-256 and get() finds them", async () => {
  await withStore(async (store, dir) => {
    const bytes = new TextEncoder().encode("hello asset");
    const hash = await store.put(bytes);
    assertStrictEquals(hash, await sha256Hex(bytes));
    assertStrictEquals(await store.get(hash), `${dir}/${hash}`);
    assertEquals(await Deno.readFile(`${dir}/${hash}`), bytes);
    assert(await store.has(hash));
  });
});

Deno.test("AssetStore.put() is idempotent and leaves no temporary files", async () => {
  await withStore(async (store, dir) => {
    const bytes = new Uint8Array([1, 2, 3]);
    const [a, b] = await Promise.all([store.put(bytes), store.put(bytes)]);
    assertStrictEquals(a, b);
    assertStrictEquals(await store.put(bytes), a);
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assertEquals(names, [a]);
  });
});

Deno.test("AssetStore.get() returns null for an asset that is not stored", async () => {
  await withStore(async (store) => {
    assertStrictEquals(await store.get("0".repeat(64)), null);
    assertStrictEquals(await store.has("0".repeat(64)), false);
  });
});

Deno.test("AssetStore rejects hashes that are not 64 lowercase hex", async (t) => {
  await withStore(async (store) => {
    for (
      const bad of [
        "",
        "abc",
        "A".repeat(64),
        "g".repeat(64),
        "../etc/passwd",
        `${"0".repeat(63)}/`,
      ]
    ) {
      await t.step(JSON.stringify(bad), async () => {
        assertThrows(() => store.pathOf(bad), TypeError);
        await assertRejects(() => store.get(bad), TypeError);
      });
    }
  });
});

Deno.test("AssetStore.put() refuses assets over maxBytes", async () => {
  await withStore(async (store) => {
    await assertRejects(() => store.put(new Uint8Array(11)), (e: Error) => {
      assert(e instanceof RangeError);
      assertMatch(e.message, /11 bytes exceeds maximum 10/);
      return true;
    });
  }, { maxBytes: 10 });
});
