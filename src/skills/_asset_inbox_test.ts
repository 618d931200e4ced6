import {
  assert,
  assertEquals,
  assertRejects,
  assertStrictEquals,
} from "../../tests/assert.ts";
import { AssetStore } from "../assets/mod.ts";
import { AssetInbox } from "./_asset_inbox.ts";

async function tempStore() {
  const dir = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "knarr_inbox_" }),
  );
  return {
    store: new AssetStore(`${dir}/assets`),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

Deno.test("AssetInbox.stageRefs() links stored refs into the inbox and leaves the rest", async () => {
  await using temp = await tempStore();
  const { store } = temp;
  const hash = await store.put(new TextEncoder().encode("x"));
  const inbox = await AssetInbox.create(store);
  const unknown = `knarr-asset://${"f".repeat(64)}`;
  const staged = await inbox.stageRefs({
    a: `knarr-asset://${hash}`,
    b: `knarr-asset://${hash}`,
    unknown,
    n: 1,
  });
  assertEquals(staged, {
    a: `${inbox.dir}/${hash}`,
    b: `${inbox.dir}/${hash}`,
    unknown,
    n: 1,
  });
  const source = await Deno.stat(store.pathOf(hash));
  assertStrictEquals((await Deno.stat(`${inbox.dir}/${hash}`)).ino, source.ino);
  await inbox.clear();
  assertEquals([...Deno.readDirSync(inbox.dir)], []);
  assertStrictEquals(await Deno.readTextFile(store.pathOf(hash)), "x");
  await inbox.remove();
  await inbox.remove();
  await assertRejects(() => Deno.stat(inbox.dir), Deno.errors.NotFound);
});

Deno.test("AssetInbox.stage() rejects a malformed hash and returns null for a missing asset", async () => {
  await using temp = await tempStore();
  const inbox = await AssetInbox.create(temp.store);
  await assertRejects(() => inbox.stage("../x"), TypeError);
  assertStrictEquals(await inbox.stage("0".repeat(64)), null);
  await inbox.remove();
});

Deno.test("AssetInbox.stage() copies when a hard link is refused (another file system)", async () => {
  await using temp = await tempStore();
  const hash = await temp.store.put(new TextEncoder().encode("copied"));
  const inbox = await AssetInbox.create(temp.store, {
    link: () =>
      Promise.reject(new Error("EXDEV: cross-device link not permitted")),
  });
  try {
    assertStrictEquals(await inbox.stage(hash), `${inbox.dir}/${hash}`);
    assertStrictEquals(
      await Deno.readTextFile(`${inbox.dir}/${hash}`),
      "copied",
    );
    const [staged, stored] = [
      Deno.statSync(`${inbox.dir}/${hash}`),
      Deno.statSync(temp.store.pathOf(hash)),
    ];
    assert(staged.ino !== stored.ino, "a copy, not a link");
  } finally {
    await inbox.remove();
  }
});
